"""Batch submission: up to ``BATCH_MAX_URLS`` URLs, one check (or one error) per line.

Each line goes through ``check_create`` exactly as a single submission would, so the same URL
rules, pending cap and codes apply; a refused line does not stop the others (each line is its
own savepoint, so a line refused by the pending cap rolls back only itself).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.db import transaction

from authcheck.errors import AuthcheckError
from authcheck.models import Check, CheckClient, User
from authcheck.services.checks import check_create

BATCH_MAX_URLS = 100
# A CSV of 100 URLs of at most 2,048 characters each, plus other columns, stays far below this.
BATCH_MAX_CSV_BYTES = 1024 * 1024


@dataclass(frozen=True)
class BatchLine:
    """One input line: its 1-based number, the URL as given, and a check or an error."""

    line: int
    url: str
    check: Check | None = None
    error: AuthcheckError | None = None


def batch_urls_from_csv(data: bytes) -> list[str]:
    """The ``url`` column of a UTF-8 CSV (header required), blank rows skipped.

    Raises ``AuthcheckError`` (400) for undecodable text, a missing ``url`` column, or more
    than ``BATCH_MAX_URLS`` rows."""
    if len(data) > BATCH_MAX_CSV_BYTES:
        raise AuthcheckError("the CSV file is larger than 1 MiB", code="batch_too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AuthcheckError("the CSV file is not UTF-8", code="batch_csv_invalid") from exc
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fields = [name.strip().lower() for name in reader.fieldnames or []]
        if "url" not in fields:
            raise AuthcheckError("the CSV needs a header with a url column", "batch_csv_invalid")
        column = (reader.fieldnames or [])[fields.index("url")]
        urls = [(row.get(column) or "").strip() for row in _bounded(reader)]
    except csv.Error as exc:
        raise AuthcheckError(f"the CSV file is malformed: {exc}", "batch_csv_invalid") from exc
    return [url for url in urls if url]


def _bounded(reader: csv.DictReader[str]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for row in reader:
        rows.append(row)
        if len(rows) > BATCH_MAX_URLS:
            raise _too_many()
    return rows


def _too_many() -> AuthcheckError:
    return AuthcheckError(
        f"a batch holds at most {BATCH_MAX_URLS} URLs", code="batch_too_large", status=400
    )


def checks_batch_create(
    *, user: User, urls: list[str], client: str = CheckClient.API, enqueue: bool = True
) -> list[BatchLine]:
    """Submit every URL as its own check; return one ``BatchLine`` per URL, in order.

    A line whose URL is refused (scheme, host, port, pending cap, ...) carries the error with
    the code a single submission would get; the other lines are submitted regardless."""
    if not urls:
        raise AuthcheckError("give at least one URL", code="batch_empty")
    if len(urls) > BATCH_MAX_URLS:
        raise _too_many()
    return [_submit_line(user, number, url, client, enqueue) for number, url in enumerate(urls, 1)]


def _submit_line(user: User, number: int, url: str, client: str, enqueue: bool) -> BatchLine:
    try:
        with transaction.atomic():
            submission = check_create(user=user, client=client, url=url, enqueue=enqueue)
    except AuthcheckError as exc:
        return BatchLine(line=number, url=url, error=exc)
    return BatchLine(line=number, url=url, check=submission.check)
