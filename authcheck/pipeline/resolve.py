"""Find the media a web page shows when the client could only send the page (streamed video).

The browser extension cannot send the bytes of a ``blob:`` or MediaSource video, so it sends
the page URL marked ``page_only``. This stage downloads the page through the SSRF-safe fetcher,
asks each configured resolver for candidate media URLs in order of preference, and fetches
candidates until one is real media (magic bytes, never the Content-Type). It records which
candidate was taken and why the others were not.

Resolvers are plugins chosen by dotted paths (``AUTHCHECK_PAGE_RESOLVERS``, like detectors), so
a newsroom can add one for a platform. A resolver only reads HTML: it never opens sockets, and
every URL it proposes goes through ``fetch.fetch`` with the deployment's limits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit

from django.utils.module_loading import import_string

from authcheck.errors import AuthcheckError, MediaError
from authcheck.pipeline import fetch, hashing

BUILTIN = ("authcheck.pipeline.resolve.HtmlResolver",)
MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_CANDIDATES = 5
MAX_JSON_LD_BYTES = 256 * 1024

# Preference order of the built-in resolver: explicit declarations of "the" video first.
# og:image is left out on purpose: on a video page it is the poster, and checking the poster
# would answer for the wrong media.
META_KEYS = ("og:video:secure_url", "og:video", "og:video:url", "twitter:player:stream")


@dataclass(frozen=True)
class Candidate:
    """A media URL found on a page: which resolver found it, and where (``source``)."""

    url: str
    source: str
    resolver: str


@dataclass(frozen=True)
class Attempt:
    """A candidate that was tried and refused, with the stable code and message why."""

    candidate: Candidate
    code: str
    message: str


@dataclass(frozen=True)
class Resolution:
    """The media taken from a page: the fetched bytes, the candidate, and what was refused."""

    page_url: str
    chosen: Candidate
    fetched: fetch.Fetched
    sniffed: hashing.Sniffed
    refused: tuple[Attempt, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON recorded on the check (``resolution``)."""
        return {
            "page_url": self.page_url,
            "chosen": _candidate_dict(self.chosen),
            "reason": f"first candidate that is {self.sniffed.kind} media ({self.sniffed.mime})",
            "refused": [
                {**_candidate_dict(a.candidate), "code": a.code, "message": a.message}
                for a in self.refused
            ],
        }


def _candidate_dict(candidate: Candidate) -> dict[str, str]:
    return {"url": candidate.url, "source": candidate.source, "resolver": candidate.resolver}


@runtime_checkable
class PageResolver(Protocol):
    """The contract of a resolver plugin: a stable ``name`` and candidates from HTML."""

    name: str

    def candidates(self, html: str, page_url: str) -> list[Candidate]:
        """Media URLs the page declares, best first (absolute http(s) URLs)."""
        ...


class _PageScanner(HTMLParser):
    """Collects the meta tags, JSON-LD blocks and video/source elements of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: list[tuple[str, str]] = []
        self.json_ld: list[str] = []
        self.elements: list[tuple[str, str]] = []
        self._in_json_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (found.get("property") or found.get("name") or "").strip().lower()
            if key and found.get("content"):
                self.meta.append((key, found["content"].strip()))
        elif tag == "script":
            self._in_json_ld = found.get("type", "").strip().lower() == "application/ld+json"
            if self._in_json_ld:
                self.json_ld.append("")
        elif tag in ("video", "audio"):
            if found.get("src"):
                self.elements.append((f"<{tag} src>", found["src"].strip()))
        elif tag == "source" and found.get("src"):
            self.elements.append(("<source src>", found["src"].strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_json_ld and len(self.json_ld[-1]) < MAX_JSON_LD_BYTES:
            self.json_ld[-1] += data


def _json_ld_urls(blocks: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(source, contentUrl) of every VideoObject, then every ImageObject, in JSON-LD blocks."""
    objects: list[dict[str, Any]] = []
    for block in blocks:
        try:
            objects.extend(_walk(json.loads(block)))
        except (ValueError, RecursionError):
            continue  # a broken block on a page is common; the others still count
    for wanted in ("VideoObject", "ImageObject"):
        for obj in objects:
            types = obj.get("@type")
            names = types if isinstance(types, list) else [types]
            url = obj.get("contentUrl")
            if wanted in names and isinstance(url, str) and url.strip():
                yield f"JSON-LD {wanted}.contentUrl", url.strip()


def _walk(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object nested in ``value`` (bounded depth: pages are attacker-controlled)."""
    if depth > 20:
        return
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, depth + 1)


def _absolute(url: str, base: str) -> str | None:
    """``url`` resolved against the page, if it is an http(s) URL (never blob:, data:, ...)."""
    joined = urljoin(base, url)
    return joined if urlsplit(joined).scheme in ("http", "https") else None


class HtmlResolver:
    """Open Graph, Twitter player stream, JSON-LD contentUrl, then <video>/<source> sources."""

    name = "html"

    def candidates(self, html: str, page_url: str) -> list[Candidate]:
        """Candidates in the order of ``META_KEYS``, JSON-LD, then elements; no duplicates."""
        scanner = _PageScanner()
        scanner.feed(html)
        scanner.close()
        found: list[tuple[str, str]] = []
        for key in META_KEYS:
            found.extend((key, content) for name, content in scanner.meta if name == key)
        found.extend(_json_ld_urls(scanner.json_ld))
        found.extend(scanner.elements)
        seen: set[str] = set()
        result = []
        for source, raw in found:
            url = _absolute(raw, page_url)
            if url and url not in seen:
                seen.add(url)
                result.append(Candidate(url=url, source=source, resolver=self.name))
        return result


@cache
def load_resolvers(paths: tuple[str, ...]) -> tuple[PageResolver, ...]:
    """Instantiate the resolvers named by dotted paths (the built-in set when empty)."""
    resolvers = []
    for path in paths or BUILTIN:
        resolver = import_string(path)()
        if not isinstance(resolver, PageResolver):
            raise TypeError(f"{path} does not implement the page resolver contract")
        resolvers.append(resolver)
    return tuple(resolvers)


def _read_page(path: Path) -> str:
    # Pages declare many charsets; the markup we read is ASCII, so replacement is harmless.
    return path.read_text(encoding="utf-8", errors="replace")


def _try(
    candidate: Candidate, dest_dir: Path, policy: fetch.FetchPolicy
) -> tuple[fetch.Fetched, hashing.Sniffed]:
    """Fetch a candidate and sniff it; the file is removed when it is not media."""
    fetched = fetch.fetch(candidate.url, dest_dir, policy)
    try:
        return fetched, hashing.sniff(fetched.path)
    except AuthcheckError:
        fetched.path.unlink(missing_ok=True)
        raise


def resolve(
    page_url: str,
    dest_dir: Path,
    policy: fetch.FetchPolicy,
    resolvers: tuple[PageResolver, ...],
) -> Resolution:
    """Fetch ``page_url`` and return the first candidate that is media; see the module doc.

    A URL that is itself media is taken as it is. Raises ``FetchError`` when the page
    cannot be fetched and ``MediaError`` (``media_not_found_on_page``) when nothing resolves.
    """
    # The URL may be the media itself (a link to a file), so it gets the media limits; only a
    # page small enough to be HTML is read as one.
    page = fetch.fetch(page_url, dest_dir, policy)
    try:
        sniffed = hashing.sniff(page.path)
    except AuthcheckError:
        sniffed = None
    if sniffed is not None:
        itself = Candidate(url=page.final_url, source="the URL is media itself", resolver="")
        return Resolution(page_url, itself, page, sniffed, ())
    try:
        if page.size > MAX_PAGE_BYTES:
            raise MediaError(
                f"the page is larger than {MAX_PAGE_BYTES} bytes and is not media",
                code="media_not_found_on_page",
            )
        html = _read_page(page.path)
    finally:
        page.path.unlink(missing_ok=True)
    return _first_media(page.final_url, html, dest_dir, policy, resolvers)


def _first_media(
    page_url: str,
    html: str,
    dest_dir: Path,
    policy: fetch.FetchPolicy,
    resolvers: tuple[PageResolver, ...],
) -> Resolution:
    candidates = [c for r in resolvers for c in r.candidates(html, page_url)][:MAX_CANDIDATES]
    refused: list[Attempt] = []
    for candidate in candidates:
        try:
            fetched, sniffed = _try(candidate, dest_dir, policy)
        except AuthcheckError as exc:
            refused.append(Attempt(candidate, exc.code, exc.message))
            continue
        return Resolution(page_url, candidate, fetched, sniffed, tuple(refused))
    tried = "; ".join(f"{a.candidate.source}: {a.code}" for a in refused)
    raise MediaError(
        "no video or image could be found on the page"
        + (f" (tried {tried})" if tried else " (it declares no og:video, JSON-LD or <video>)"),
        code="media_not_found_on_page",
    )
