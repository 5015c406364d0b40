"""``manage.py api_tokens``: list without secrets, revoke by prefix (audited), refuse unknowns."""

from __future__ import annotations

import json

import pytest

from authcheck.models import AuditEvent, User
from authcheck.services.tokens import token_authenticate, token_create
from tests.commands.helpers import run_command

pytestmark = pytest.mark.django_db


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_command(capsys, "api_tokens", *args)


@pytest.fixture
def issued() -> tuple[str, str]:
    user = User.objects.create(username="jo", role="journalist")
    token, raw = token_create(user, name="laptop")
    return token.prefix, raw


def test_list_shows_tokens_but_never_a_secret(capsys, issued) -> None:
    prefix, raw = issued
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["prefix"] == prefix and row["user"] == "jo" and row["revoked_at"] is None
    assert raw.split("_", 2)[2] not in out


@pytest.mark.parametrize("form", ["prefix", "whole token"])
def test_revoke_by_prefix_or_whole_token_stops_the_token_and_is_audited(
    capsys, issued, form: str
) -> None:
    prefix, raw = issued
    assert token_authenticate(raw) is not None
    code, out, _ = run(capsys, "revoke", prefix if form == "prefix" else raw)
    assert code == 0 and prefix in out
    assert token_authenticate(raw) is None
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1


def test_an_unknown_prefix_exits_2_with_one_line(capsys, issued) -> None:
    code, out, err = run(capsys, "revoke", "deadbeef")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
