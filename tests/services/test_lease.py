"""A running check's lease is short and kept alive by a heartbeat while its worker lives
(issue 9, defect 7): the sweeper finds a dead worker's check within about a minute."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from authcheck.models import Check, Role, User
from authcheck.services import checks, lifecycle

# The heartbeat thread writes through its own connection: the test's data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def claimed(enqueued: list[int]) -> Check:
    user = User.objects.create(username="hb", role=Role.JOURNALIST)
    check = checks.check_create(user=user, url="https://news.example/a.jpg").check
    claimed = lifecycle.check_claim(check.pk)
    assert claimed is not None
    return claimed


def _lease(check: Check):  # type: ignore[no-untyped-def]
    return Check.objects.values_list("lease_expires_at", flat=True).get(pk=check.pk)


def test_the_default_lease_is_about_a_minute_and_the_sweep_runs_every_minute() -> None:
    assert django_settings.AUTHCHECK_LEASE_SECONDS <= 60
    assert django_settings.CELERY_BEAT_SCHEDULE["sweep-expired-leases"]["schedule"] <= 60


def test_the_heartbeat_keeps_the_lease_ahead_of_now_while_the_work_runs(
    claimed: Check, settings
) -> None:
    settings.AUTHCHECK_LEASE_SECONDS = 1
    with lifecycle.check_lease_heartbeat(claimed.pk, claimed.claimed_by):
        time.sleep(2.5)  # longer than the lease: only renewals keep it in the future
        assert _lease(claimed) > timezone.now()
    ended = _lease(claimed)
    time.sleep(1)
    assert _lease(claimed) == ended  # no beat after the work ended


def test_without_a_heartbeat_the_lease_lapses_and_the_sweeper_requeues_the_check(
    claimed: Check, settings, enqueued: list[int]
) -> None:
    settings.AUTHCHECK_LEASE_SECONDS = 1
    lifecycle.check_lease_renew(claimed.pk)  # a lease of 1 s, and no process beating for it
    time.sleep(1.2)
    assert claimed.pk in checks.checks_sweep()
    assert lifecycle.check_claim(claimed.pk) is not None  # the next worker takes it over


def test_the_heartbeat_stops_once_another_worker_holds_the_check(claimed: Check, settings) -> None:
    settings.AUTHCHECK_LEASE_SECONDS = 1
    Check.objects.filter(pk=claimed.pk).update(
        claimed_by="elsewhere:1", lease_expires_at=timezone.now() + timedelta(seconds=30)
    )
    theirs = _lease(claimed)
    with lifecycle.check_lease_heartbeat(claimed.pk, claimed.claimed_by):
        time.sleep(1.0)
    assert _lease(claimed) == theirs


def test_a_finished_check_is_not_renewed(claimed: Check) -> None:
    Check.objects.filter(pk=claimed.pk).update(status="done")
    assert lifecycle.check_lease_renew(claimed.pk, claimed.claimed_by) is False
