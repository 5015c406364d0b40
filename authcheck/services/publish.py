"""Publishing work to Celery by task name, so services never import the task module.

``tasks.py`` is the outermost layer (it imports services); the services reach the tasks only
through the broker, by the names the tasks are registered under.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

CHECK_TASK = "authcheck.tasks.check_process_task"


def _app() -> Any:
    """The Celery app, imported on first publish: a process that never publishes (the CLI's
    ``analyze``) does not pay Celery's import (about 40 ms)."""
    from authcheck.celery import app

    return app


DETECTOR_TASK = "authcheck.tasks.detector_task"
REFERENCE_TASK = "authcheck.tasks.reference_index_task"


def check_publish(check_id: int) -> None:
    """Send one check to the checks queue (raises when the broker is unreachable)."""
    _app().send_task(CHECK_TASK, args=(check_id,))


def detector_publish(check_id: int, detector: str) -> None:
    """Send one detector run of a check's fan-out to the detectors queue."""
    _app().send_task(
        DETECTOR_TASK, args=(check_id, detector), queue=settings.AUTHCHECK_DETECTOR_QUEUE
    )


WEBHOOK_TASK = "authcheck.tasks.webhook_deliver_task"


def webhook_publish(delivery_id: int) -> None:
    """Send one webhook delivery attempt to the notifications queue (never the checks queue:
    a slow receiver must not hold up intake)."""
    _app().send_task(WEBHOOK_TASK, args=(delivery_id,), queue=settings.AUTHCHECK_WEBHOOK_QUEUE)


def reference_publish(item_id: int) -> None:
    """Send one reference item to be indexed (or resumed) on the checks queue."""
    _app().send_task(REFERENCE_TASK, args=(item_id,))


REFERENCE_OBJECT_TASK = "authcheck.tasks.reference_object_task"


def reference_object_publish(uri: str, collection: str, source_url: str, actor: str) -> None:
    """Send one object-store reference source to be fetched, registered and indexed on the
    checks queue (the command lists, the workers fetch)."""
    _app().send_task(REFERENCE_OBJECT_TASK, args=(uri, collection, source_url, actor))
