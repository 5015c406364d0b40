"""``manage.py create_api_token``: creates the user, prints the token alone on the last line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from authcheck.models import ApiToken, AuditEvent, Role, User
from authcheck.services.tokens import token_authenticate
from tests.commands.helpers import run_command

pytestmark = pytest.mark.django_db


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_command(capsys, "create_api_token", *args)


def test_it_creates_the_user_and_prints_a_working_token_last(capsys) -> None:
    code, out, err = run(capsys, "--user", "cms-bot", "--role", "api_client", "--name", "cms")
    assert (code, err) == (0, "")
    raw = out.strip().splitlines()[-1]
    user = User.objects.get(username="cms-bot")
    assert user.role == Role.API_CLIENT and not user.has_usable_password()
    assert token_authenticate(raw) == user
    assert ApiToken.objects.get().name == "cms"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert actions == {"user.created", "token.created"}


def test_an_existing_user_gets_the_role_and_a_second_token(capsys) -> None:
    User.objects.create(username="ann", role=Role.JOURNALIST)
    code, out, _ = run(capsys, "--user", "ann", "--role", "editor", "--expires-days", "7")
    assert code == 0
    token = ApiToken.objects.get()
    assert User.objects.get(username="ann").role == Role.EDITOR
    assert token.expires_at is not None
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert AuditEvent.objects.filter(action="user.role_changed").count() == 1
    assert token_authenticate(out.strip().splitlines()[-1]) is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--user", "x", "--role", "root"], "unknown role"),
        (["--user", "bad name!", "--role", "editor"], "invalid user name"),
        (["--user", "x", "--role", "editor", "--expires-days", "0"], "positive"),
    ],
)
def test_bad_usage_exits_2_with_one_line_and_creates_nothing(capsys, args, message) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert not User.objects.exists() and not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(capsys) -> None:
    User.objects.create(username="gone", role=Role.JOURNALIST, is_active=False)
    code, _, err = run(capsys, "--user", "gone", "--role", "journalist")
    assert code == 2 and "inactive" in err
    assert not ApiToken.objects.exists()
