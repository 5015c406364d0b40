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


def _caches_with(monkeypatch, **env: str) -> dict:
    import importlib

    import authcheck.settings as module

    for name in ("AUTHCHECK_CACHE_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        return importlib.reload(module).CACHES["default"]
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_the_cache_is_shared_redis_when_configured_or_a_file_cache_never_per_process(
    monkeypatch,
) -> None:
    redis = "django.core.cache.backends.redis.RedisCache"
    assert _caches_with(monkeypatch, AUTHCHECK_CACHE_URL="redis://c:6379/2")["LOCATION"] == (
        "redis://c:6379/2"
    )
    broker = _caches_with(monkeypatch, CELERY_BROKER_URL="redis://b:6379/0")
    assert (broker["BACKEND"], broker["LOCATION"]) == (redis, "redis://b:6379/0")
    embedded = _caches_with(monkeypatch)
    assert embedded["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
