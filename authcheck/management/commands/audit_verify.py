"""``python manage.py audit_verify [--checkpoint FILE] [--json]``: recompute the audit chain.

Exit 0 with "audit chain OK: N events"; 1 with one line naming the first bad event
("audit chain BROKEN at seq N: reason"); 2 when the checkpoint file cannot be read.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.services.audit import AuditError, audit_verify

from ._output import EXIT_TOOL_FAILURE, fail, print_json


class Command(BaseCommand):
    help = "Recompute the tamper-evident audit chain; exit 1 naming the first bad event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            metavar="FILE",
            type=Path,
            help="signed checkpoint file (from audit_checkpoint) the chain must still match",
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # The command's own stderr line is the report: no second copy through the log.
            status = audit_verify(checkpoint=options["checkpoint"], alert=False)
        except AuditError as exc:
            fail(self, f"audit_verify: {exc.message}")
        if options["json"]:
            print_json(self, dataclasses.asdict(status))
        elif status.ok:
            self.stdout.write(status.describe())
        if not status.ok:
            fail(self, status.describe(), EXIT_TOOL_FAILURE)
