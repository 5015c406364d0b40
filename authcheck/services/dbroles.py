"""The restricted PostgreSQL role of deploy/postgres/app_role.sql, applied by the migration step.

Runs as the owner role right after ``migrate`` (compose's ``migrate`` service, the Kubernetes
migration Job), so the web and workers never hold a role that may rewrite the audit trail.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

APP_ROLE = "authcheck_app"
APP_ROLE_SQL = Path(settings.BASE_DIR) / "deploy" / "postgres" / "app_role.sql"


class NotPostgres(Exception):
    """The database is not PostgreSQL: there are no roles to restrict."""


def app_role_apply(password: str) -> None:
    """Create or update ``authcheck_app`` with its grants, and set its login password."""
    if connection.vendor != "postgresql":
        raise NotPostgres("the application role exists on PostgreSQL only")
    if len(password) < 16:
        raise ValueError("the application role's password must be at least 16 characters")
    from psycopg import sql

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(APP_ROLE_SQL.read_text())
        statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(APP_ROLE), sql.Literal(password)
        )
        cursor.execute(statement.as_string(cursor.connection))
