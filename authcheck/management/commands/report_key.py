"""``python manage.py report_key [--generate]``: the newsroom's report signing key.

Prints the public key (PEM) of ``AUTHCHECK_REPORT_KEY_FILE``, to publish for partners running
``verify_report --public-key``. ``--generate`` creates the key file first (mode 0600) and
refuses to overwrite an existing one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck import signedjson
from authcheck.errors import AuthcheckError
from authcheck.services.reports import report_key_load, report_key_path

from ._output import fail


class Command(BaseCommand):
    help = "Generate or show the Ed25519 key that signs verification reports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--generate", action="store_true", help="create the key file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = report_key_path()
        try:
            if options["generate"]:
                private = signedjson.generate_key_file(path)
                self.stderr.write(f"generated {path}")
            else:
                private = report_key_load(create=False)
        except FileExistsError:
            fail(self, f"report_key: {path} exists; remove it first to replace the key")
        except (OSError, AuthcheckError) as exc:
            fail(self, f"report_key: {exc}")
        public = private.public_key()
        self.stdout.write(f"# key id {signedjson.key_id(public)}")
        self.stdout.write(signedjson.public_pem(public).rstrip("\n"))
