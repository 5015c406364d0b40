"""Review decisions and the audit view of a check."""

from __future__ import annotations

import pytest
from django.db import connection

from authcheck.models import AuditEvent, Verdict
from tests.api.helpers import problem
from tests.factories import DoneCheckFactory

pytestmark = pytest.mark.django_db


def test_an_editor_review_supersedes_the_automated_verdict(ed, jo, journalist) -> None:
    check = DoneCheckFactory(submitter=journalist)
    automated = Verdict.objects.get(check_ref=check)
    response = ed.post(
        f"/api/v1/checks/{check.pk}/reviews",
        {"decision": "misattributed", "note": "real footage from 2019, wrong city"},
        format="json",
    )
    assert response.status_code == 201, response.content
    review = response.json()
    assert response["Location"] == f"/api/v1/checks/{check.pk}"
    assert review["kind"] == "review" and review["decision"] == "misattributed"
    assert review["supersedes"] == automated.pk and review["reviewer"] == "ed"
    shown = jo.get(f"/api/v1/checks/{check.pk}").json()
    assert shown["verdict"]["id"] == review["id"]
    assert [v["id"] for v in shown["verdict_history"]] == [automated.pk]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"decision": "fake", "note": "x"}, "decision"),
        ({"decision": "authentic", "note": "   "}, "note"),
        ({"decision": "authentic"}, "note"),
        ({"note": "x"}, "decision"),
    ],
)
def test_bad_reviews_are_validation_errors_and_record_nothing(ed, journalist, payload, field):
    check = DoneCheckFactory(submitter=journalist)
    response = ed.post(f"/api/v1/checks/{check.pk}/reviews", payload, format="json")
    assert field in problem(response, 400, "validation_error")["errors"]
    assert Verdict.objects.filter(check_ref=check).count() == 1
    assert not AuditEvent.objects.filter(action="review.recorded").exists()


def test_reviewing_a_missing_check_is_404(ed) -> None:
    response = ed.post("/api/v1/checks/424242/reviews", {"decision": "authentic", "note": "x"})
    problem(response, 404, "not_found")


def test_the_audit_view_lists_the_checks_events_and_an_intact_chain(jo, ed, enqueued) -> None:
    created = jo.post("/api/v1/checks", {"url": "https://news.example/v"}, format="json").json()
    ed.post(
        f"/api/v1/checks/{created['id']}/reviews",
        {"decision": "inconclusive", "note": "not enough to go on"},
        format="json",
    )
    body = jo.get(f"/api/v1/checks/{created['id']}/audit").json()
    assert body["check_id"] == created["id"]
    assert [e["action"] for e in body["events"]] == ["check.created", "review.recorded"]
    assert body["events"][0]["actor"] == "user:jo" and body["events"][1]["actor"] == "user:ed"
    assert body["events"][0]["data"]["source_url"] == "https://news.example/v"
    assert body["chain"]["ok"] is True and body["chain"]["checked"] == 2
    assert body["chain"]["description"].startswith("audit chain OK")


def test_a_tampered_event_shows_a_broken_chain(jo, enqueued) -> None:
    created = jo.post("/api/v1/checks", {"url": "https://news.example/v"}, format="json").json()
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL triggers refuse the edit this test makes")
    event = AuditEvent.objects.get(check_id=created["id"])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE authcheck_auditevent SET body = %s WHERE id = %s",
            [event.body.replace("news.example", "evil.example"), event.pk],
        )
    chain = jo.get(f"/api/v1/checks/{created['id']}/audit").json()["chain"]
    assert chain["ok"] is False and chain["first_bad_seq"] == event.seq
