"""Liveness and readiness probes (no authentication: they reveal only which part failed)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from authcheck import storage

log = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def _json(body: dict[str, object], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database, so a DB outage does not restart it."""
    return _json({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


def _probes() -> dict[str, Callable[[], None] | None]:
    """Each dependency's probe; None when not configured (in-process tasks need no broker)."""
    return {
        "database": _database,
        "broker": _broker if settings.CELERY_BROKER_URL else None,
        "media": storage.storage_probe,
    }


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database query, broker connection (when configured), media storage usable.

    503 names what failed; the reason is logged, not returned (it may name internal hosts).
    """
    results: dict[str, str] = {}
    for name, probe in _probes().items():
        if probe is None:
            results[name] = "skipped"
            continue
        try:
            probe()
            results[name] = "ok"
        except Exception:
            log.warning("readiness probe %s failed", name, exc_info=True)
            results[name] = "failed"
    failed = sorted(name for name, state in results.items() if state == "failed")
    if failed:
        return _json({"status": "unavailable", "failed": failed, "checks": results}, status=503)
    return _json({"status": "ok", "checks": results})
