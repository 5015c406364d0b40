"""``python manage.py media_retention --days N [--dry-run] [--json]``: remove old media bytes.

Removes the bytes of media not submitted for N days (hashes, reports, verdicts and the audit
trail stay; see ``authcheck.services.retention``). Run it daily from cron or a Kubernetes
CronJob. Exit 2 on bad usage.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.services.retention import media_retention_run

from ._output import fail


class Command(BaseCommand):
    help = "Remove the bytes of media not submitted for N days (hashes and records stay)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["days"]
        if days < 1:
            fail(self, "media_retention: --days must be at least 1")
        result = media_retention_run(
            days=days, actor="cli:media_retention", dry_run=options["dry_run"]
        )
        if options["json"]:
            body = {
                "cutoff": result.cutoff.isoformat(),
                "dry_run": result.dry_run,
                "purged": list(result.purged),
            }
            self.stdout.write(json.dumps(body))
            return
        verb = "would remove" if result.dry_run else "removed"
        self.stdout.write(f"{verb} {len(result.purged)} media older than {result.cutoff:%Y-%m-%d}")
        for sha256 in result.purged:
            self.stdout.write(sha256)
