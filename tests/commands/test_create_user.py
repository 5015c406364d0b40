"""``manage.py create_user NAME --role ROLE``: password from the environment, never printed."""

from __future__ import annotations

import pytest

from authcheck.models import AuditEvent, User
from tests.commands.helpers import run_command

pytestmark = pytest.mark.django_db
SECRET = "a long enough passphrase 42"


def test_it_creates_a_login_with_the_password_from_the_environment(capsys, monkeypatch) -> None:
    monkeypatch.setenv("AUTHCHECK_PASSWORD", SECRET)
    code, out, err = run_command(capsys, "create_user", "maria", "--role", "editor")
    assert code == 0 and out.strip() == "created maria (editor)"
    assert SECRET not in out + err
    user = User.objects.get(username="maria")
    assert user.role == "editor" and user.check_password(SECRET)
    event = AuditEvent.objects.get(action="user.created")
    assert SECRET not in event.body


def test_it_updates_an_existing_person(capsys, monkeypatch) -> None:
    monkeypatch.setenv("AUTHCHECK_PASSWORD", SECRET)
    run_command(capsys, "create_user", "maria", "--role", "journalist")
    monkeypatch.setenv("AUTHCHECK_PASSWORD", SECRET + " changed")
    code, out, _ = run_command(capsys, "create_user", "maria", "--role", "admin")
    assert code == 0 and out.strip() == "updated maria (admin)"
    assert User.objects.get(username="maria").check_password(SECRET + " changed")


def test_it_refuses_an_unknown_role_and_a_weak_password(capsys, monkeypatch) -> None:
    monkeypatch.setenv("AUTHCHECK_PASSWORD", SECRET)
    code, _, err = run_command(capsys, "create_user", "maria", "--role", "boss")
    assert code == 2 and "role must be one of" in err
    monkeypatch.setenv("AUTHCHECK_PASSWORD", "123")
    code, out, err = run_command(capsys, "create_user", "maria", "--role", "editor")
    assert code == 2 and "123" not in out
    assert not User.objects.filter(username="maria").exists()


def test_without_a_password_and_no_terminal_it_exits_2(capsys, monkeypatch) -> None:
    monkeypatch.delenv("AUTHCHECK_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run_command(capsys, "create_user", "maria", "--role", "editor")
    assert code == 2 and "AUTHCHECK_PASSWORD" in err
