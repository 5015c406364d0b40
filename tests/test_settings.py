"""Configuration that must hold for no work to be lost or delivered twice (SECURITY R7)."""

from __future__ import annotations

from django.conf import settings

from authcheck.celery import app


def test_the_visibility_timeout_outlives_the_hard_time_limit() -> None:
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < visibility
    assert app.conf.broker_transport_options["visibility_timeout"] == visibility


def test_tasks_are_acknowledged_late_one_at_a_time_as_json() -> None:
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]


def test_debug_is_off_by_default() -> None:
    assert settings.DEBUG is False
