"""The Celery app ``authcheck`` (``celery -A authcheck worker``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcheck.settings")

app = Celery("authcheck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["authcheck"])


@signals.worker_init.connect
def _worker_metrics(**_: object) -> None:
    """Serve the worker's metrics (pool children write them to PROMETHEUS_MULTIPROC_DIR)."""
    from django.conf import settings

    from authcheck import metrics

    metrics.multiproc_dir_reset()
    if settings.AUTHCHECK_WORKER_METRICS_PORT:
        metrics.worker_metrics_serve(settings.AUTHCHECK_WORKER_METRICS_PORT)


@signals.worker_process_shutdown.connect
def _worker_child_gone(pid: int | None = None, **_: object) -> None:
    from authcheck import metrics

    metrics.process_dead(pid or os.getpid())
