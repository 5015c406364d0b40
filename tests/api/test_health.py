"""Liveness touches nothing; readiness checks database, broker (when configured) and media."""

from __future__ import annotations

import socket

import pytest
from django.db.utils import OperationalError
from django.test import Client


def test_healthz_answers_without_any_database() -> None:
    # No django_db mark: any database access in this test raises.
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_ok_with_in_process_tasks(settings) -> None:
    settings.CELERY_BROKER_URL = ""
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "skipped", "media": "ok"}
    assert response["Cache-Control"] == "no-store"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_readyz_names_an_unreachable_broker(settings) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_names_an_unwritable_media_dir(settings, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings.MEDIA_ROOT = blocker / "media"
    response = Client().get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["media"]


@pytest.mark.django_db
def test_readyz_names_a_failing_database(monkeypatch) -> None:
    def down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("authcheck.api.health._database", down)
    response = Client().get("/readyz")
    assert response.status_code == 503 and "database" in response.json()["failed"]
