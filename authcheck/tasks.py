"""Thin tasks: they take ids, call a service, and leave every decision to it.

With ``CELERY_BROKER_URL`` set, work goes to Celery workers (acks late, redelivered if a worker
dies, an attempt counter in the database stops poison input). Services publish to these tasks
by name (``services.publish``) and never import this module; without a broker,
``services.dispatch`` runs the same service in-process after the request commits.
"""

from __future__ import annotations

import random
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from authcheck.celery import app
from authcheck.errors import TransientFetchError
from authcheck.services import checks, detection, processing, reference, reverify, webhooks
from authcheck.services.publish import (
    CHECK_TASK,
    DETECTOR_TASK,
    REFERENCE_OBJECT_TASK,
    REFERENCE_TASK,
    WEBHOOK_TASK,
)


@app.task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    name=CHECK_TASK,
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
    name=DETECTOR_TASK,
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


@app.task(bind=True, acks_late=True, max_retries=None, name=WEBHOOK_TASK)
def webhook_deliver_task(self: Any, delivery_id: int) -> str:
    """One signed delivery attempt; a failure is retried after the backoff the service chose."""
    attempt = webhooks.webhook_delivery_attempt(delivery_id)
    if attempt.outcome == "retry":
        raise self.retry(countdown=attempt.delay)
    return attempt.outcome


@app.task(name="authcheck.tasks.webhook_sweep_task")
def webhook_sweep_task() -> list[int]:
    """Periodic: resend due deliveries whose message was lost."""
    return webhooks.webhook_deliveries_sweep()


@app.task(name="authcheck.tasks.reverify_task")
def reverify_task() -> dict[str, int]:
    """Periodic: re-examine one bounded batch of stored checks under the current versions; a
    full batch queues the next one at once. Progress is committed per check, so a batch cut
    short by the time limit resumes where it stopped."""
    result = reverify.reverify_pass()
    if result.more:
        reverify_task.delay()
    return {"examined": result.examined, "changed": result.changed, "flagged": result.flagged}


@app.task(acks_late=True, reject_on_worker_lost=True, name=REFERENCE_TASK)
def reference_index_task(item_id: int) -> str:
    """Index one reference item (resuming where an earlier run stopped)."""
    return reference.reference_index(item_id)


@app.task(acks_late=True, reject_on_worker_lost=True, name=REFERENCE_OBJECT_TASK)
def reference_object_task(uri: str, collection: str, source_url: str, actor: str) -> str:
    """Fetch one object-store reference source, register and index it (a redelivery finds the
    item registered and resumes its indexing)."""
    return reference.reference_object_fetch(uri, collection, source_url, actor)
