"""/metrics: every family after one check, and who may scrape it."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from authcheck import metrics
from authcheck.detectors.base import DetectorContext, SignalResult
from authcheck.models import Role, User
from authcheck.services import checks, processing
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db

FAMILIES = {
    "authcheck_http_requests",
    "authcheck_http_request_duration_seconds",
    "authcheck_checks",
    "authcheck_verdicts",
    "authcheck_stage_duration_seconds",
    "authcheck_detector_duration_seconds",
    "authcheck_detector_errors",
    "authcheck_webhook_deliveries",
}


class CrashingImageDetector:
    """Fails on every image, so the error counter has something to count."""

    name = "crashing_image"
    version = "1"
    media_kinds = frozenset({"image"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        raise RuntimeError("boom")


def _scrape(client: Client, **extra: str) -> dict[str, dict[tuple[str, tuple], float]]:
    response = client.get("/metrics", **extra)  # type: ignore[arg-type]
    assert response.status_code == 200, response.content
    families: dict[str, dict[tuple[str, tuple], float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        samples = families.setdefault(family.name, {})
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return families


def _value(families: dict, family: str, sample: str, **labels: str) -> float:
    return families[family].get((sample, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def one_check(settings, tmp_path: Path, enqueued: list[int]) -> int:
    """One image check run to its verdict through the real pipeline."""
    settings.AUTHCHECK_DETECTORS = [
        "authcheck.detectors.ai_labels.AiLabelsDetector",
        "tests.deploy.test_metrics.CrashingImageDetector",
    ]
    user = User.objects.create(username="m", role=Role.JOURNALIST)
    data = make_image(tmp_path / "p.jpg", size=(64, 48)).read_bytes()
    submission = checks.check_create(user=user, upload=io.BytesIO(data), filename="p.jpg")
    assert processing.check_process(submission.check.pk) == "done"
    return submission.check.pk


def test_every_family_is_exposed_after_one_check(one_check: int, settings) -> None:
    settings.CELERY_BROKER_URL = ""
    client = Client()
    before = _scrape(client)
    stage_before = _value(
        before,
        "authcheck_stage_duration_seconds",
        "authcheck_stage_duration_seconds_count",
        stage="provenance",
        outcome="done",
    )
    client.get("/healthz")
    after = _scrape(client)
    assert FAMILIES <= set(after), sorted(FAMILIES - set(after))
    assert _value(after, "authcheck_checks", "authcheck_checks", status="done") == 1
    assert _value(after, "authcheck_verdicts", "authcheck_verdicts", label="no_provenance") == 1
    assert (
        _value(
            after,
            "authcheck_http_requests",
            "authcheck_http_requests_total",
            view="healthz",
            method="GET",
            status="200",
        )
        >= 1
    )
    errors = _value(
        after,
        "authcheck_detector_errors",
        "authcheck_detector_errors_total",
        detector="crashing_image",
    )
    assert errors >= 1
    assert stage_before >= 1  # the check's own provenance stage was counted


def test_the_stage_histogram_counts_each_stage_run(one_check: int) -> None:
    client = Client()
    before = _scrape(client)
    key = ("authcheck_stage_duration_seconds_count", (("outcome", "done"), ("stage", "verdict")))
    metrics.stage_observe("verdict", "done", 0.02)
    after = _scrape(client)
    family = "authcheck_stage_duration_seconds"
    assert after[family][key] == before[family].get(key, 0) + 1


def test_other_clients_need_the_token(settings) -> None:
    settings.AUTHCHECK_METRICS_TOKEN = "t" * 32
    client = Client(REMOTE_ADDR="10.1.2.3")
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32).status_code == 200


def test_a_proxied_request_is_not_loopback_even_from_127_0_0_1(settings) -> None:
    # Behind a local reverse proxy every client arrives from 127.0.0.1.
    settings.AUTHCHECK_METRICS_TOKEN = ""
    response = Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 403


def test_without_a_token_only_loopback_may_scrape(settings) -> None:
    settings.AUTHCHECK_METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.5").get("/metrics").status_code == 403


def _broker_or_skip(url: str) -> None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        pytest.skip(f"no broker at {url}")


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/14", "amqp://guest:guest@127.0.0.1:5672//"]
)
def test_queue_depth_is_read_from_the_broker(settings, url: str) -> None:
    _broker_or_skip(url)
    from kombu import Connection, Exchange, Queue

    name = f"deploy-metrics-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_DEFAULT_QUEUE = name
    settings.AUTHCHECK_DETECTOR_QUEUE = f"{name}-detectors"
    queue = Queue(name, Exchange(name), routing_key=name, auto_delete=False)
    with Connection(url) as conn:
        producer = conn.Producer()
        for i in range(3):
            producer.publish({"n": i}, exchange=queue.exchange, routing_key=name, declare=[queue])
        try:
            families = _scrape(Client())
        finally:
            queue(conn.default_channel).delete()
    depth = families["authcheck_queue_depth"]
    assert depth[("authcheck_queue_depth", (("queue", name),))] == 3
    assert depth[("authcheck_queue_depth", (("queue", f"{name}-detectors"),))] == 0
    assert families["authcheck_broker_up"][("authcheck_broker_up", ())] == 1
