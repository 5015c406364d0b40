"""``python manage.py db_app_role --password-file FILE``: apply deploy/postgres/app_role.sql.

Run as the owner role after ``migrate``; sets the login password of ``authcheck_app`` from
FILE (a Docker or Kubernetes secret). Exit 2 on SQLite or an unreadable or short password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.services.dbroles import APP_ROLE, NotPostgres, app_role_apply

from ._output import fail


class Command(BaseCommand):
    help = "Create or update the restricted application role and set its password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password-file", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["password_file"]
        try:
            password = path.read_text().strip()
        except OSError as exc:
            fail(self, f"db_app_role: cannot read {path}: {exc.strerror or exc}")
        try:
            app_role_apply(password)
        except (NotPostgres, ValueError) as exc:
            fail(self, f"db_app_role: {exc}")
        self.stdout.write(f"role {APP_ROLE} ready")
