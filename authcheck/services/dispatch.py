"""Getting a check to whatever runs it, after commit: Celery workers, or in-process threads.

Without ``CELERY_BROKER_URL`` (the embedded default) a small in-process thread pool runs
``processing.check_process`` after the request commits. A failed publish leaves the check
queued; ``checks.checks_sweep`` re-enqueues it later, so no check is lost.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from authcheck.errors import TransientFetchError
from authcheck.models import Check
from authcheck.services import processing, publish

log = logging.getLogger(__name__)

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


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


def enqueue_check(check_id: int) -> None:
    """Send a check to its worker; called after commit. A failed publish is logged and leaves
    the check queued for the sweeper."""
    if settings.AUTHCHECK_TASKS_IN_PROCESS:
        _in_process_executor().submit(_run_in_process, check_id)
        return
    try:
        publish.check_publish(check_id)
    except Exception:
        log.exception("could not publish check %s; the sweeper will re-enqueue it", check_id)


def check_enqueue_on_commit(check_id: int, *, stamped: bool = False) -> None:
    """Queue processing once the surrounding transaction commits (never before). ``stamped``:
    the caller already set ``last_enqueued_at`` in this transaction (a new check)."""
    if not stamped:
        Check.objects.filter(pk=check_id).update(last_enqueued_at=timezone.now())
    transaction.on_commit(lambda: enqueue_check(check_id))
