"""Shared test setup: every test gets its own media directory; no test reaches the internet."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.receiver import receiver  # noqa: F401 (a fixture for every test package)


def _is_loopback(host: Any) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(autouse=True)
def _no_outbound_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a TCP/UDP connection to a non-loopback address fails the test."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise AssertionError(f"test tried to connect to {address!r}")

    def connect(self: socket.socket, address: Any) -> Any:
        refuse(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        refuse(self, address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_TMP_DIR = tmp_path / "tmp"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    settings.AUTHCHECK_REPORT_KEY_FILE = tmp_path / "report-signing-key.pem"
    (tmp_path / "tmp").mkdir()
    # The configured cache is shared (Redis or a file cache that outlives the run): throttle
    # counters of one test or run must not leak into the next, so each test gets its own.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the check ids that would be sent to a worker (nothing runs)."""
    sent: list[int] = []
    monkeypatch.setattr("authcheck.services.dispatch.enqueue_check", sent.append)
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
