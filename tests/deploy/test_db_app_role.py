"""db_app_role: the migration step creates the restricted role the web and workers log in as."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from tests.commands.helpers import run_command

pytestmark = pytest.mark.django_db


def _privilege(table: str, what: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege('authcheck_app', %s, %s)", [table, what])
        return bool(cursor.fetchone()[0])


def test_it_creates_the_role_with_its_password_and_append_only_audit(
    tmp_path: Path, capsys
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no roles")
    secret = tmp_path / "pw"
    secret.write_text("a-long-generated-password\n")
    code, out, err = run_command(capsys, "db_app_role", "--password-file", str(secret))
    assert code == 0, err
    assert "authcheck_app ready" in out
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolcanlogin, rolsuper, rolpassword IS NOT NULL FROM pg_authid"
            " WHERE rolname = 'authcheck_app'"
        )
        assert cursor.fetchone() == (True, False, True)
    assert _privilege("authcheck_auditevent", "INSERT")
    assert not _privilege("authcheck_auditevent", "UPDATE")
    assert not _privilege("authcheck_auditevent", "DELETE")
    assert _privilege("authcheck_check", "UPDATE")
    # Run twice (every deploy runs it): still fine.
    assert run_command(capsys, "db_app_role", "--password-file", str(secret))[0] == 0


def test_a_short_password_or_sqlite_is_bad_usage(tmp_path: Path, capsys) -> None:
    secret = tmp_path / "pw"
    secret.write_text("short")
    code, _, err = run_command(capsys, "db_app_role", "--password-file", str(secret))
    assert code == 2
    assert "at least 16" in err or "PostgreSQL only" in err
    code, _, err = run_command(capsys, "db_app_role", "--password-file", str(tmp_path / "none"))
    assert code == 2 and "cannot read" in err
