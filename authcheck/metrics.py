"""Prometheus metrics (prometheus_client), in multi-process mode under gunicorn and Celery.

Two kinds of families:

- *events*, counted by the process where they happen (HTTP requests, stage and detector
  durations, detector errors, webhook deliveries). With ``PROMETHEUS_MULTIPROC_DIR`` set, every
  process of one server (gunicorn workers; a Celery worker's pool children) writes them to
  files in that directory and a scrape sums them. The web server exposes its own at
  ``/metrics``, each Celery worker at ``AUTHCHECK_WORKER_METRICS_PORT``.
- *state*, read at scrape time from the database and the broker (checks by status, verdicts by
  label, queue depth per queue), so any one web replica answers for the whole deployment.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

# Any process of the image may count something (a management command runs stages too); the
# directory must exist before the first value is written.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

HTTP_REQUESTS = Counter(
    "authcheck_http_requests",
    "HTTP requests by view, method and status",
    ["view", "method", "status"],
)
HTTP_DURATION = Histogram(
    "authcheck_http_request_duration_seconds",
    "HTTP request duration by view",
    ["view"],
    buckets=SECONDS,
)
STAGE_DURATION = Histogram(
    "authcheck_stage_duration_seconds",
    "Pipeline stage duration by stage and outcome",
    ["stage", "outcome"],
    buckets=SECONDS,
)
DETECTOR_DURATION = Histogram(
    "authcheck_detector_duration_seconds",
    "Detector run time by detector",
    ["detector"],
    buckets=SECONDS,
)
DETECTOR_ERRORS = Counter(
    "authcheck_detector_errors", "Detector runs that ended in an error signal", ["detector"]
)
WEBHOOK_DELIVERIES = Counter(
    "authcheck_webhook_deliveries",
    "Webhook delivery attempts by event and outcome",
    ["event", "outcome"],
)


def stage_observe(stage: str, outcome: str, seconds: float) -> None:
    """Count one pipeline stage's duration (outcome: done or failed)."""
    STAGE_DURATION.labels(stage=stage, outcome=outcome).observe(seconds)


def detector_observe(detector: str, seconds: float, *, error: bool) -> None:
    """Count one detector run, and its error when it ended in one."""
    DETECTOR_DURATION.labels(detector=detector).observe(seconds)
    if error:
        DETECTOR_ERRORS.labels(detector=detector).inc()


def webhook_delivery_observe(event: str, outcome: str) -> None:
    """Count one webhook delivery attempt (outcome: delivered, failed, gave_up)."""
    WEBHOOK_DELIVERIES.labels(event=event, outcome=outcome).inc()


# --- state read at scrape time ---------------------------------------------------------------


def _queue_depths() -> dict[str, int]:
    """Messages waiting per queue, asked of the broker (Redis list length, RabbitMQ count)."""
    from kombu import Connection

    queues = (settings.CELERY_TASK_DEFAULT_QUEUE, settings.AUTHCHECK_DETECTOR_QUEUE)
    depths: dict[str, int] = {}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        channel = conn.default_channel
        for name in queues:
            try:
                depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
            except conn.channel_errors:
                depths[name] = 0  # not declared yet: no worker has started, nothing sent
                channel = conn.channel()  # RabbitMQ closes a channel on a passive miss
    return depths


class StateCollector:
    """Checks by status, verdicts by label and queue depth, read when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from authcheck.models import Check, Verdict

        checks = GaugeMetricFamily("authcheck_checks", "Checks by status", labels=["status"])
        for status, n in Check.objects.values_list("status").annotate(n=Count("id")).order_by():
            checks.add_metric([status], n)
        yield checks
        verdicts = GaugeMetricFamily(
            "authcheck_verdicts", "Automated verdicts issued, by label", labels=["label"]
        )
        automated = Verdict.objects.filter(author__isnull=True)
        for label, n in automated.values_list("label").annotate(n=Count("id")).order_by():
            verdicts.add_metric([label], n)
        yield verdicts
        yield from self._queues()

    def _queues(self) -> Iterator[Metric]:
        if not settings.CELERY_BROKER_URL:
            return
        depth = GaugeMetricFamily("authcheck_queue_depth", "Messages waiting", labels=["queue"])
        up = GaugeMetricFamily("authcheck_broker_up", "1 when the broker answered the scrape")
        try:
            for name, n in _queue_depths().items():
                depth.add_metric([name], n)
            up.add_metric([], 1)
        except Exception:
            log.warning("queue depth unavailable: the broker did not answer", exc_info=True)
            up.add_metric([], 0)
        yield depth
        yield up


def exposition(*, include_state: bool) -> bytes:
    """The text exposition of this server's event metrics, plus the state families."""
    parts: list[bytes] = []
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        parts.append(generate_latest(registry))
    else:
        parts.append(generate_latest(REGISTRY))
    if include_state:
        state = CollectorRegistry()
        state.register(StateCollector())
        parts.append(generate_latest(state))
    return b"".join(parts)


# --- who may scrape --------------------------------------------------------------------------


def scrape_allowed(remote_addr: str, authorization: str, forwarded: bool) -> bool:
    """Loopback clients may scrape; others only with ``Bearer AUTHCHECK_METRICS_TOKEN``.

    A request that came through a proxy (``forwarded``) is never trusted as loopback: the
    proxy's own address is loopback for every client it forwards.
    """
    token = settings.AUTHCHECK_METRICS_TOKEN
    if token:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    if forwarded:
        return False
    try:
        return ipaddress.ip_address(remote_addr.split("%")[0]).is_loopback
    except ValueError:
        return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: the Prometheus text format, for loopback clients or the token."""
    allowed = scrape_allowed(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_AUTHORIZATION", ""),
        forwarded="HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META,
    )
    if not allowed:
        return HttpResponse(b"forbidden\n", status=403, content_type="text/plain")
    response = HttpResponse(exposition(include_state=True), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


class RequestMetricsMiddleware:
    """Counts every request by resolved view name (never by raw path: ids would explode)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "unmatched"
        HTTP_REQUESTS.labels(view=view, method=request.method, status=response.status_code).inc()
        HTTP_DURATION.labels(view=view).observe(time.perf_counter() - started)
        return response


# --- Celery worker -------------------------------------------------------------------------


def _worker_wsgi_app(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/healthz":  # liveness for the kubelet: reveals nothing
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    allowed = scrape_allowed(
        environ.get("REMOTE_ADDR", ""), environ.get("HTTP_AUTHORIZATION", ""), forwarded=False
    )
    if not allowed or environ.get("PATH_INFO") != "/metrics":
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"forbidden\n"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [exposition(include_state=False)]


def worker_metrics_serve(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - in a pod
    """Serve this Celery worker's event metrics (and ``/healthz``) on ``port`` in a thread."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server(host, port, _worker_wsgi_app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    log.info("worker metrics on port %s", server.server_port)


def multiproc_dir_reset() -> None:
    """Empty the multi-process directory at server start (stale files would be summed in)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))


def process_dead(pid: int) -> None:
    """Forget an exited process's live gauges (gunicorn child_exit, Celery child shutdown)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
