"""The server side of the browser extension: /me, extension check fields, click-time evidence,
page-only checks resolved by the server, and CORS for extension origins."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from rest_framework.test import APIClient

from authcheck.models import AuditEvent, Check, Role
from authcheck.services import processing
from authcheck.services.evidence import screenshot_path
from tests.api.helpers import problem
from tests.factories import UserFactory, token_for
from tests.mediagen import make_image
from tests.pipeline.test_fetch import TestServer

pytestmark = pytest.mark.django_db


def png_data_url(size: tuple[int, int] = (40, 30), fmt: str = "PNG") -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format=fmt)
    raw = buffer.getvalue()
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}", raw


@pytest.fixture
def server() -> Iterator[TestServer]:
    srv = TestServer()
    yield srv
    srv.close()


def post(client: APIClient, body: dict, **extra: str):
    return client.post("/api/v1/checks", json.dumps(body), content_type="application/json", **extra)


# --- GET /me -----------------------------------------------------------------------------------


def test_me_names_the_user_role_and_token(journalist) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(journalist, name='laptop')}")
    body = client.get("/api/v1/me").json()
    assert body["service"] == "authcheck" and body["user"] == "jo"
    assert body["role"] == Role.JOURNALIST and body["can_submit"] is True
    assert body["token"]["name"] == "laptop" and body["token"]["prefix"]


def test_me_says_an_editor_cannot_submit(ed) -> None:
    assert ed.get("/api/v1/me").json()["can_submit"] is False


def test_me_without_or_with_a_bad_token_is_401() -> None:
    problem(APIClient().get("/api/v1/me"), 401, "not_authenticated")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer ac_nope_nope")
    problem(bad.get("/api/v1/me"), 401, "authentication_failed")


def test_me_refuses_an_account_without_role(client_for) -> None:
    nobody = UserFactory(username="nobody", role="")
    problem(client_for(nobody).get("/api/v1/me"), 403, "permission_denied")


# --- extension fields and evidence ---------------------------------------------------------------


def test_extension_fields_are_stored_and_shown(jo, enqueued) -> None:
    response = post(
        jo,
        {
            "url": "https://cdn.example/v.mp4",
            "page_url": "https://news.example/story",
            "page_title": "Flood\u0007 in town",
            "element": "video",
            "client": "extension",
        },
    )
    assert response.status_code == 202
    source = response.json()["source"]
    assert source["page_title"] == "Flood in town" and source["element"] == "video"
    assert source["page_only"] is False and response.json()["evidence"] is None


def test_evidence_is_stored_with_hashes_and_its_hashes_are_audited(jo, enqueued) -> None:
    data_url, raw = png_data_url()
    evidence = {
        "clicked_at": "2026-12-01T20:00:00Z",
        "media": {"tag": "video", "current_src": "https://cdn.example/v.mp4", "width": 640,
                  "height": 360, "current_time": 12.5, "poster": "https://cdn.example/p.jpg"},
        "screenshot": data_url,
    }  # fmt: skip
    response = post(jo, {"url": "https://cdn.example/v.mp4", "evidence": evidence})
    assert response.status_code == 202, response.content
    body = response.json()
    bundle = body["evidence"]
    digest = hashlib.sha256(raw).hexdigest()
    assert bundle["screenshot"] == {
        "sha256": digest,
        "size": len(raw),
        "mime": "image/png",
        "width": 40,
        "height": 30,
    }
    assert bundle["media"]["current_time"] == 12.5 and bundle["clicked_at"].startswith("2026-12-01")
    assert screenshot_path(digest).read_bytes() == raw
    unhashed = {k: v for k, v in bundle.items() if k != "sha256"}
    canonical = json.dumps(unhashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert bundle["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    created = AuditEvent.objects.get(check_id=body["id"], action="check.created")
    audited = json.loads(created.body)["data"]["evidence"]
    assert audited == {"sha256": bundle["sha256"], "screenshot_sha256": digest}
    served = jo.get(body["links"]["evidence_screenshot"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == raw
    assert "sandbox" in served["Content-Security-Policy"]


def test_page_strings_with_nul_controls_and_lone_surrogates_are_stripped_not_refused(
    jo, enqueued
) -> None:
    hostile = "Fl\u0000o\u0007od\ud800"
    evidence = {"clicked_at": "2026-12-01T20:00:00Z", "media": {"current_src": hostile}}
    body = {"url": "https://cdn.example/v.mp4", "page_title": hostile, "evidence": evidence}
    response = jo.post(
        "/api/v1/checks", json.dumps(body, ensure_ascii=True), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["source"]["page_title"] == "Flood?"
    assert created["evidence"]["media"]["current_src"] == "Flood?"


def test_another_journalist_cannot_read_the_screenshot(jo, client_for, enqueued) -> None:
    data_url, _ = png_data_url()
    body = post(
        jo, {"url": "https://cdn.example/v.mp4",
             "evidence": {"clicked_at": "2026-12-01T20:00:00Z", "screenshot": data_url}},
    ).json()  # fmt: skip
    other = client_for(UserFactory(username="al", role=Role.JOURNALIST))
    problem(other.get(body["links"]["evidence_screenshot"]), 404, "not_found")


@pytest.mark.parametrize(
    ("screenshot", "status", "code"),
    [
        ("data:image/png;base64,@@@", 422, "evidence_invalid"),
        ("data:image/png;base64,AAAA", 422, "evidence_invalid"),
        ("data:image/gif;base64,R0lGODlh", 400, "validation_error"),
        ("data:image/png;base64," + base64.b64encode(b"<svg onload=x>").decode(), 422,
         "evidence_invalid"),
    ],
)  # fmt: skip
def test_bad_screenshots_are_refused_and_nothing_is_created(
    jo, enqueued, screenshot, status, code
) -> None:
    evidence = {"clicked_at": "2026-12-01T20:00:00Z", "screenshot": screenshot}
    problem(post(jo, {"url": "https://cdn.example/v.mp4", "evidence": evidence}), status, code)
    assert Check.objects.count() == 0


def test_a_jpeg_declared_as_png_is_refused(jo, enqueued) -> None:
    data_url, _ = png_data_url(fmt="JPEG")
    lying = data_url.replace("image/jpeg", "image/png", 1)
    evidence = {"clicked_at": "2026-12-01T20:00:00Z", "screenshot": lying}
    problem(post(jo, {"url": "https://cdn.example/v.mp4", "evidence": evidence}), 422,
            "evidence_invalid")  # fmt: skip


def test_a_screenshot_over_the_cap_is_413(jo, enqueued, settings) -> None:
    settings.AUTHCHECK_EVIDENCE_MAX_BYTES = 100
    data_url, _ = png_data_url(size=(200, 200))
    evidence = {"clicked_at": "2026-12-01T20:00:00Z", "screenshot": data_url}
    problem(post(jo, {"url": "https://cdn.example/v.mp4", "evidence": evidence}), 413,
            "evidence_too_large")  # fmt: skip


@pytest.mark.parametrize(
    "evidence",
    [
        {"media": {"width": 10}},
        {"clicked_at": "yesterday"},
        {"clicked_at": "2026-12-01T20:00:00Z", "media": {"width": -1}},
        {"clicked_at": "2026-12-01T20:00:00Z", "media": {"current_src": "x" * 5000}},
    ],
)
def test_malformed_evidence_is_a_validation_error(jo, enqueued, evidence) -> None:
    problem(post(jo, {"url": "https://cdn.example/v.mp4", "evidence": evidence}), 400,
            "validation_error")  # fmt: skip


# --- page-only checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"page_only": True},
        {"page_only": True, "page_url": "https://news.example/", "url": "https://c.example/v"},
    ],
)
def test_page_only_needs_the_page_url_and_nothing_else(jo, enqueued, body) -> None:
    problem(post(jo, body), 400, "validation_error")


def test_page_only_page_urls_get_the_url_checks(jo, enqueued) -> None:
    problem(post(jo, {"page_only": True, "page_url": "http://169.254.169.254/"}), 422,
            "url_blocked")  # fmt: skip


def test_a_page_only_check_is_resolved_through_og_video(
    jo, enqueued, server: TestServer, settings, tmp_path: Path
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    jpeg = make_image(tmp_path / "still.jpg", size=(48, 32)).read_bytes()
    server.body("/still.jpg", jpeg)
    page = f'<meta property="og:video" content="{server.url("/still.jpg")}"><video src="blob:x">'
    server.body("/watch", page.encode(), content_type="text/html")
    created = post(jo, {"page_only": True, "page_url": server.url("/watch"), "element": "video"})
    assert created.status_code == 202 and created.json()["stages"][0]["name"] == "resolve"
    assert processing.check_process(created.json()["id"]) == "done"
    body = jo.get(f"/api/v1/checks/{created.json()['id']}").json()
    assert body["source"]["url"] == server.url("/still.jpg")
    assert body["source"]["resolution"]["chosen"]["source"] == "og:video"
    assert body["media"]["sha256"] == hashlib.sha256(jpeg).hexdigest()
    assert {s["name"]: s["state"] for s in body["stages"]}["resolve"] == "done"
    actions = list(AuditEvent.objects.filter(check_id=body["id"]).values_list("action", flat=True))
    assert "check.resolved" in actions


def test_a_clicked_link_is_followed_to_the_media_its_page_shows(
    jo, enqueued, server: TestServer, settings, tmp_path: Path
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    jpeg = make_image(tmp_path / "in-post.jpg", size=(40, 30)).read_bytes()
    server.body("/photo.jpg", jpeg)
    ld = {"@type": "ImageObject", "contentUrl": server.url("/photo.jpg")}
    post_page = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    server.body("/post/1", post_page.encode(), content_type="text/html")
    linked = post(jo, {"url": server.url("/post/1"), "element": "link"}).json()
    direct = post(jo, {"url": server.url("/photo.jpg"), "element": "link"}).json()
    for created in (linked, direct):
        assert processing.check_process(created["id"]) == "done"
    via_page, itself = (jo.get(f"/api/v1/checks/{c['id']}").json() for c in (linked, direct))
    assert via_page["source"]["resolution"]["chosen"]["source"] == "JSON-LD ImageObject.contentUrl"
    assert via_page["source"]["url"] == server.url("/photo.jpg")
    assert itself["source"]["resolution"]["chosen"]["source"] == "the URL is media itself"
    assert via_page["media"]["sha256"] == itself["media"]["sha256"]


def test_a_page_without_media_fails_as_media_not_found_on_page(
    jo, enqueued, server: TestServer, settings
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    server.body("/empty", b"<!doctype html><title>nothing</title>")
    created = post(jo, {"page_only": True, "page_url": server.url("/empty")}).json()
    assert processing.check_process(created["id"]) == "failed"
    body = jo.get(f"/api/v1/checks/{created['id']}").json()
    assert body["status"] == "failed" and body["error"]["code"] == "media_not_found_on_page"
    assert body["verdict"]["label"] == "error"


# --- CORS for extension origins ---------------------------------------------------------------

FIREFOX = "moz-extension://6f1b2c3d-0000-4000-8000-1234567890ab"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (FIREFOX, True),
        ("moz-extension://another-install-uuid", True),
        ("chrome-extension://abcdefghijklmnopabcdefghijklmnop", False),
        ("moz-extension://x.evil.example", False),
        ("moz-extension://abc:8000", False),
        ("https://moz-extension.evil", False),
        ("https://evil.example", False),
    ],
)
def test_a_wildcard_allows_any_firefox_install_and_nothing_else(
    settings, jo, origin: str, allowed: bool
) -> None:
    settings.AUTHCHECK_EXTENSION_ORIGINS = ["moz-extension://*"]
    response = jo.get("/api/v1/me", HTTP_ORIGIN=origin)
    assert response.status_code == 200
    assert response.get("Access-Control-Allow-Origin") == (origin if allowed else None)
    assert "Access-Control-Allow-Credentials" not in response


def test_a_wildcard_for_web_origins_means_nothing(settings, jo) -> None:
    settings.AUTHCHECK_EXTENSION_ORIGINS = ["https://*", "*"]
    response = jo.get("/api/v1/me", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
