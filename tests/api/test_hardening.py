"""Regression tests for the defects of the outside attack (issue 9): each failed before its fix."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.api.helpers import problem
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db


NESTED = "[" * 1000 + "]" * 1000


def test_deeply_nested_json_on_checks_is_a_400_json_too_deep_not_a_500(jo) -> None:
    response = jo.generic("POST", "/api/v1/checks", NESTED, content_type="application/json")
    problem(response, 400, "json_too_deep")


def test_deeply_nested_json_on_reviews_is_a_400_json_too_deep_not_a_500(ed, editor) -> None:
    check = CheckFactory(submitter=editor)
    path = f"/api/v1/checks/{check.pk}/reviews"
    problem(ed.generic("POST", path, NESTED, content_type="application/json"), 400, "json_too_deep")


def test_nesting_inside_strings_does_not_count_towards_the_depth(jo, enqueued) -> None:
    body = '{"url": "https://news.example/' + "[{" * 500 + '"}'
    response = jo.generic("POST", "/api/v1/checks", body, content_type="application/json")
    assert response.status_code != 500
    assert response.json().get("code") != "json_too_deep"


def test_ordinary_nesting_within_the_limit_still_parses(jo) -> None:
    body = '{"url": "https://news.example/v", "x": ' + "[" * 30 + "]" * 30 + "}"
    response = jo.generic("POST", "/api/v1/checks", body, content_type="application/json")
    assert response.json().get("code") != "json_too_deep"


def test_an_invalid_punycode_host_is_a_4xx_url_invalid_at_submission(jo, enqueued) -> None:
    # 422 like every other url_* refusal of this API (tests/api/test_checks.py).
    response = jo.post("/api/v1/checks", {"url": "http://xn--localhost/"}, format="json")
    problem(response, 422, "url_invalid")
    assert enqueued == []


def tamper_event(seq: int, column: str, value: object) -> None:
    """Set one column of a stored audit event as a superuser would (triggers off on PostgreSQL)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE authcheck_auditevent DISABLE TRIGGER USER")
        sql = f"UPDATE authcheck_auditevent SET {column} = %s WHERE seq = %s"
        cursor.execute(sql, [value, seq])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE authcheck_auditevent ENABLE TRIGGER USER")


def test_the_audit_api_shows_the_hashed_time_and_flags_a_changed_created_at(
    jo, journalist, enqueued
) -> None:
    from authcheck.models import AuditEvent

    check_id = jo.post("/api/v1/checks", {"url": "https://news.example/v"}, format="json").json()[
        "id"
    ]
    event = AuditEvent.objects.filter(check_id=check_id).first()
    hashed_at = json.loads(event.body)["at"]
    tamper_event(event.seq, "created_at", "2001-01-01T00:00:00+00:00")

    body = jo.get(f"/api/v1/checks/{check_id}/audit").json()

    shown = body["events"][0]["at"]
    assert dt.datetime.fromisoformat(shown) == dt.datetime.fromisoformat(hashed_at)
    assert body["chain"]["ok"] is False and body["chain"]["first_bad_seq"] == event.seq


def test_the_audit_api_of_a_check_flags_an_event_moved_from_it_to_another_check(
    jo, journalist, enqueued
) -> None:
    from authcheck.models import AuditEvent

    first, second = (
        jo.post("/api/v1/checks", {"url": f"https://news.example/{n}"}, format="json").json()["id"]
        for n in (1, 2)
    )
    assert jo.get(f"/api/v1/checks/{first}/audit").json()["chain"]["ok"] is True
    event = AuditEvent.objects.filter(check_id=first).first()
    tamper_event(event.seq, "check_id", second)

    body = jo.get(f"/api/v1/checks/{first}/audit").json()

    assert body["chain"]["ok"] is False and body["chain"]["first_bad_seq"] == event.seq
    assert body["chain"]["reason"] == "column check_id differs from the hashed body"
    assert jo.get(f"/api/v1/checks/{second}/audit").json()["chain"]["ok"] is False


def test_similar_media_of_other_users_is_anonymised_for_a_journalist_but_not_an_editor(
    jo, ed, journalist, editor
) -> None:
    from authcheck.models import Check

    other = CheckFactory(submitter=editor)
    own_earlier = CheckFactory(submitter=journalist)
    check = CheckFactory(submitter=journalist)
    similar = [
        {"check_id": other.pk, "sha256": "a" * 64, "distance": 4, "matched_frames": [0]},
        {"check_id": own_earlier.pk, "sha256": "b" * 64, "distance": 9, "matched_frames": [1]},
    ]
    Check.objects.filter(pk=check.pk).update(similar=similar)

    seen = jo.get(f"/api/v1/checks/{check.pk}").json()["similar"]
    assert seen[0] == {"check_id": None, "sha256": None, "distance": 4, "matched_frames": [0]}
    assert seen[1] == similar[1]
    listed = jo.get("/api/v1/checks").json()["results"]
    matches = [m for c in listed for m in c["similar"]]
    assert other.pk not in [m["check_id"] for m in matches]
    assert "a" * 64 not in json.dumps(listed)
    assert ed.get(f"/api/v1/checks/{check.pk}").json()["similar"] == similar
