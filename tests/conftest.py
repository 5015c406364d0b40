"""Shared test setup: every test gets its own media directory; no test reaches the internet."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_TMP_DIR = tmp_path / "tmp"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the check ids that would be sent to a worker (nothing runs)."""
    sent: list[int] = []
    monkeypatch.setattr("authcheck.tasks.enqueue_check", sent.append)
    return sent


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> None:
    """On PostgreSQL, let the test runner empty tables between transactional tests.

    The audit trigger refuses TRUNCATE of the audit table unless the session setting
    ``authcheck.audit_truncate`` is ``allow`` (see migration 0002). Only the throw-away test
    database gets that default; production databases never do.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"ALTER DATABASE {name} SET authcheck.audit_truncate = 'allow'")
    connection.close()
