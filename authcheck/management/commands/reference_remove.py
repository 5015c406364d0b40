"""``python manage.py reference_remove ID... | --collection NAME``: remove reference items.

Each removal is audited (``reference.removed``); the item's frame hashes go with it unless the
same bytes are in another collection. Exit 2 for an unknown id or an empty selection.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from authcheck.models import ReferenceItem
from authcheck.selectors import reference_items
from authcheck.services.reference import reference_remove

from ._output import fail


class Command(BaseCommand):
    help = "Remove reference items by id, or a whole collection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, metavar="ID")
        parser.add_argument("--collection", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        items: list[ReferenceItem]
        if options["collection"]:
            items = reference_items(options["collection"])
        else:
            wanted = set(options["ids"])
            items = [i for i in reference_items() if i.pk in wanted]
            missing = wanted - {i.pk for i in items}
            if missing:
                fail(self, f"reference_remove: no reference item {min(missing)}")
        if not items:
            fail(self, "reference_remove: nothing to remove (give ids or --collection)")
        for item in items:
            reference_remove(item)
            self.stdout.write(f"removed {item.collection}: {item.title}")
