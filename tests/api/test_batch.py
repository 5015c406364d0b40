"""``POST /checks/batch``: JSON or CSV, one result per line, the single submission's codes."""

from __future__ import annotations

import io

import pytest

from authcheck.models import Check
from tests.api.helpers import problem

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/checks/batch"


def csv_upload(text: str | bytes) -> dict[str, object]:
    handle = io.BytesIO(text.encode() if isinstance(text, str) else text)
    handle.name = "urls.csv"
    return {"file": handle}


def test_a_batch_of_good_and_bad_urls_returns_per_line_results(jo, enqueued, committed) -> None:
    urls = [
        "https://news.example/a.jpg",
        "ftp://news.example/b.jpg",
        "http://127.0.0.1/c.jpg",
        "",
        "https://news.example/d.mp4",
    ]
    with committed(execute=True):
        response = jo.post(BATCH, {"urls": urls}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["queued"], body["refused"]) == (5, 2, 3)
    lines = body["results"]
    assert [line["line"] for line in lines] == [1, 2, 3, 4, 5]
    assert [line["url"] for line in lines] == urls
    assert [line["status"] for line in lines] == [202, 422, 422, 422, 202]
    assert [(line["error"] or {}).get("code") for line in lines] == [
        None,
        "url_scheme",
        "url_blocked",
        "url_invalid",
        None,
    ]
    queued = [line["check"]["id"] for line in lines if line["check"]]
    assert sorted(queued) == sorted(Check.objects.values_list("pk", flat=True))
    assert enqueued == queued
    assert lines[0]["check"]["source"]["url"] == urls[0] and lines[0]["check"]["status"] == "queued"


def test_the_pending_cap_refuses_only_the_lines_beyond_it(jo, enqueued, settings) -> None:
    settings.AUTHCHECK_MAX_PENDING_PER_USER = 2
    urls = [f"https://news.example/{n}.jpg" for n in range(4)]
    lines = jo.post(BATCH, {"urls": urls}, format="json").json()["results"]
    assert [line["status"] for line in lines] == [202, 202, 429, 429]
    assert lines[3]["error"]["code"] == "queue_full"
    assert Check.objects.count() == 2


def test_a_csv_upload_uses_its_url_column(jo, enqueued) -> None:
    text = "title,URL\nfirst,https://news.example/1.jpg\n,\nthird,gopher://x/\n"
    response = jo.post(BATCH, csv_upload(text), format="multipart")
    assert response.status_code == 200, response.content
    lines = response.json()["results"]
    assert [(line["url"], line["status"]) for line in lines] == [
        ("https://news.example/1.jpg", 202),
        ("gopher://x/", 422),
    ]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("name\nhttps://news.example/1.jpg\n", "batch_csv_invalid"),
        (b"url\n\xff\xfe\n", "batch_csv_invalid"),
        ("url\n" + "".join(f"https://n.example/{n}\n" for n in range(101)), "batch_too_large"),
        ("url\n\n\n", "batch_empty"),
    ],
)
def test_an_unusable_csv_is_a_422_problem(jo, enqueued, content, code) -> None:
    problem(jo.post(BATCH, csv_upload(content), format="multipart"), 422, code)
    assert Check.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"urls": []},
        {"urls": "https://news.example/a"},
        {"urls": [1]},
        {"urls": ["https://news.example/a"] * 101},
    ],
)
def test_a_malformed_batch_is_a_400_and_submits_nothing(jo, enqueued, payload) -> None:
    problem(jo.post(BATCH, payload, format="json"), 400, "validation_error")
    assert Check.objects.count() == 0


def test_editors_may_not_submit_batches(ed) -> None:
    problem(
        ed.post(BATCH, {"urls": ["https://news.example/a"]}, format="json"),
        403,
        "permission_denied",
    )


def test_the_batch_is_in_the_schema(jo) -> None:
    schema = jo.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/checks/batch"]["post"]
    assert operation["operationId"] == "checks_batch_create"
    assert {"application/json", "multipart/form-data"} <= set(operation["requestBody"]["content"])


def test_a_line_with_nul_is_that_lines_url_invalid(jo, enqueued) -> None:
    body = jo.post(
        BATCH, {"urls": ["https://a.example/\x00", "https://a.example/ok"]}, format="json"
    ).json()
    assert [line["status"] for line in body["results"]] == [422, 202]
    assert body["results"][0]["error"]["code"] == "url_invalid"


def test_a_single_submission_answers_nul_in_the_url_as_url_invalid(jo, enqueued) -> None:
    response = jo.post("/api/v1/checks", {"url": "https://a.example/\x00"}, format="json")
    problem(response, 422, "url_invalid")
