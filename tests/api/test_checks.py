"""Submitting, listing and reading checks over the API, with every bad input answered 4xx."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from authcheck.models import Check, CheckStatus, Media, Role
from authcheck.services import processing
from authcheck.services.checks import URL_STAGES
from tests.api.helpers import problem
from tests.factories import CheckFactory, DoneCheckFactory, UserFactory, VerdictFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/checks"


def upload(path: Path, name: str | None = None) -> dict[str, object]:
    handle = io.BytesIO(path.read_bytes())
    handle.name = name or path.name
    return {"file": handle}


def test_a_url_is_queued_with_202_location_and_links(jo, enqueued, committed) -> None:
    data = {"url": "https://news.example/clip.mp4", "page_url": "https://news.example/a"}
    with committed(execute=True):
        response = jo.post(LIST, data, format="json")
    assert response.status_code == 202
    body = response.json()
    check = Check.objects.get(pk=body["id"])
    assert body["status"] == "queued" and enqueued == [check.pk]
    assert response["Location"] == f"/api/v1/checks/{check.pk}" == body["links"]["self"]
    assert body["source"] == {
        "type": "url",
        "url": "https://news.example/clip.mp4",
        "page_url": "https://news.example/a",
        "page_title": None,
        "filename": None,
        "element": None,
        "page_only": False,
        "resolution": None,
    }
    assert [s["name"] for s in body["stages"]] == list(URL_STAGES)
    assert check.client == "api" and check.submitter.username == "jo"


def test_the_extension_says_it_is_the_extension(jo, enqueued) -> None:
    response = jo.post(
        LIST, {"url": "https://news.example/v", "client": "extension"}, format="json"
    )
    assert response.json()["client"] == "extension"
    bad = jo.post(LIST, {"url": "https://news.example/v", "client": "cli"}, format="json")
    assert "client" in problem(bad, 400, "validation_error")["errors"]


def test_an_upload_is_queued_and_its_media_stored_once(jo, jpeg, enqueued, committed) -> None:
    with committed(execute=True):
        response = jo.post(
            LIST, {**upload(jpeg, "holiday.jpg"), "note": "from X"}, format="multipart"
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["source"]["type"] == "upload" and body["source"]["filename"] == "holiday.jpg"
    assert body["media"]["mime"] == "image/jpeg" and body["note"] == "from X"
    assert Media.objects.get().sha256 == body["media"]["sha256"]
    assert body["links"]["media"] == f"/api/v1/media/{body['media']['sha256']}"
    assert enqueued == [body["id"]]


def test_full_in_process_path_then_a_resubmission_answers_at_once(
    jo, jpeg, enqueued, committed, settings
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    with committed(execute=True):
        first = jo.post(LIST, upload(jpeg), format="multipart").json()
    assert processing.check_process(first["id"]) == "done"
    done = jo.get(f"{LIST}/{first['id']}").json()
    assert done["status"] == "done"
    assert done["verdict"]["label"] == "no_provenance" and done["verdict"]["kind"] == "automated"
    assert done["provenance"]["state"] == "absent"
    assert {s["state"] for s in done["stages"]} <= {"done", "skipped"}
    assert [sig["detector"] for sig in done["signals"]] == ["ai_labels"]
    with committed(execute=True):
        again = jo.post(LIST, upload(jpeg), format="multipart")
    assert again.status_code == 200
    assert again.json()["status"] == "done" and again.json()["verdict"]["label"] == "no_provenance"
    assert enqueued == [first["id"]]


@pytest.mark.parametrize(
    "payload",
    [{}, {"note": "only a note"}, {"url": ""}, {"url": ["https://a.example/"]}, {"url": None}],
)
def test_neither_source_is_a_validation_error(jo, payload, enqueued) -> None:
    problem(jo.post(LIST, payload, format="json"), 400, "validation_error")
    assert not Check.objects.exists()


def test_both_a_url_and_a_file_is_a_validation_error(jo, jpeg, enqueued) -> None:
    data = {**upload(jpeg), "url": "https://news.example/clip.mp4"}
    body = problem(jo.post(LIST, data, format="multipart"), 400, "validation_error")
    assert body["errors"] == {"non_field_errors": ["give exactly one of url or file"]}
    assert not Check.objects.exists() and not Media.objects.exists()


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://[::1", "url_invalid"),
        ("javascript:alert(1)", "url_scheme"),
        ("file:///etc/passwd", "url_scheme"),
        ("http://127.0.0.1/", "url_blocked"),
        ("http://2130706433/", "url_blocked"),
        ("http://localhost/x.mp4", "url_blocked"),
        ("http://169.254.169.254/latest/meta-data/", "url_blocked"),
        ("http://user:pw@news.example/", "url_userinfo"),
        ("http://news.example:6379/", "url_port"),
        ("not a url", "url_invalid"),
    ],
)
def test_bad_urls_are_refused_with_their_code_and_nothing_is_queued(
    jo, url, code, enqueued, committed
) -> None:
    with committed(execute=True):
        response = jo.post(LIST, {"url": url}, format="json")
    assert 400 <= response.status_code < 500
    problem(response, response.status_code, code)
    assert enqueued == [] and not Check.objects.exists()


@pytest.mark.parametrize(
    "data, name",
    [
        (b"", "empty.mp4"),
        (bytes(range(256)) * 8, "random.jpg"),
        (b"<!doctype html><html><script>alert(1)</script></html>", "page.jpg"),
        (b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:1,\n/etc/passwd\n", "evil.mp4"),
        (b"just some text\n" * 10, "notes.jpg"),
    ],
)
def test_non_media_uploads_are_415_and_nothing_is_kept(jo, data, name, enqueued, settings) -> None:
    handle = io.BytesIO(data)
    handle.name = name
    response = jo.post(LIST, {"file": handle}, format="multipart")
    problem(response, 415, "unsupported_media")
    assert not Check.objects.exists() and not Media.objects.exists()
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))


def test_an_upload_over_the_cap_is_413_and_leaves_no_file(jo, jpeg, settings, enqueued) -> None:
    settings.AUTHCHECK_MAX_UPLOAD_BYTES = jpeg.stat().st_size // 2
    problem(jo.post(LIST, upload(jpeg), format="multipart"), 413, "too_large")
    assert not Media.objects.exists()
    assert not [p for p in Path(settings.FILE_UPLOAD_TEMP_DIR).rglob("*") if p.is_file()]


def test_a_declared_length_far_over_the_cap_is_refused_before_reading(jo, settings) -> None:
    settings.AUTHCHECK_MAX_UPLOAD_BYTES = 10
    response = jo.generic(
        "POST", LIST, b"x" * 10, content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )  # fmt: skip
    problem(response, 413, "too_large")


def test_two_files_in_one_request_are_refused(jo, jpeg, tmp_path, enqueued) -> None:
    other = io.BytesIO(jpeg.read_bytes())
    other.name = "b.jpg"
    data = {"file": [io.BytesIO(jpeg.read_bytes()), other]}
    data["file"][0].name = "a.jpg"  # type: ignore[index]
    problem(jo.post(LIST, data, format="multipart"), 400, "too_many_files")
    assert not Check.objects.exists()


def test_a_json_body_over_the_memory_limit_is_413(jo, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"url": "https://news.example/" + "a" * 2000})
    response = jo.generic("POST", LIST, body, content_type="application/json")
    problem(response, 413, "request_too_large")


def test_malformed_json_and_unknown_content_types_have_their_codes(jo) -> None:
    bad = jo.generic("POST", LIST, b'{"url": ', content_type="application/json")
    problem(bad, 400, "parse_error")
    text = jo.generic("POST", LIST, b"url=x", content_type="text/plain")
    problem(text, 415, "unsupported_media_type")
    problem(jo.put(LIST, {}, format="json"), 405, "method_not_allowed")
    problem(jo.delete(f"{LIST}/1"), 405, "method_not_allowed")


def test_attacker_strings_come_back_as_json_strings_only(jo, enqueued) -> None:
    note = '<script>alert("x")</script>\u202e'
    response = jo.post(LIST, {"url": "https://news.example/v", "note": note}, format="json")
    assert response["Content-Type"] == "application/json"
    assert b'"note":"<script>alert(\\"x\\")</script>' in response.content
    assert response.json()["note"] == note
    with_nul = jo.post(LIST, {"url": "https://news.example/v", "note": "a\x00b"}, format="json")
    assert "note" in problem(with_nul, 400, "validation_error")["errors"]


def test_a_check_of_someone_else_is_404_and_so_is_an_absurd_id(jo, enqueued) -> None:
    theirs = CheckFactory(submitter=UserFactory(username="other"))
    problem(jo.get(f"{LIST}/{theirs.pk}"), 404, "not_found")
    problem(jo.get(f"{LIST}/{theirs.pk + 1000}"), 404, "not_found")
    problem(jo.get(f"{LIST}/{2**70}"), 404, "not_found")
    problem(jo.get(f"{LIST}/abc"), 404, "not_found")


def test_the_list_shows_own_checks_newest_first_and_editors_see_all(
    jo, ed, journalist, enqueued
) -> None:
    mine = [CheckFactory(submitter=journalist) for _ in range(3)]
    CheckFactory(submitter=UserFactory(username="other"))
    body = jo.get(LIST).json()
    assert body["count"] == 3
    assert [c["id"] for c in body["results"]] == [c.pk for c in reversed(mine)]
    assert ed.get(LIST).json()["count"] == 4


def test_pagination_uses_limit_and_offset_with_a_cap(jo, journalist) -> None:
    made = [CheckFactory(submitter=journalist) for _ in range(5)]
    page = jo.get(LIST, {"limit": 2, "offset": 1}).json()
    assert page["count"] == 5 and [c["id"] for c in page["results"]] == [made[3].pk, made[2].pk]
    assert "offset=3" in page["next"] and "offset=0" not in (page["previous"] or "offset=0")
    big = jo.get(LIST, {"limit": 100000}).json()
    assert len(big["results"]) == 5 and big["next"] is None


def test_filters_by_status_verdict_submitter_and_date(ed, journalist, editor) -> None:
    other = UserFactory(username="other")
    queued = CheckFactory(submitter=journalist)
    done = DoneCheckFactory(submitter=other)
    reviewed = DoneCheckFactory(submitter=journalist)
    VerdictFactory(check_ref=reviewed, author=editor, label="", decision="synthetic", rule="review")
    old = CheckFactory(submitter=other)
    Check.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))

    def ids(**params: str) -> set[int]:
        response = ed.get(LIST, params)
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()["results"]}

    assert ids(status="queued") == {queued.pk, old.pk}
    assert ids(status="done") == {done.pk, reviewed.pk}
    assert ids(verdict="no_provenance") == {done.pk}
    assert ids(verdict="synthetic") == {reviewed.pk}
    assert ids(submitter="jo") == {queued.pk, reviewed.pk}
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert ids(created_after=since) == {queued.pk, done.pk, reviewed.pk}
    assert ids(created_before=since) == {old.pk}
    assert ids(created_before=timezone.now().isoformat(), status="queued") == {queued.pk, old.pk}


@pytest.mark.parametrize(
    "params",
    [{"status": "exploded"}, {"verdict": "authentic-ish"}, {"created_after": "yesterday"}],
)
def test_bad_filter_values_are_validation_errors(ed, params) -> None:
    body = problem(ed.get(LIST, params), 400, "validation_error")
    assert set(body["errors"]) == set(params)


def test_a_journalist_filtering_by_another_submitter_sees_nothing(jo, journalist) -> None:
    CheckFactory(submitter=UserFactory(username="other"))
    assert jo.get(LIST, {"submitter": "other"}).json()["count"] == 0


def test_a_failed_check_carries_its_error_code_and_message(jo, journalist) -> None:
    check = CheckFactory(
        submitter=journalist,
        status=CheckStatus.FAILED,
        error_code="fetch_failed",
        error_message="the URL could not be fetched",
    )
    body = jo.get(f"{LIST}/{check.pk}").json()
    assert body["status"] == "failed"
    assert body["error"] == {"code": "fetch_failed", "message": "the URL could not be fetched"}


def test_api_responses_are_not_cached_and_not_sniffed(jo) -> None:
    response = jo.get(LIST)
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Origin" in response["Vary"]


def test_editors_may_not_submit(ed, enqueued) -> None:
    problem(
        ed.post(LIST, {"url": "https://news.example/v"}, format="json"), 403, "permission_denied"
    )
    assert not Check.objects.exists()


def test_roles_that_submit(client_for, enqueued, committed) -> None:
    for role in (Role.JOURNALIST, Role.API_CLIENT, Role.ADMIN):
        client = client_for(UserFactory(role=role))
        with committed(execute=True):
            response = client.post(LIST, {"url": "https://news.example/v"}, format="json")
        assert response.status_code == 202
    assert len(enqueued) == 3
