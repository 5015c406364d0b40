"""``python manage.py report CHECK_ID [--out FILE]``: save a check's signed verification report
(the same bytes as ``GET /api/v1/checks/{id}/report``); check it with ``verify_report``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.errors import AuthcheckError
from authcheck.models import Check
from authcheck.selectors import checks_with_evidence
from authcheck.services.reports import report_signed

from ._output import fail


class Command(BaseCommand):
    help = "Write the signed verification report of a check."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("check_id", type=int)
        parser.add_argument("--out", metavar="FILE", help="write here instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check = checks_with_evidence(Check.objects.all()).get(pk=options["check_id"])
        except Check.DoesNotExist:
            fail(self, f"report: no check #{options['check_id']}")
        try:
            data = report_signed(check)
        except AuthcheckError as exc:
            fail(self, f"report: {exc}")
        if options["out"]:
            Path(options["out"]).write_bytes(data)
            self.stderr.write(f"wrote {options['out']} ({len(data)} bytes)")
        else:
            sys.stdout.buffer.write(data)
