"""``POST /verify`` (synchronous C2PA report) and ``GET /media/{sha256}``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from authcheck.models import Role, User
from authcheck.services.tokens import token_create
from authcheck.services.trust import trust_cache_clear
from tests.api.helpers import problem
from tests.c2pa_fixtures import flip_signature, signed_jpeg, test_ca
from tests.factories import DoneCheckFactory, SignalFactory, UserFactory, VerdictFactory
from tests.live import database_url, gunicorn

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/verify"


@pytest.fixture
def trusted_ca(settings, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(test_ca().root_pem)
    settings.AUTHCHECK_TRUST_ANCHORS = [str(anchors)]
    trust_cache_clear()
    yield
    trust_cache_clear()


def send(client, path: Path, name: str | None = None):
    handle = io.BytesIO(path.read_bytes())
    handle.name = name or path.name
    return client.post(VERIFY, {"file": handle}, format="multipart")


def test_a_signed_jpeg_is_trusted_under_the_test_ca(jo, trusted_ca, tmp_path) -> None:
    path = signed_jpeg(tmp_path / "signed.jpg")
    response = send(jo, path)
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["state"] == "trusted" and report["file"] == "signed.jpg"
    assert report["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report["active_manifest"]["signer"]["common_name"] == "authcheck Test Signer"
    assert report["mime"] == "image/jpeg" and report["failures"] == []


def test_a_flipped_signature_is_invalid_with_its_failure_code(jo, trusted_ca, tmp_path) -> None:
    path = signed_jpeg(tmp_path / "flipped.jpg")
    flip_signature(path)
    report = send(jo, path).json()
    assert report["state"] == "invalid"
    assert "claimSignature.mismatch" in [f["code"] for f in report["failures"]]


def test_without_anchors_a_signed_file_is_only_valid(jo, tmp_path, settings) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = []
    trust_cache_clear()
    assert send(jo, signed_jpeg(tmp_path / "s.jpg")).json()["state"] == "valid"


@pytest.mark.parametrize(
    "data", [b"", b"\x00", b"<html><script>alert(1)</script></html>", b"#EXTM3U\n/etc/passwd\n"]
)
def test_non_media_is_reported_unsupported_and_nothing_is_left_behind(jo, data, settings):
    handle = io.BytesIO(data)
    handle.name = "<img src=x onerror=alert(1)>.jpg"
    report = jo.post(VERIFY, {"file": handle}, format="multipart").json()
    assert report["state"] == "unsupported" and report["mime"] is None
    assert report["error"]["code"] == "unsupported_media"
    assert report["file"] == "<img src=x onerror=alert(1)>.jpg"
    assert not [p for p in Path(settings.UPLOAD_TMP_DIR).rglob("*") if p.is_file()]


def test_verify_needs_a_multipart_file(jo) -> None:
    problem(jo.post(VERIFY, {}, format="multipart"), 400, "validation_error")
    problem(jo.post(VERIFY, {"file": "text"}, format="json"), 415, "unsupported_media_type")


def test_verify_over_the_cap_is_413(jo, tmp_path, settings) -> None:
    path = signed_jpeg(tmp_path / "big.jpg")
    settings.AUTHCHECK_MAX_UPLOAD_BYTES = path.stat().st_size - 1
    problem(send(jo, path), 413, "too_large")


def test_verify_with_two_files_is_refused(jo, tmp_path) -> None:
    files = []
    for name in ("a.jpg", "b.jpg"):
        handle = io.BytesIO(b"\xff\xd8\xff")
        handle.name = name
        files.append(handle)
    problem(jo.post(VERIFY, {"file": files}, format="multipart"), 400, "too_many_files")


@pytest.mark.parametrize("bad", ["abc", "g" * 64, "a" * 63, "a" * 65, "a" * 62 + "%20%20"])
def test_a_malformed_sha256_is_400_invalid_sha256(jo, bad) -> None:
    problem(jo.get(f"/api/v1/media/{bad}"), 400, "invalid_sha256")


def test_an_unknown_sha256_is_404(jo) -> None:
    problem(jo.get(f"/api/v1/media/{'0' * 64}"), 404, "not_found")


def test_media_report_with_own_verdict_and_uppercase_hash(jo, journalist) -> None:
    check = DoneCheckFactory(submitter=journalist)
    SignalFactory(media=check.media)
    body = jo.get(f"/api/v1/media/{check.media.sha256.upper()}").json()
    assert body["media"]["sha256"] == check.media.sha256
    assert body["check_id"] == check.pk and body["verdict"]["label"] == "no_provenance"
    assert [s["detector"] for s in body["signals"]] == ["ai_labels"]
    assert body["links"]["self"] == f"/api/v1/media/{check.media.sha256}"


def test_someone_elses_media_shows_only_the_automated_verdict(jo, editor) -> None:
    check = DoneCheckFactory(submitter=UserFactory(username="other"))
    VerdictFactory(
        check_ref=check, author=editor, label="", decision="synthetic", rule="review",
        note="secret newsroom reasoning",
    )  # fmt: skip
    body = jo.get(f"/api/v1/media/{check.media.sha256}").json()
    assert body["check_id"] is None
    assert body["verdict"]["kind"] == "automated" and body["verdict"]["reviewer"] is None
    assert "secret newsroom reasoning" not in str(body)


# --- the raw body: the file as the whole request, declared with its media type --------------


def send_raw(client, data: bytes, content_type: str, **extra):
    return client.generic("POST", VERIFY, data, content_type=content_type, **extra)


def test_a_raw_body_gives_the_same_report_as_multipart(jo, trusted_ca, tmp_path) -> None:
    path = signed_jpeg(tmp_path / "signed.jpg")
    named = {"HTTP_CONTENT_DISPOSITION": 'attachment; filename="signed.jpg"'}
    raw = send_raw(jo, path.read_bytes(), "image/jpeg", **named)
    assert raw.status_code == 200, raw.content
    report = raw.json()
    assert report["state"] == "trusted" and report["file"] == "signed.jpg"
    assert report["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report == send(jo, path).json()
    # Without a Content-Disposition the report names the file "upload", as multipart does.
    assert send_raw(jo, path.read_bytes(), "application/octet-stream").json()["file"] == "upload"


def test_the_declared_type_of_a_raw_body_is_never_trusted(jo, trusted_ca, tmp_path) -> None:
    path = signed_jpeg(tmp_path / "signed.jpg")
    report = send_raw(jo, path.read_bytes(), "video/mp4").json()
    assert report["mime"] == "image/jpeg" and report["state"] == "trusted"
    html = send_raw(jo, b"<html><script>alert(1)</script></html>", "image/jpeg").json()
    assert html["state"] == "unsupported" and html["error"]["code"] == "unsupported_media"


@pytest.mark.parametrize(
    "disposition",
    [
        "attachment; filename*=foo''x",
        "attachment; filename*=utf-8''%ff%fe",
        'attachment; filename="',
    ],
)
def test_a_malformed_content_disposition_names_the_file_upload_and_is_no_500(
    jo, trusted_ca, tmp_path, disposition
) -> None:
    path = signed_jpeg(tmp_path / "signed.jpg")
    raw = send_raw(jo, path.read_bytes(), "image/jpeg", HTTP_CONTENT_DISPOSITION=disposition)
    assert raw.status_code == 200, raw.content
    assert raw.json()["state"] == "trusted"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "text/html", ""])
def test_a_raw_body_of_a_wrong_or_missing_type_is_415(jo, tmp_path, content_type) -> None:
    data = signed_jpeg(tmp_path / "signed.jpg").read_bytes()
    problem(send_raw(jo, data, content_type), 415, "unsupported_media_type")


def test_a_raw_body_over_the_cap_is_413_and_leaves_nothing(jo, tmp_path, settings) -> None:
    data = signed_jpeg(tmp_path / "big.jpg").read_bytes()
    settings.AUTHCHECK_MAX_UPLOAD_BYTES = len(data) - 1
    problem(send_raw(jo, data, "image/jpeg"), 413, "too_large")
    assert not [p for p in Path(settings.UPLOAD_TMP_DIR).rglob("*") if p.is_file()]
    settings.AUTHCHECK_MAX_UPLOAD_BYTES = len(data)
    assert send_raw(jo, data, "image/jpeg").status_code == 200


def test_an_empty_raw_body_is_an_empty_file(jo, settings) -> None:
    handle = io.BytesIO(b"")
    handle.name = "upload"
    multipart = jo.post(VERIFY, {"file": handle}, format="multipart").json()
    report = send_raw(jo, b"", "image/jpeg").json()
    assert report["state"] == "unsupported" and report["size"] == 0
    assert report["error"]["message"] == "the file is empty"
    assert report == multipart
    assert not [p for p in Path(settings.UPLOAD_TMP_DIR).rglob("*") if p.is_file()]


def test_the_schema_documents_both_forms_of_the_body() -> None:
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    content = schema["paths"]["/api/v1/verify"]["post"]["requestBody"]["content"]
    assert set(content) == {
        "multipart/form-data",
        "image/*",
        "video/*",
        "audio/*",
        "application/pdf",
        "application/octet-stream",
    }
    assert content["video/*"]["schema"] == {"type": "string", "format": "binary"}


def _answer(base: str, request: bytes) -> tuple[bytes, bytes]:
    """One request on its own connection (the test server's sync worker closes after each)."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return head, body


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_raw_bodies_through_a_real_server_and_chunked_is_411(tmp_path: Path) -> None:
    user = User.objects.create(username="raw", role=Role.API_CLIENT)
    _, token = token_create(user=user, name="raw")
    data = signed_jpeg(tmp_path / "signed.jpg").read_bytes()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "AUTHCHECK_DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "",
    }
    head = (
        f"POST /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: image/jpeg\r\nConnection: close\r\n"
    ).encode()
    with gunicorn(env) as base:
        sent = head + f"Content-Length: {len(data)}\r\n\r\n".encode() + data
        status, body = _answer(base, sent)
        assert status.startswith(b"HTTP/1.1 200"), status
        report = json.loads(body)
        assert report["sha256"] == hashlib.sha256(data).hexdigest()
        assert report["state"] == "valid" and report["mime"] == "image/jpeg"
        chunked = head + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        status, body = _answer(base, chunked)
    assert status.startswith(b"HTTP/1.1 411"), status
    assert b"application/problem+json" in status and b'"length_required"' in body
