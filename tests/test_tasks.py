"""Enqueueing: in-process threads on the embedded default, Celery otherwise, nothing lost."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from authcheck import tasks
from authcheck.models import Check, User
from authcheck.services import checks, dispatch, publish
from tests.mediagen import make_image


@pytest.mark.django_db(transaction=True)
def test_the_embedded_default_runs_checks_in_a_background_thread(tmp_path: Path, settings) -> None:
    settings.AUTHCHECK_TASKS_IN_PROCESS = True
    settings.AUTHCHECK_DETECTORS = ["tests.services.fake_detectors.LoudnessDetector"]
    user = User.objects.create(username="solo", role="journalist")
    data = make_image(tmp_path / "p.png", size=(32, 32)).read_bytes()
    check = checks.check_create(user=user, upload=io.BytesIO(data), filename="p.png").check
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        check.refresh_from_db()
        if check.status in {"done", "failed"}:
            break
        time.sleep(0.05)
    assert check.status == "done"
    assert check.verdicts.get().label == "no_provenance"


@pytest.mark.django_db
def test_a_failed_publish_leaves_the_check_queued_for_the_sweeper(
    tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    settings.AUTHCHECK_TASKS_IN_PROCESS = False

    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(publish, "check_publish", broker_down)
    user = User.objects.create(username="b", role="journalist")
    data = make_image(tmp_path / "p.png").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        check = checks.check_create(user=user, upload=io.BytesIO(data), filename="p.png").check
    assert Check.objects.get(pk=check.pk).status == "queued"


@pytest.mark.django_db
def test_the_celery_task_processes_through_the_fan_out(
    tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AUTHCHECK_DETECTORS = ["tests.services.fake_detectors.LoudnessDetector"]
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(publish, "detector_publish", lambda c, d: sent.append((c, d)))
    monkeypatch.setattr(dispatch, "enqueue_check", lambda c: None)
    user = User.objects.create(username="c", role="journalist")
    from tests.mediagen import make_audio

    data = make_audio(tmp_path / "a.wav").read_bytes()
    check = checks.check_create(user=user, upload=io.BytesIO(data), filename="a.wav").check
    assert tasks.check_process_task.run(check.pk) == "waiting"
    assert tasks.detector_task.run(check.pk, "loudness") == "done"
    assert Check.objects.get(pk=check.pk).status == "done"


def test_background_work_is_routed_to_the_notifications_queue_never_the_checks_queue() -> None:
    """Webhook deliveries and re-verification passes never wait behind (or hold up) intake."""
    from django.conf import settings

    from authcheck.celery import app

    for name in (
        "authcheck.tasks.webhook_deliver_task",
        "authcheck.tasks.webhook_sweep_task",
        "authcheck.tasks.reverify_task",
    ):
        queue = app.amqp.router.route({}, name)["queue"].name
        assert queue == settings.AUTHCHECK_WEBHOOK_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
