"""A killed worker's running check is found by the sweeper within about a lease (issue 9,
defect 7): PostgreSQL, Redis, a real worker and a real beat, the worker SIGKILLed mid-fetch.

Before the heartbeat the tenth check waited for its 900 s lease (or the broker's 3,600 s
visibility timeout); now the lease is short, renewed only while a worker lives, and the beat's
sweeper re-enqueues the check once it lapses. The lease and sweep period are shortened here
(the defaults, 60 s each, are asserted in tests/services/test_lease.py) to keep CI short.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from authcheck.models import AuditEvent, Check, Role, User, Verdict
from authcheck.services import checks
from authcheck.services.audit import audit_verify
from tests.e2e.conftest import ROOT, Worker, wait_until
from tests.e2e.test_worker import _Stalling, stalling_server  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LEASE, SWEEP = 10, 5


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"AUTHCHECK_LEASE_SECONDS": str(LEASE), "AUTHCHECK_SWEEP_SECONDS": str(SWEEP)}


def _beat(worker: Worker, tmp_path: Path) -> subprocess.Popen[bytes]:
    schedule = tmp_path / "beat-schedule"
    argv = [sys.executable, "-m", "celery", "-A", "authcheck", "beat", "-s", str(schedule)]
    return subprocess.Popen(
        argv, cwd=ROOT, env=worker.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _finished(ids: list[int]) -> bool:
    return Check.objects.filter(pk__in=ids, status__in=("done", "failed")).count() == len(ids)


def test_ten_checks_all_finish_soon_after_their_worker_was_killed_mid_run(
    celery_worker: Worker,
    stalling_server: str,  # noqa: F811
    settings,
    tmp_path: Path,
) -> None:
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    user = User.objects.create(username="deadline", role=Role.JOURNALIST)
    ids = [checks.check_create(user=user, url=stalling_server).check.pk for _ in range(10)]
    assert _Stalling.first_request.wait(60), "the worker never started fetching"
    for pid in [celery_worker.proc.pid, *celery_worker.pool_children()]:
        os.kill(pid, signal.SIGKILL)  # the whole worker: nothing is left to finish the fetch
    celery_worker.proc.wait()
    _Stalling.release.set()

    beat = _beat(celery_worker, tmp_path)
    try:
        celery_worker.start()
        restarted = time.monotonic()
        wait_until(lambda: _finished(ids), timeout=240, what="every check to finish")
        elapsed = time.monotonic() - restarted
    finally:
        beat.terminate()
        beat.wait(timeout=20)

    assert elapsed < 240
    assert Check.objects.filter(pk__in=ids, status="done").count() == 10
    for check_id in ids:
        assert Verdict.objects.filter(check_ref_id=check_id).count() == 1
        assert AuditEvent.objects.filter(check_id=check_id, action="verdict.issued").count() == 1
    lost = AuditEvent.objects.filter(check_id__in=ids, action="check.lease_lost").count()
    assert lost == 1  # exactly the killed worker's check was taken over
    assert audit_verify().ok
