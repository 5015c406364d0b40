"""``python manage.py reverify [--limit N]``: re-examine stored checks now, through the same
service as the periodic task, and print how many verdicts changed.

Runs batches until every finished check has been re-examined under the current versions (or
``--limit`` checks were examined).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from authcheck.services.reverify import reverify_pass


class Command(BaseCommand):
    help = "Re-verify stored checks under the current trust, SDK, rules and detector versions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=0, help="stop after N checks")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        examined = changed = flagged = 0
        while not limit or examined < limit:
            batch = settings.AUTHCHECK_REVERIFY_BATCH
            result = reverify_pass(limit=min(batch, limit - examined) if limit else batch)
            examined += result.examined
            changed += result.changed
            flagged += result.flagged
            if not result.more:
                break
        self.stdout.write(
            f"re-verified {examined} checks: {changed} verdicts changed, "
            f"{flagged} of them flagged for an editor"
        )
