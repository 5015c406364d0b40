"""``python manage.py reference_list [--collection NAME] [--json]``: the reference archive."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.selectors import reference_items

from ._output import print_json


class Command(BaseCommand):
    help = "List the reference archive (items, their indexing state and progress)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", default=None)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = [
            {
                "id": item.pk,
                "collection": item.collection,
                "title": item.title,
                "state": item.state,
                "duration": round(item.duration, 1),
                "indexed_until": round(item.indexed_until, 1),
                "frames": item.frames_indexed,
                "source_url": item.source_url,
                "sha256": item.media.sha256,
                "error": item.error,
            }
            for item in reference_items(options["collection"])
        ]
        if options["json"]:
            print_json(self, rows)
            return
        for row in rows:
            self.stdout.write(
                f"{row['id']:>6}  {row['collection']}  {row['title']}  {row['state']}  "
                f"{row['indexed_until']:.0f}/{row['duration']:.0f} s  {row['frames']} frames"
                + (f"  {row['source_url']}" if row["source_url"] else "")
            )
