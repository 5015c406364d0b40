"""Dashboard fixtures: people with real passwords and logged-in test clients."""

from __future__ import annotations

import pytest
from django.test import Client

from authcheck.models import Role, User
from authcheck.services.people import user_upsert

PASSWORD = "correct horse battery staple"


def person(name: str, role: str) -> User:
    """A dashboard user created through the people service."""
    return user_upsert(username=name, role=role, password=PASSWORD)[0]


def client_for(user: User) -> Client:
    """A test client logged in as ``user`` through the real login form."""
    client = Client()
    response = client.post("/dashboard/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def journalist(db) -> User:
    return person("jo", Role.JOURNALIST)


@pytest.fixture
def other_journalist(db) -> User:
    return person("kim", Role.JOURNALIST)


@pytest.fixture
def editor(db) -> User:
    return person("ed", Role.EDITOR)


@pytest.fixture
def second_editor(db) -> User:
    return person("eve", Role.EDITOR)


@pytest.fixture
def admin(db) -> User:
    return person("ada", Role.ADMIN)
