"""Bearer tokens: hashed at rest, shown once, refused when revoked/expired/inactive, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from authcheck.models import ApiToken, AuditEvent, Role
from authcheck.services.tokens import (
    LAST_USED_RESOLUTION,
    token_authenticate,
    token_create,
    token_lookup,
    token_revoke,
)
from tests.api.helpers import problem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/checks"


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_plaintext_appears_in_no_column_of_any_table() -> None:
    user = UserFactory(role=Role.API_CLIENT)
    token, raw = token_create(user, name="cms")
    secret = raw.split("_", 2)[2]
    assert raw.startswith(f"ac_{token.prefix}_") and len(token.prefix) == 8
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row)
                assert secret not in text, table
                assert raw not in text, table


def test_a_valid_token_authenticates_and_an_altered_one_does_not() -> None:
    user = UserFactory(role=Role.JOURNALIST)
    _, raw = token_create(user)
    assert token_authenticate(raw) == user
    assert token_authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert token_authenticate("ac_00000000_" + raw.split("_", 2)[2]) is None
    assert token_authenticate("") is None and token_authenticate("garbage") is None


def test_creation_and_revocation_are_audited_and_revoking_twice_changes_nothing() -> None:
    user = UserFactory(role=Role.JOURNALIST)
    admin = UserFactory(role=Role.ADMIN, username="root")
    token, raw = token_create(user)
    token_revoke(token, admin)
    first = token.revoked_at
    token_revoke(token, admin)
    assert token.revoked_at == first is not None
    actions = list(AuditEvent.objects.values_list("action", "actor"))
    assert actions == [("token.created", "system"), ("token.revoked", "user:root")]
    assert token_authenticate(raw) is None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ac_deadbeef_nope",
        "Bearer ac_x",
        "Bearer",
        "Bearer a b",
        "bearer ac_12345678_" + "x" * 43,
    ],
)
def test_bad_tokens_get_one_uniform_401(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    body = problem(client.get(LIST), 401, "authentication_failed")
    response = client.get(LIST)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["detail"] in {
        "invalid, expired or revoked token",
        "malformed Authorization header: use 'Bearer <token>'",
    }


def test_no_token_is_not_authenticated_with_a_bearer_challenge() -> None:
    response = APIClient().get(LIST)
    problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="authcheck"'


def test_revoked_expired_and_inactive_all_answer_like_an_unknown_token() -> None:
    user = UserFactory(role=Role.JOURNALIST)
    revoked, raw_revoked = token_create(user)
    token_revoke(revoked, None)
    _, raw_expired = token_create(user, expires_at=timezone.now() - timedelta(seconds=1))
    other = UserFactory(role=Role.JOURNALIST, is_active=False)
    _, raw_inactive = token_create(other)
    bodies = [
        problem(bearer(raw).get(LIST), 401, "authentication_failed")
        for raw in (raw_revoked, raw_expired, raw_inactive, "ac_ffffffff_unknown")
    ]
    assert all(body == bodies[0] for body in bodies)


def test_a_token_that_has_not_expired_yet_works() -> None:
    user = UserFactory(role=Role.JOURNALIST)
    _, raw = token_create(user, expires_at=timezone.now() + timedelta(hours=1))
    assert bearer(raw).get(LIST).status_code == 200


def test_last_used_at_is_written_on_use_but_at_most_once_a_minute() -> None:
    user = UserFactory(role=Role.JOURNALIST)
    token, raw = token_create(user)
    assert token.last_used_at is None
    bearer(raw).get(LIST)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    bearer(raw).get(LIST)
    token.refresh_from_db()
    assert token.last_used_at == first
    stale = timezone.now() - LAST_USED_RESOLUTION - timedelta(seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    assert token_lookup(raw) is not None
    token.refresh_from_db()
    assert token.last_used_at > stale


def test_a_user_without_a_role_is_authenticated_but_denied() -> None:
    user = UserFactory(role="")
    _, raw = token_create(user)
    for method, path in [("get", LIST), ("post", "/api/v1/verify"), ("get", "/api/v1/checks/1")]:
        problem(getattr(bearer(raw), method)(path), 403, "permission_denied")
