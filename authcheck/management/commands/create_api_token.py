"""``python manage.py create_api_token --user NAME --role ROLE [--name N] [--expires-days D]``.

Creates the user if needed (unusable password: API only) or gives an existing user ROLE, then
prints a new token once, alone on the last line. Exit 2 with a one-line message on bad usage
(unknown role, bad user name, inactive user, non-positive expiry).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from authcheck.errors import AuthcheckError
from authcheck.models import Role
from authcheck.services.tokens import token_create, token_user_ensure

from ._output import fail


class Command(BaseCommand):
    help = "Create an API token for a user (created if needed) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="user name")
        parser.add_argument("--role", required=True, help=f"one of {', '.join(Role.values)}")
        parser.add_argument("--name", default="", help="a label for the token")
        parser.add_argument(
            "--expires-days", type=int, default=None, help="expire after this many days"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["expires_days"]
        if days is not None and days <= 0:
            fail(self, "create_api_token: --expires-days must be a positive number of days")
        try:
            user, created = token_user_ensure(options["user"], options["role"])
        except AuthcheckError as exc:
            fail(self, f"create_api_token: {exc.message}")
        if not user.is_active:
            fail(self, f"create_api_token: user {user.username} is inactive")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        token, raw = token_create(user, name=options["name"], expires_at=expires_at)
        verb = "created user" if created else "user"
        until = f", expires {expires_at.isoformat()}" if expires_at else ""
        self.stdout.write(
            f"{verb} {user.username} ({user.role}); token {token.prefix}{until}. "
            "It is shown once: store it now."
        )
        self.stdout.write(raw)
