"""``python manage.py verify_report FILE [--public-key PEM]``: check a signed report offline.

Exit 0 and a one-line summary when the file is exactly what was signed; exit 1 on any change
(a byte of the payload, of the signature, of the whitespace) or a different key. Without
``--public-key`` the newsroom's configured key is used when it exists, otherwise the key the
report embeds (which proves it is intact, not who signed it: the output says so).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management.base import BaseCommand, CommandParser

from authcheck import signedjson
from authcheck.errors import AuthcheckError
from authcheck.services.reports import report_key_load, report_key_path

from ._output import EXIT_TOOL_FAILURE, EXIT_USAGE, fail


def _public_key(option: str | None) -> Ed25519PublicKey | None:
    if option:
        return signedjson.load_public_pem(Path(option).read_bytes())
    if report_key_path().exists():
        return report_key_load(create=False).public_key()
    return None


class Command(BaseCommand):
    help = "Verify a signed verification report offline; exit 1 if anything changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--public-key", metavar="PEM", help="the newsroom's public key")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = Path(options["file"]).read_bytes()
            public = _public_key(options["public_key"])
        except (OSError, AuthcheckError, signedjson.ReportSignatureError) as exc:
            fail(self, f"verify_report: {exc}", EXIT_USAGE)
        try:
            verified = signedjson.verify(data, public)
        except signedjson.ReportSignatureError as exc:
            fail(self, f"verify_report: REJECTED: {exc}", EXIT_TOOL_FAILURE)
        check = verified.payload.get("check") or {}
        self.stdout.write(
            f"report OK: check #{check.get('id')} signed by key {verified.key_id} "
            f"({verified.payload.get('issuer')}, {verified.payload.get('generated_at')})"
        )
        if verified.embedded_key:
            self.stdout.write(
                "note: checked against the key inside the report; pass --public-key to prove "
                "who signed it"
            )
        sys.exit(0)
