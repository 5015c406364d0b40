"""The page resolver: which media a page declares, and which one is fetched (and why)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from authcheck.errors import FetchError, MediaError
from authcheck.pipeline.fetch import FetchPolicy
from authcheck.pipeline.resolve import (
    Candidate,
    HtmlResolver,
    load_resolvers,
    resolve,
)
from tests.mediagen import make_image
from tests.pipeline.test_fetch import TestServer

PAGE = "https://news.example/story/1"
LOOPBACK = FetchPolicy(
    max_bytes=10_000_000, timeout_seconds=5, max_redirects=3, allow_loopback=True
)


@pytest.fixture
def server() -> Iterator[TestServer]:
    srv = TestServer()
    yield srv
    srv.close()


@pytest.fixture
def jpeg_bytes(tmp_path: Path) -> bytes:
    return make_image(tmp_path / "p.jpg", size=(32, 24)).read_bytes()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """An empty directory for fetched files, so leftovers are easy to see."""
    directory = tmp_path / "fetched"
    directory.mkdir()
    return directory


def sources(html: str) -> list[tuple[str, str]]:
    return [(c.source, c.url) for c in HtmlResolver().candidates(html, PAGE)]


def test_it_orders_declared_video_before_json_ld_before_elements() -> None:
    ld = {"@context": "https://schema.org", "@type": "VideoObject", "contentUrl": "/ld.mp4"}
    html = f"""<html><head>
      <meta property="og:image" content="https://cdn.example/poster.jpg">
      <meta name="twitter:player:stream" content="https://cdn.example/tw.mp4">
      <meta property="og:video" content="https://cdn.example/og.mp4">
      <meta property="og:video:secure_url" content="https://cdn.example/secure.mp4">
      <script type="application/ld+json">{json.dumps(ld)}</script>
      </head><body><video src="blob:https://news.example/abc"><source src="v.webm"></video>
      <video src="/direct.mp4"></video></body></html>"""
    assert sources(html) == [
        ("og:video:secure_url", "https://cdn.example/secure.mp4"),
        ("og:video", "https://cdn.example/og.mp4"),
        ("twitter:player:stream", "https://cdn.example/tw.mp4"),
        ("JSON-LD VideoObject.contentUrl", "https://news.example/ld.mp4"),
        ("<source src>", "https://news.example/story/v.webm"),
        ("<video src>", "https://news.example/direct.mp4"),
    ]


def test_it_reads_image_objects_nested_in_json_ld_graphs_after_videos() -> None:
    graph = {
        "@graph": [
            {"@type": ["NewsArticle"], "image": {"@type": "ImageObject", "contentUrl": "/i.jpg"}},
            {"@type": ["VideoObject", "CreativeWork"], "contentUrl": "https://v.example/a.mp4"},
        ]
    }
    html = (
        '<script type="application/ld+json">{broken</script>'
        f'<script type="application/ld+json">{json.dumps(graph)}</script>'
    )
    assert sources(html) == [
        ("JSON-LD VideoObject.contentUrl", "https://v.example/a.mp4"),
        ("JSON-LD ImageObject.contentUrl", "https://news.example/i.jpg"),
    ]


def test_it_ignores_non_http_urls_and_duplicates() -> None:
    html = """<meta property="og:video" content="javascript:alert(1)">
      <meta property="og:video:url" content="https://cdn.example/a.mp4">
      <video src="https://cdn.example/a.mp4"></video><source src="data:video/mp4;base64,AAAA">"""
    assert sources(html) == [("og:video:url", "https://cdn.example/a.mp4")]


def test_it_takes_the_first_candidate_that_is_media_and_records_the_refused(
    server: TestServer, jpeg_bytes: bytes, dest: Path
) -> None:
    server.body("/html-not-video", b"<!doctype html><p>player</p>", content_type="video/mp4")
    server.body("/real.jpg", jpeg_bytes)
    page = (
        f'<meta property="og:video" content="{server.url("/html-not-video")}">'
        f'<meta property="og:video:url" content="{server.url("/missing")}">'
        f'<video src="{server.url("/real.jpg")}"></video>'
    )
    server.body("/page", page.encode(), content_type="text/html")
    found = resolve(server.url("/page"), dest, LOOPBACK, load_resolvers(()))
    assert found.chosen.url == server.url("/real.jpg") and found.chosen.source == "<video src>"
    assert found.fetched.path.read_bytes() == jpeg_bytes and found.sniffed.kind == "image"
    record = found.to_dict()
    assert [r["code"] for r in record["refused"]] == ["unsupported_media", "fetch_http_status"]
    assert record["reason"].startswith("first candidate that is image media")
    assert sorted(p.name for p in dest.iterdir()) == [found.fetched.path.name]


def test_a_page_url_that_is_itself_media_is_taken_as_it_is(
    server: TestServer, jpeg_bytes: bytes, dest: Path
) -> None:
    server.body("/photo", jpeg_bytes)
    found = resolve(server.url("/photo"), dest, LOOPBACK, load_resolvers(()))
    assert found.chosen.source == "the URL is media itself" and found.refused == ()


def test_a_page_too_large_to_be_html_is_not_read(
    server: TestServer, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("authcheck.pipeline.resolve.MAX_PAGE_BYTES", 100)
    page = f'<meta property="og:video" content="{server.url("/v")}">'.ljust(200)
    server.body("/big", page.encode())
    with pytest.raises(MediaError, match="larger than 100 bytes") as caught:
        resolve(server.url("/big"), dest, LOOPBACK, load_resolvers(()))
    assert caught.value.code == "media_not_found_on_page" and list(dest.iterdir()) == []
    assert [r["path"] for r in server.requests] == ["/big"]


def test_nothing_on_the_page_is_media_not_found_on_page(server: TestServer, dest: Path) -> None:
    server.body("/page", b"<html><video src='blob:https://x/1'></video></html>")
    with pytest.raises(MediaError) as caught:
        resolve(server.url("/page"), dest, LOOPBACK, load_resolvers(()))
    assert caught.value.code == "media_not_found_on_page"
    assert list(dest.iterdir()) == []


def test_candidates_go_through_the_ssrf_checks(server: TestServer, dest: Path) -> None:
    blocked = '<meta property="og:video" content="http://169.254.169.254/latest/meta-data/">'
    server.body("/page", blocked.encode())
    with pytest.raises(MediaError, match="og:video: url_blocked"):
        resolve(server.url("/page"), dest, LOOPBACK, load_resolvers(()))


def test_an_unreachable_page_is_a_fetch_error(server: TestServer, dest: Path) -> None:
    with pytest.raises(FetchError):
        resolve(server.url("/gone"), dest, LOOPBACK, load_resolvers(()))


class PlatformResolver:
    """A newsroom's plugin: knows where one platform keeps its files."""

    name = "platform"

    def candidates(self, html: str, page_url: str) -> list[Candidate]:
        marker = 'data-file="'
        if marker not in html:
            return []
        url = html.split(marker, 1)[1].split('"', 1)[0]
        return [Candidate(url=url, source="data-file", resolver=self.name)]


def test_resolvers_are_plugins_loaded_by_dotted_path(
    server: TestServer, jpeg_bytes: bytes, dest: Path
) -> None:
    server.body("/f.jpg", jpeg_bytes)
    server.body("/page", f'<div data-file="{server.url("/f.jpg")}"></div>'.encode())
    resolvers = load_resolvers(
        ("tests.pipeline.test_resolve.PlatformResolver", "authcheck.pipeline.resolve.HtmlResolver")
    )
    found = resolve(server.url("/page"), dest, LOOPBACK, resolvers)
    assert (found.chosen.resolver, found.chosen.source) == ("platform", "data-file")


class NotAResolver:
    name = "broken"


def test_a_resolver_without_the_contract_is_refused() -> None:
    with pytest.raises(TypeError, match="page resolver contract"):
        load_resolvers(("tests.pipeline.test_resolve.NotAResolver",))
