"""The accept path's cost (issue 11): what POST /checks answers is what GET /checks/{id} shows,
although the created check is answered without re-reading its verdicts, stages and evidence,
and each kind of submission stays within its query budget."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authcheck.models import AuditEvent, Check
from authcheck.services import processing
from authcheck.services.audit import audit_verify, event_hash

pytestmark = pytest.mark.django_db

LIST = "/api/v1/checks"
# Measured on PostgreSQL (token, transaction, check, stages, audit event with RETURNING, user
# lock and pending count, commit, the check read back). SQLite reads the chain's tail itself.
URL_QUERIES = 9
KNOWN_QUERIES = 24


def _upload(path: Path) -> dict[str, Any]:
    handle = io.BytesIO(path.read_bytes())
    handle.name = path.name
    return {"file": handle}


def _budget(queries: int) -> int:
    # SQLite: one more per audit event (its tail), plus its savepoint bookkeeping.
    return queries if connection.vendor == "postgresql" else queries + 4


def _same_as_read(client: Any, response: Any) -> dict[str, Any]:
    body = response.json()
    shown = client.get(f"{LIST}/{body['id']}").json()
    # The detail adds only the "why no Content Credentials?" account (CheckDetail).
    assert "no_credentials" in shown and "no_credentials" not in body
    shown.pop("no_credentials")
    assert body == shown
    return body


def test_a_new_url_check_answers_what_reading_it_shows_within_budget(jo, enqueued) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = jo.post(LIST, {"url": "https://news.example/a.jpg"}, format="json")
    assert response.status_code == 202
    body = _same_as_read(jo, response)
    assert body["verdict"] is None and [s["state"] for s in body["stages"]] == ["pending"] * 7
    check = Check.objects.get(pk=body["id"])
    assert check.last_enqueued_at is not None  # stamped when created, for the sweeper
    assert len(queries.captured_queries) <= _budget(URL_QUERIES), [
        q["sql"][:120] for q in queries.captured_queries
    ]


def test_a_new_upload_answers_what_reading_it_shows(jo, jpeg, enqueued, committed) -> None:
    with committed(execute=True):
        response = jo.post(LIST, _upload(jpeg), format="multipart")
    assert response.status_code == 202
    body = _same_as_read(jo, response)
    assert body["stages"][0] == {**body["stages"][0], "name": "hash", "state": "done"}
    assert enqueued == [body["id"]]
    assert Check.objects.get(pk=body["id"]).last_enqueued_at is not None


def test_known_media_answers_at_once_with_its_evidence_within_budget(
    jo, jpeg, enqueued, committed, settings
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    with committed(execute=True):
        first = jo.post(LIST, _upload(jpeg), format="multipart").json()
    assert processing.check_process(first["id"]) == "done"
    with CaptureQueriesContext(connection) as queries:
        again = jo.post(LIST, _upload(jpeg), format="multipart")
    assert again.status_code == 200
    body = _same_as_read(jo, again)
    assert body["verdict"]["label"] == "no_provenance" and body["provenance"]["state"] == "absent"
    assert [s["detector"] for s in body["signals"]] == ["ai_labels"]
    assert {s["state"] for s in body["stages"]} == {"done", "skipped"}
    assert len(queries.captured_queries) <= _budget(KNOWN_QUERIES), [
        q["sql"][:120] for q in queries.captured_queries
    ]
    assert enqueued == [first["id"]]  # the resubmission was never queued


def test_audit_events_written_in_one_round_trip_carry_the_chain(jo, enqueued) -> None:
    for n in range(3):
        jo.post(LIST, {"url": f"https://news.example/{n}.jpg"}, format="json")
    events = list(AuditEvent.objects.filter(action="check.created").order_by("seq"))
    assert len(events) == 3
    for event in events:
        assert event.hash == event_hash(event.prev_hash, event.seq, event.body)
    assert audit_verify(alert=False).ok


def test_the_recorded_event_is_the_stored_one() -> None:
    from django.db import transaction

    from authcheck.services.audit import audit_record

    with transaction.atomic():
        first = audit_record(actor="system", action="test.one", object_type="t", object_id=1)
        second = audit_record(actor="system", action="test.two", object_type="t", object_id=2)
    for event in (first, second):
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (event.seq, event.prev_hash, event.hash) == (
            stored.seq,
            stored.prev_hash,
            stored.hash,
        )
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
