"""``python manage.py api_tokens list [--user NAME] [--json]`` and ``api_tokens revoke PREFIX``.

Lists tokens (prefix, owner, role, name, created, last used, expiry, revocation; never a secret)
and revokes one by its prefix, the 8 characters after ``ac_``; a whole token is accepted too.
Revoking is audited and idempotent. Exit 2 with a one-line message for an unknown prefix.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.models import ApiToken
from authcheck.services.tokens import token_revoke

from ._output import fail, print_json


def _row(token: ApiToken) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "prefix": token.prefix,
        "user": token.user.username,
        "role": token.user.role,
        "name": token.name,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at),
    }


def _prefix_of(text: str) -> str:
    """The prefix of ``ac_<prefix>_<secret>``, or ``text`` itself when it is just a prefix."""
    parts = text.strip().split("_")
    return parts[1] if len(parts) >= 3 and parts[0] == "ac" else text.strip()


class Command(BaseCommand):
    help = "List API tokens, or revoke one by its prefix."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="list tokens (no secrets)")
        listing.add_argument("--user", default=None, help="only this user's tokens")
        listing.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix", help="the 8 characters after ac_ (or the whole token)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "revoke":
            self._revoke(_prefix_of(options["prefix"]))
            return
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "id")
        if options["user"]:
            tokens = tokens.filter(user__username=options["user"])
        rows = [_row(t) for t in tokens]
        if options["json"]:
            print_json(self, rows)
            return
        for row in rows:
            state = "revoked" if row["revoked_at"] else "live"
            self.stdout.write(
                f"{row['prefix']}  {row['user']} ({row['role']})  {state}  "
                f"last used {row['last_used_at'] or 'never'}  {row['name']}"
            )

    def _revoke(self, prefix: str) -> None:
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None:
            fail(self, f"api_tokens: no token with prefix {prefix!r}")
        token_revoke(token, actor=None)
        self.stdout.write(f"revoked token {token.prefix} of {token.user.username}")
