"""Thin tasks: they take ids, call a service, and leave every decision to it.

With ``CELERY_BROKER_URL`` set, work goes to Celery workers (acks late, redelivered if a worker
dies, an attempt counter in the database stops poison input). Without it - the embedded
default - a small in-process thread pool runs the same service after the request commits.
"""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connections

from authcheck.celery import app
from authcheck.errors import TransientFetchError
from authcheck.services import checks, detection, processing

log = logging.getLogger(__name__)

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


@app.task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    name="authcheck.tasks.check_process_task",
)
def check_process_task(self: Any, check_id: int) -> str:
    """Process one check; transient fetch failures retry with exponential backoff and jitter."""
    final = self.request.retries >= self.max_retries
    try:
        return processing.check_process(check_id, retry_transient=not final, inline=False)
    except TransientFetchError as exc:
        countdown = min(300, 2**self.request.retries * 5) + random.uniform(0, 3)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except SoftTimeLimitExceeded:
        processing.check_timed_out(check_id)
        return "failed"


@app.task(
    acks_late=True,
    reject_on_worker_lost=True,
    name="authcheck.tasks.detector_task",
    soft_time_limit=settings.AUTHCHECK_DETECTOR_SOFT_TIME_LIMIT,
    time_limit=settings.AUTHCHECK_DETECTOR_TIME_LIMIT,
)
def detector_task(check_id: int, detector: str) -> str:
    """Run one detector of a check's fan-out, then let the database decide if all are in."""
    try:
        detection.detector_task_run(check_id, detector)
    except SoftTimeLimitExceeded:
        detection.detector_timed_out(check_id, detector)
    return processing.check_collect(check_id)


@app.task(name="authcheck.tasks.sweep_task")
def sweep_task() -> list[int]:
    """Periodic: re-enqueue checks whose message was lost or whose lease expired."""
    return checks.checks_sweep()


def _run_in_process(check_id: int) -> None:
    close_old_connections()
    try:
        for attempt in range(3):
            try:
                processing.check_process(check_id, retry_transient=attempt < 2)
                return
            except TransientFetchError:
                threading.Event().wait(2**attempt)
    except Exception:
        log.exception("in-process task for check %s failed", check_id)
    finally:
        # This pool thread's connections would otherwise stay open until the process exits.
        connections.close_all()


def _in_process_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="authcheck-task")
        return _executor


def enqueue_detector(check_id: int, detector: str) -> None:
    """Send one detector run to the detectors queue; a lost message is recovered by the
    sweeper, which re-runs the check once its lease expires (finished signals are kept)."""
    try:
        detector_task.apply_async((check_id, detector), queue=settings.AUTHCHECK_DETECTOR_QUEUE)
    except Exception:
        log.exception("could not publish detector %s of check %s", detector, check_id)


def enqueue_check(check_id: int) -> None:
    """Send a check to its worker; called after commit. A failed publish leaves it queued,
    and the sweeper re-enqueues it later, so no check is lost."""
    if settings.AUTHCHECK_TASKS_IN_PROCESS:
        _in_process_executor().submit(_run_in_process, check_id)
        return
    try:
        check_process_task.delay(check_id)
    except Exception:
        log.exception("could not publish check %s; the sweeper will re-enqueue it", check_id)
