"""``python manage.py trust_import FILE... --list NAME``: replace a trust list with new PEM files.

A deploy step: the files are read here, validated (every certificate must parse) and stored as
the list's new bundle, with an audit event; verification never fetches anything. Lists: ``c2pa``,
``tsa``, ``legacy``, ``legacy-allowed``. Exit 2 with a one-line message on an unreadable file or
a bundle that is not PEM certificates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.errors import AuthcheckError
from authcheck.services.trust_lists import SHIPPED, trust_list_import

from ._output import fail


class Command(BaseCommand):
    help = "Import a newer PEM bundle for a named C2PA trust list (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--list", dest="list_name", required=True, choices=sorted(SHIPPED))

    def handle(self, *args: Any, **options: Any) -> None:
        pems = []
        for path in options["files"]:
            try:
                pems.append((path.name, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                fail(self, f"trust_import: cannot read {path}: {exc}")
        try:
            result = trust_list_import(name=options["list_name"], pems=pems, actor="system")
        except AuthcheckError as exc:
            fail(self, f"trust_import: {exc.message}")
        if result.changed:
            self.stdout.write(
                f"imported {result.certificates} certificates into {result.name}: "
                f"{result.previous_sha256[:12]} -> {result.sha256[:12]}"
            )
        else:
            self.stdout.write(f"{result.name} unchanged ({result.sha256[:12]})")
