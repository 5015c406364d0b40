"""API test fixtures: clients holding real tokens (the socket guard is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from authcheck.models import Role, User
from tests.factories import UserFactory, token_for
from tests.mediagen import make_image


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
