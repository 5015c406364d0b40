"""``python manage.py create_user NAME --role ROLE``: create or update a dashboard login.

The password comes from ``AUTHCHECK_PASSWORD`` or, on a terminal, an interactive prompt (asked
twice); it is never printed. Exit 2 with a one-line message on bad usage (unknown role, weak or
mismatched password, no password available).
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.errors import AuthcheckError
from authcheck.models import Role
from authcheck.services.people import user_upsert

from ._output import fail


class Command(BaseCommand):
    help = "Create or update a person with a password (from AUTHCHECK_PASSWORD or a prompt)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="user name")
        parser.add_argument("--role", required=True, help=f"one of {', '.join(Role.values)}")

    def _password(self) -> str:
        from_env = os.environ.get("AUTHCHECK_PASSWORD", "")
        if from_env:
            return from_env
        if not sys.stdin.isatty():
            fail(self, "create_user: set AUTHCHECK_PASSWORD or run on a terminal to be asked")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            fail(self, "create_user: the passwords differ")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        if options["role"] not in Role.values:
            fail(self, f"create_user: role must be one of {', '.join(Role.values)}")
        try:
            user, created = user_upsert(
                username=options["name"], role=options["role"], password=self._password()
            )
        except AuthcheckError as exc:
            fail(self, f"create_user: {exc.message}")
        verb = "created" if created else "updated"
        self.stdout.write(f"{verb} {user.username} ({user.role})")
