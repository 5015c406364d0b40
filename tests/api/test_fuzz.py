"""Generative tests of the REST API from its own OpenAPI document (SECURITY.md F1).

schemathesis reads ``/api/v1/schema/`` from the WSGI application in-process and, for every
operation, sends schema examples, coverage cases and fuzzed requests (valid and invalid) with a
real bearer token. Every built-in check runs (no 5xx, status code, content type, headers and
body conform to the schema, invalid data rejected, valid data accepted, auth not ignored), plus
our own: every 4xx is a problem JSON body whose ``code`` is a stable slug. Nothing is fetched or
queued: URL submissions are only validated and the enqueue functions are replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from authcheck.api.errors import PROBLEM_CONTENT_TYPE
from authcheck.models import Role
from authcheck.services.checks import check_create
from authcheck.wsgi import application
from tests.factories import DoneCheckFactory, UserFactory, token_for

# A submission can be schema-valid and still refused on grounds JSON Schema cannot express: a
# URL whose host or port may not be fetched (422 url_blocked, url_port, ...) or bytes that are
# not media (415 unsupported_media), or a screenshot whose bytes are not the image it says (422
# evidence_invalid). Only for this operation do 415 and 422 join schemathesis'
# default statuses for valid data, and `semantic_refusals_are_named` pins the codes they carry.
VALID_DATA_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "415", "422", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-operation-id": "checks_create",
                "checks": {"positive_data_acceptance": {"expected-statuses": VALID_DATA_STATUSES}},
            },
            # A schema-valid multipart file may hold no usable CSV (422 batch_csv_invalid, ...).
            # A receiver URL can be schema-valid and refused (422 url_blocked, ...), and the
            # fuzzer registers more than the 20 webhooks a user may have (409).
            {
                "include-operation-id": "webhooks_create",
                "checks": {"positive_data_acceptance": {"expected-statuses": VALID_DATA_STATUSES}},
            },
            {
                "include-operation-id": "checks_batch_create",
                "checks": {"positive_data_acceptance": {"expected-statuses": VALID_DATA_STATUSES}},
            },
        ]
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=CONFIG)

FUZZ_SETTINGS = settings(
    max_examples=30,
    derandomize=True,  # the same cases on every run and machine
    deadline=None,
    database=None,  # nothing replayed from earlier runs: what runs is what the seed gives
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,  # one DB transaction and one token for all examples
    ],
)

CODE_RE = re.compile(r"[a-z][a-z0-9_]{2,63}")
SEMANTIC_REFUSALS = {
    422: {
        "url_invalid",
        "url_scheme",
        "url_port",
        "url_userinfo",
        "url_blocked",
        "evidence_invalid",
        "batch_csv_invalid",
        "batch_too_large",
        "batch_empty",
    },
    415: {"unsupported_media", "unsupported_media_type"},
}


def problem_body_on_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is ``application/problem+json`` with a stable ``code`` and its own status."""
    if not 400 <= response.status_code < 500:
        return None
    assert response.headers.get("content-type") == [PROBLEM_CONTENT_TYPE], response.headers
    body = response.json()
    assert body["type"] == "about:blank" and isinstance(body["title"], str), body
    assert body["status"] == response.status_code, body
    assert CODE_RE.fullmatch(body["code"]) and body["code"] != "error", body
    assert isinstance(body["detail"], str) and body["detail"], body
    return True


def semantic_refusals_are_named(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 415 or 422 carries one of the refusal codes it is documented with."""
    allowed = SEMANTIC_REFUSALS.get(response.status_code)
    if allowed is None:
        return None
    assert response.json()["code"] in allowed, response.text
    return True


OUR_CHECKS = [problem_body_on_4xx, semantic_refusals_are_named]


@pytest.fixture
def no_enqueue(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Replace both enqueue functions: a fuzzed submission must never start real work."""
    sent: list[tuple[Any, ...]] = []
    record = sent.append
    monkeypatch.setattr("authcheck.services.dispatch.enqueue_check", lambda *args: record(args))
    monkeypatch.setattr("authcheck.services.publish.detector_publish", lambda *args: record(args))
    return sent


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Stop Django closing the DB connection around each request, as its test client does.

    The WSGI handler sends ``request_started``/``request_finished``, whose receiver
    ``close_old_connections`` would close the connection holding the test's transaction
    (PostgreSQL then answers every later request with "the connection is closed").
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(
    db: None, keep_test_connection: None, no_enqueue: list[tuple[Any, ...]]
) -> dict[str, Any]:
    """A journalist and an editor, a finished check with media and verdict, a queued URL check
    (made through the service, so it has audit events)."""
    journalist = UserFactory(username="fuzz-jo", role=Role.JOURNALIST)
    editor = UserFactory(username="fuzz-ed", role=Role.EDITOR)
    done = DoneCheckFactory(submitter=journalist)
    queued = check_create(user=journalist, url="https://news.example/clip.mp4").check
    return {
        "journalist": journalist,
        "editor": editor,
        "check_ids": [done.pk, queued.pk],
        "sha256": done.media.sha256,
    }


def aim_at_seeded_data(case: Any, world: dict[str, Any]) -> None:
    """Point part of the valid ids and hashes at seeded rows, so 200 paths are fuzzed too.

    Only values that are already valid are swapped for other valid values: a negative case
    (a text id, a malformed hash) stays exactly as generated.
    """
    params = case.path_parameters or {}
    pk = params.get("id")
    if isinstance(pk, int) and not isinstance(pk, bool) and pk >= 0 and pk % 2 == 0:
        ids = world["check_ids"]
        params["id"] = ids[(pk // 2) % len(ids)]
    sha = params.get("sha256")
    if isinstance(sha, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha) and sha[0] in "01234567":
        params["sha256"] = world["sha256"]


# Real tokens of the running test, by role. schemathesis asks the auth providers below for
# credentials while it builds cases, and builds its coverage cases when the test is created,
# before any fixture runs; so providers hand out a placeholder per role, swapped for the real
# token just before sending. A case that is about the credentials themselves (Authorization
# dropped or mangled) gets no placeholder and is sent as generated.
TOKENS: dict[str, str] = {}
SENT_WITH_TOKEN: list[str] = []


@pytest.fixture
def tokens(world: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Fresh real tokens for the seeded journalist and editor, for this test only."""
    TOKENS.update(journalist=token_for(world["journalist"]), editor=token_for(world["editor"]))
    SENT_WITH_TOKEN.clear()
    yield TOKENS
    TOKENS.clear()
    # Guards the placeholder plumbing: a run where no case carried a real token proves nothing.
    assert SENT_WITH_TOKEN, "no generated case was sent with a real token"


def placeholder(role: str) -> str:
    """The Authorization value a provider sets for ``role`` until the real token is known."""
    return f"Bearer <{role} token>"


class _BearerAuth:
    """Marks the case as carrying ``role``'s bearer token."""

    role = ""

    def get(self, case: Any, ctx: Any) -> str:
        """The role, resolved to a token by ``with_real_token``."""
        return self.role

    def set(self, case: Any, data: str, ctx: Any) -> None:
        """Put the role's placeholder in the Authorization header."""
        case.headers["Authorization"] = placeholder(data)


class JournalistAuth(_BearerAuth):
    role = "journalist"


class EditorAuth(_BearerAuth):
    role = "editor"


def with_real_token(case: Any) -> None:
    """Swap a provider's placeholder for the current test's real token."""
    headers = case.headers or {}
    for role, token in TOKENS.items():
        if headers.get("Authorization") == placeholder(role):
            headers["Authorization"] = f"Bearer {token}"
            SENT_WITH_TOKEN.append(role)


def sends_an_empty_file(case: Any) -> bool:
    """True when the multipart ``file`` part is empty.

    werkzeug's test client (the WSGI transport) encodes an empty file part without the CRLF
    that must precede the next boundary, so Django reads no file and answers 400. Through a
    real client an empty file is accepted (tests/api/test_verify_media.py covers zero bytes).
    """
    body = case.body
    return isinstance(body, dict) and body.get("file", None) in (b"", "")


def call_and_check(case: Any, world: dict[str, Any]) -> Any:
    """Send ``case`` (aimed partly at seeded rows) and apply every check."""
    aim_at_seeded_data(case, world)
    with_real_token(case)
    excluded = [positive_data_acceptance] if sends_an_empty_file(case) else None
    return case.call_and_validate(additional_checks=OUR_CHECKS, excluded_checks=excluded)


@schema.auth(JournalistAuth, refresh_interval=None)
@schema.parametrize()
@FUZZ_SETTINGS
def test_journalist_token(case: Any, world: dict[str, Any], tokens: dict[str, str]) -> None:
    """A journalist: submits, lists, reads own checks; reviews are refused (403)."""
    call_and_check(case, world)


@schema.auth(EditorAuth, refresh_interval=None)
@schema.parametrize()
@FUZZ_SETTINGS
def test_editor_token(case: Any, world: dict[str, Any], tokens: dict[str, str]) -> None:
    """An editor: sees every check and records reviews; submitting is refused (403)."""
    call_and_check(case, world)


@schema.parametrize()
@settings(FUZZ_SETTINGS, max_examples=5)
def test_without_a_token_every_answer_is_a_401_problem(case: Any, world: dict[str, Any]) -> None:
    """No token: never a 5xx, never data; a 401 problem body (404 when the path cannot match)."""
    response = call_and_check(case, world)
    assert response.status_code in (401, 404), (response.status_code, response.text[:300])
