"""A user's unfinished checks are capped: the submission past the cap is a 429 ``queue_full``
that leaves nothing behind, known media is still answered, and parallel clients cannot race
past the cap."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.db import connections

from authcheck.errors import AuthcheckError
from authcheck.models import AuditEvent, Check, User
from authcheck.services import checks, processing
from tests.mediagen import make_image


def _image(tmp_path: Path, n: int) -> bytes:
    return make_image(tmp_path / f"{n}.png", size=(40, 30), color=(n, 2 * n, 3)).read_bytes()


@pytest.mark.django_db
def test_the_submission_past_the_cap_is_refused_and_leaves_nothing(
    tmp_path: Path, settings, enqueued
) -> None:
    settings.AUTHCHECK_MAX_PENDING_PER_USER = 2
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    user = User.objects.create(username="busy", role="journalist")
    first = checks.check_create(user=user, upload=io.BytesIO(_image(tmp_path, 1))).check
    checks.check_create(user=user, url="https://news.example/a.jpg")
    events = AuditEvent.objects.count()
    with pytest.raises(AuthcheckError) as refused:
        checks.check_create(user=user, url="https://news.example/b.jpg")
    assert (refused.value.code, refused.value.status) == ("queue_full", 429)
    assert Check.objects.count() == 2 and AuditEvent.objects.count() == events

    assert processing.check_process(first.pk) == "done"
    known = checks.check_create(user=user, upload=io.BytesIO(_image(tmp_path, 1)))
    assert known.known and known.check.status == "done"  # answered at once, never queued
    assert checks.check_create(user=user, url="https://news.example/c.jpg").check.pk


@pytest.mark.django_db
def test_the_api_answers_429_with_the_code(tmp_path: Path, settings, enqueued) -> None:
    from rest_framework.test import APIClient

    from tests.factories import token_for

    settings.AUTHCHECK_MAX_PENDING_PER_USER = 1
    user = User.objects.create(username="api", role="journalist")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    assert (
        client.post("/api/v1/checks", {"url": "https://a.example/x.jpg"}, format="json").status_code
        == 202
    )
    response = client.post("/api/v1/checks", {"url": "https://a.example/y.jpg"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "queue_full"


@pytest.mark.django_db(transaction=True)
def test_parallel_clients_cannot_race_past_the_cap(settings, enqueued) -> None:
    settings.AUTHCHECK_MAX_PENDING_PER_USER = 3
    user = User.objects.create(username="racer", role="api_client")
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def submit(n: int) -> None:
        start.wait()
        try:
            checks.check_create(user=user, url=f"https://news.example/{n}.mp4")
            outcomes.append("created")
        except AuthcheckError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created"] * 3 + ["queue_full"] * 5
    assert Check.objects.filter(submitter=user).count() == 3


@pytest.mark.django_db
def test_the_cap_counts_unfinished_checks_on_their_partial_index_not_the_users_history(
    enqueued,
) -> None:
    """The count runs at every submission; migration 0014's partial index keeps it at the size
    of the queue (bench_load.py saw it grow with a user's history)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    user = User.objects.create(username="long-history", role="journalist")
    with CaptureQueriesContext(connection) as queries:
        checks.check_create(user=user, url="https://news.example/a.jpg")
    (count,) = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the plan show
            cursor.execute(f"EXPLAIN {count}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {count}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "check_unfinished_by_submitter" in plan, plan
