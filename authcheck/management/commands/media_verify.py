"""``python manage.py media_verify [--json]``: every stored media still matches its SHA-256.

Run after restoring a backup (or any time): streams each media that retention has not
removed from storage and compares size and hash with the database. Exit 0 when all match,
1 naming the first missing or altered media.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck import storage
from authcheck.models import Media

from ._output import EXIT_TOOL_FAILURE, fail, print_json


class Command(BaseCommand):
    help = "Check that every stored media still matches its recorded size and SHA-256."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problems = 0, []
        for media in Media.objects.filter(purged_at__isnull=True).order_by("pk").iterator():
            checked += 1
            try:
                size, sha256 = storage.media_digest(media)
            except Exception as exc:  # a missing or unreadable object is a finding, not a crash
                problems.append(f"{media.sha256}: unreadable ({type(exc).__name__})")
                continue
            if (size, sha256) != (media.size, media.sha256):
                problems.append(f"{media.sha256}: stored bytes hash to {sha256}")
        if options["json"]:
            print_json(self, {"checked": checked, "ok": not problems, "problems": problems})
        elif not problems:
            self.stdout.write(f"media OK: {checked} media match their SHA-256")
        if problems:
            fail(
                self,
                f"media BROKEN: {problems[0]} ({len(problems)} of {checked})",
                EXIT_TOOL_FAILURE,
            )
