"""Dashboard fixtures: people with real passwords and logged-in test clients."""

from __future__ import annotations

import pytest
from django.test import Client

from authcheck.models import Check, Role, User
from authcheck.services.people import user_upsert
from tests.dashboard.browser import browser  # noqa: F401  (fixture for the browser tests)
from tests.e2e.conftest import celery_worker, worker_env  # noqa: F401  (fixtures, CI only)

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
def broker_url(settings) -> str:
    """The browser flow's worker runs on the configured broker (Redis in CI); the e2e suite
    itself covers RabbitMQ."""
    return str(settings.CELERY_BROKER_URL)


@pytest.fixture
def tasks_run(request: pytest.FixtureRequest, settings) -> object:
    """Submitted checks get processed: in-process on the embedded default, by a real Celery
    worker against Redis and PostgreSQL when CELERY_BROKER_URL is set (CI)."""
    if settings.CELERY_BROKER_URL:
        return request.getfixturevalue("celery_worker")
    return None


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


HOSTILE_TITLE = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    '\u202egnp.exe <a href="javascript:window.__xss=3">click</a>'
)
HOSTILE_GENERATOR = "javascript:window.__xss=4 " + "x" * 400


def analyzed(user: User, path, *, name: str = "") -> Check:
    """A real check of ``path``: submitted through check_create, then processed inline."""
    from authcheck.services import processing
    from authcheck.services.checks import check_create

    with open(path, "rb") as handle:
        check = check_create(
            user=user, upload=handle, filename=name or path.name, client="dashboard", enqueue=False
        ).check
    if check.status == "queued":
        processing.check_process(check.pk)
    return Check.objects.select_related("media", "submitter").get(pk=check.pk)


def hostile_jpeg(path):
    """A validly signed JPEG whose title, generator and assertion values are hostile markup."""
    from tests import c2pa_fixtures as c2pa

    definition = c2pa.manifest(
        HOSTILE_TITLE,
        claim_generator=HOSTILE_GENERATOR,
        agent=HOSTILE_TITLE,
        extra_assertions=[{"label": "org.authcheck.hostile", "data": {"text": HOSTILE_TITLE}}],
    )
    return c2pa.signed_jpeg(path, definition)


# The injection strings of c2pa-attacks (github.com/contentauth/c2pa-attacks, attacks/):
# ``xss.attack`` line by line; ``special_characters.attack`` is a binary file, so this is a
# selection of the same kind (C0 controls, bidi overrides and isolates, zero-width and other
# invisible characters, quotes, combining marks, emoji); ``ten_thousand_characters.attack`` is
# one 10,000-character string.
C2PA_ATTACKS_XSS = (
    "<script>alert('xss');</script>",
    "\"><script>alert('xss');</script><foo bar=\"",
    '" onmouseover="document.location="https://github.com/contentauth/" foo="',
    "javascript:alert('xss');",
)
HIDDEN_MARKED = (
    "\u202e\u202d\u202a\u202b\u202c\u2066\u2067\u2068\u2069"  # bidi overrides, isolates
    "\u200e\u200f\u200b\u200d\ufeff\u2060\u00ad\u061c"  # marks, zero-width, soft hyphen
)
C2PA_ATTACKS_SPECIAL = (
    "special \x01\x07\x08\x1b[31m\x7f|"
    + HIDDEN_MARKED
    + "|'\"`\\ %s%n{{7*7}} e\u0301\u0338 \U0001f600 \ufffd"
)
C2PA_ATTACKS_LONG = "a" * 10_000
C2PA_ATTACKS = (*C2PA_ATTACKS_XSS, C2PA_ATTACKS_SPECIAL, C2PA_ATTACKS_LONG)


def attack_jpeg(path, text: str):
    """A validly signed JPEG whose title, claim generator and software agent are ``text``."""
    from tests import c2pa_fixtures as c2pa

    definition = c2pa.manifest(text, claim_generator=text, agent=text)
    return c2pa.signed_jpeg(path, definition)
