"""API test fixtures: clients holding real tokens, a task recorder, and no outbound sockets."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from authcheck.models import Role, User
from tests.factories import UserFactory, token_for
from tests.mediagen import make_image

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def _no_outbound_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a non-loopback TCP connection fails the test."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOOPBACK:
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """``with committed(execute=True):`` runs on-commit callbacks (the enqueue) at block end."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def client_for() -> Callable[..., APIClient]:
    """``client_for(user)``: an API client sending a fresh real bearer token of ``user``."""

    def make(user: User, **token_kwargs: Any) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, **token_kwargs)}")
        return client

    return make


@pytest.fixture
def journalist(db: None) -> User:
    return UserFactory(username="jo", role=Role.JOURNALIST)


@pytest.fixture
def editor(db: None) -> User:
    return UserFactory(username="ed", role=Role.EDITOR)


@pytest.fixture
def jo(client_for: Callable[..., APIClient], journalist: User) -> APIClient:
    return client_for(journalist)


@pytest.fixture
def ed(client_for: Callable[..., APIClient], editor: User) -> APIClient:
    return client_for(editor)


@pytest.fixture
def jpeg(tmp_path: Path) -> Iterator[Path]:
    yield make_image(tmp_path / "photo.jpg", size=(96, 64))
