"""``python manage.py audit_checkpoint FILE``: append a signed checkpoint of the audit chain.

Run it periodically (cron, Celery beat) and keep FILE outside the database host: a consistent
rewrite of the chain's tail then no longer matches it (SECURITY L7). The chain is verified
first; a broken chain gets no checkpoint (exit 1). Exit 2 when FILE cannot be read or written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.services.audit import AuditChainBroken, AuditError, audit_checkpoint_write

from ._output import EXIT_TOOL_FAILURE, fail


class Command(BaseCommand):
    help = "Append a signed checkpoint (last seq and hash) of the audit chain to FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            line = audit_checkpoint_write(path)
        except AuditChainBroken as exc:
            fail(self, f"{exc.message}; no checkpoint written", EXIT_TOOL_FAILURE)
        except AuditError as exc:
            fail(self, f"audit_checkpoint: {exc.message}")
        except OSError as exc:
            fail(self, f"audit_checkpoint: cannot write {path}: {exc.strerror or exc}")
        self.stdout.write(f"audit checkpoint written: seq {line['seq']} hash {line['hash']}")
