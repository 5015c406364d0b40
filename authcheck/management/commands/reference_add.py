"""``python manage.py reference_add PATH... --collection NAME [--source-url URL]``.

Adds files (or every file under the folders named) to a reference collection and indexes them
for source tracing: hashed and deduplicated as media, sampled about once a second plus scene
changes, whole-frame and tile PDQ hashes stored; no check is created. Run it again to resume an
interrupted indexing (items already indexed are skipped). With a Celery broker configured the
indexing is queued to the workers; otherwise it runs here and shows its progress.
Exit 2 with a one-line message for a missing path or an unsupported file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.errors import AuthcheckError
from authcheck.models import ReferenceItem
from authcheck.services import reference

from ._output import fail


class Command(BaseCommand):
    help = "Add files or folders to a reference collection and index them for source tracing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--collection", required=True, help="collection name")
        parser.add_argument("--source-url", default="", help="where this footage is published")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            files = list(reference.reference_paths(options["paths"]))
        except AuthcheckError as exc:
            fail(self, f"reference_add: {exc.message}")
        for number, path in enumerate(files, start=1):
            prefix = f"[{number}/{len(files)}] {path.name}"
            try:
                item, created = reference.reference_register(
                    path, collection=options["collection"], source_url=options["source_url"]
                )
            except (AuthcheckError, OSError) as exc:
                self.stderr.write(f"{prefix}: skipped: {getattr(exc, 'message', exc)}")
                continue
            state = reference.reference_enqueue(item, progress=self._progress(prefix))
            known = "" if created else " (already in the collection)"
            self.stdout.write(f"{prefix}: {state}{known}, reference id {item.pk}")

    def _progress(self, prefix: str) -> reference.Progress:
        def show(item: ReferenceItem) -> None:
            self.stdout.write(
                f"{prefix}: {item.indexed_until:.0f}/{item.duration:.0f} s, "
                f"{item.frames_indexed} frames"
            )

        return show
