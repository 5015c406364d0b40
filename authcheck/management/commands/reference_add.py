"""``python manage.py reference_add SOURCE... --collection NAME [--source-url URL]``.

Adds files, every file under the folders named, or every object under ``s3://bucket/prefix``
(the object store of ``AUTHCHECK_S3_CONNECTION``) to a reference collection and indexes them for
source tracing: hashed and deduplicated as media, sampled about once a second plus scene
changes, whole-frame and tile PDQ hashes stored; no check is created. Objects are streamed to a
temporary file (capped, sniffed like an upload), never held whole. Run it again to resume an
interrupted indexing (items already indexed, and objects already indexed from the same key, are
skipped). With a Celery broker configured the indexing (and the fetching of objects) is queued
to the workers; otherwise it runs here and shows its progress.
Exit 2 with a one-line message for a missing path, an unreadable bucket or an unsupported file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck import storage
from authcheck.errors import AuthcheckError
from authcheck.models import ReferenceItem
from authcheck.services import reference

from ._output import fail


class Command(BaseCommand):
    help = (
        "Add files, folders or s3://bucket/prefix objects to a reference collection and index "
        "them for source tracing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "sources", nargs="+", metavar="SOURCE", help="a file, a folder or s3://bucket/prefix"
        )
        parser.add_argument("--collection", required=True, help="collection name")
        parser.add_argument("--source-url", default="", help="where this footage is published")

    def handle(self, *args: Any, **options: Any) -> None:
        sources: list[Path | storage.SourceObject] = []
        try:
            for given in options["sources"]:
                if storage.is_source_uri(given):
                    sources += storage.source_objects(given)
                else:
                    sources += reference.reference_paths([Path(given)])
        except AuthcheckError as exc:
            fail(self, f"reference_add: {exc.message}")
        for number, source in enumerate(sources, start=1):
            prefix = f"[{number}/{len(sources)}] {source.name}"
            try:
                if isinstance(source, Path):
                    line = self._add_file(source, prefix, options)
                else:
                    line = self._add_object(source, prefix, options)
            except (AuthcheckError, OSError) as exc:
                self.stderr.write(f"{prefix}: skipped: {getattr(exc, 'message', exc)}")
                continue
            self.stdout.write(f"{prefix}: {line}")

    def _add_file(self, path: Path, prefix: str, options: dict[str, Any]) -> str:
        item, created = reference.reference_register(
            path, collection=options["collection"], source_url=options["source_url"]
        )
        state = reference.reference_enqueue(item, progress=self._progress(prefix))
        known = "" if created else " (already in the collection)"
        return f"{state}{known}, reference id {item.pk}"

    def _add_object(self, obj: storage.SourceObject, prefix: str, options: dict[str, Any]) -> str:
        self.stdout.write(f"{prefix}: {obj.uri}, {obj.size} bytes")
        item, state = reference.reference_object_add(
            obj,
            collection=options["collection"],
            source_url=options["source_url"],
            progress=self._progress(prefix),
        )
        if item is None:
            return f"{state} (fetched and indexed by a worker)"
        known = " (already indexed from this object)" if state == "skipped" else ""
        return f"{state}{known}, reference id {item.pk}"

    def _progress(self, prefix: str) -> reference.Progress:
        def show(item: ReferenceItem) -> None:
            self.stdout.write(
                f"{prefix}: {item.indexed_until:.0f}/{item.duration:.0f} s, "
                f"{item.frames_indexed} frames"
            )

        return show
