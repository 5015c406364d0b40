"""``python manage.py trust_anchors list | add PEM_FILE [--name N] | disable SHA256``.

Manages the C2PA trust anchors kept in the database (in addition to the files named by
``AUTHCHECK_TRUST_ANCHORS``). Each change is audited and takes effect on the next verification.
Exit 2 with a one-line message for an unreadable or non-CA certificate, or an unknown anchor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.errors import AuthcheckError
from authcheck.models import TrustAnchor
from authcheck.services.trust_anchors import trust_anchor_add, trust_anchor_disable

from ._output import fail, print_json


class Command(BaseCommand):
    help = "List, add or disable C2PA trust anchors stored in the database."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("--json", action="store_true")
        add = sub.add_parser("add")
        add.add_argument("pem_file", type=Path)
        add.add_argument("--name", default="")
        disable = sub.add_parser("disable")
        disable.add_argument("sha256")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "add":
                self._add(options["pem_file"], options["name"])
            elif options["action"] == "disable":
                anchor = trust_anchor_disable(sha256=options["sha256"], user=None)
                self.stdout.write(f"disabled {anchor.sha256} {anchor.name}")
            else:
                self._list(options["json"])
        except AuthcheckError as exc:
            fail(self, f"trust_anchors: {exc.message}")

    def _add(self, path: Path, name: str) -> None:
        try:
            pem = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(self, f"trust_anchors: cannot read {path}: {exc}")
        anchor = trust_anchor_add(pem=pem, name=name, user=None)
        self.stdout.write(f"trusted {anchor.sha256} {anchor.name}")

    def _list(self, as_json: bool) -> None:
        rows = [
            {"sha256": a.sha256, "name": a.name, "enabled": a.enabled, "added": str(a.created_at)}
            for a in TrustAnchor.objects.order_by("id")
        ]
        if as_json:
            print_json(self, rows)
            return
        for row in rows:
            state = "enabled" if row["enabled"] else "disabled"
            self.stdout.write(f"{row['sha256']}  {state}  {row['name']}")
