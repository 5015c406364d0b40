"""The SSRF-safe fetcher against servers started in the test, on loopback only.

Every test runs with a fake resolver (names it does not know fail, real DNS is never asked) and
a socket guard that fails the test on any connection to a non-loopback address and records the
connections that were made, so "refused without connecting" is observed, not assumed.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import http.server
import ipaddress
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from authcheck.errors import FetchError, TransientFetchError
from authcheck.pipeline import fetch as fetch_module
from authcheck.pipeline import netaddr
from authcheck.pipeline.fetch import USER_AGENT, FetchPolicy, fetch, validate_url

LOOPBACK = FetchPolicy(
    max_bytes=1_000_000, timeout_seconds=5.0, max_redirects=5, allow_loopback=True
)
STRICT = FetchPolicy(max_bytes=1_000_000, timeout_seconds=5.0, max_redirects=5)

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


# --- network guard and fake resolver ------------------------------------------------------


@dataclass
class Network:
    """What the code under test asked of the network."""

    names: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connects: list[tuple[str, int]] = field(default_factory=list)
    slow: dict[str, float] = field(default_factory=dict)
    failing: dict[str, int] = field(default_factory=dict)

    def answer(self, name: str, *answers: list[str]) -> None:
        """Make ``name`` resolve to each answer in turn (the last one repeats)."""
        self.names[name] = list(answers)


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    net = Network()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def fake_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if netaddr.parse_ip(name) is not None and (":" in name or name.count(".") == 3):
            return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        net.lookups.append(name)
        time.sleep(net.slow.get(name, 0))
        if name in net.failing:
            raise socket.gaierror(net.failing[name], "resolver failure")
        if name not in net.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = net.names[name]
        current = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in current
        ]

    def guarded_connect(sock: socket.socket, address) -> None:
        host, port = address[0], address[1]
        net.connects.append((host, port))
        if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            pytest.fail(f"a test tried to connect to {host}:{port}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return net


# --- a local HTTP(S) server ---------------------------------------------------------------


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse lookup of the address; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def process_request(self, request, client_address) -> None:
        self.connections += 1  # type: ignore[attr-defined]
        super().process_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        pass  # clients that hang up on purpose are expected here


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server: TestServer = self.server.owner  # type: ignore[attr-defined]
        server.requests.append(
            {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
        )
        route = server.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        route(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TestServer:
    """A threaded HTTP server on 127.0.0.1 with routes registered by the test."""

    __test__ = False

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[dict[str, str]] = []
        self.sni: list[str | None] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._httpd.connections = 0  # type: ignore[attr-defined]
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def connections(self) -> int:
        return self._httpd.connections  # type: ignore[attr-defined]

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def body(self, path: str, data: bytes, status: int = 200, **headers: str) -> None:
        def handle(req: http.server.BaseHTTPRequestHandler) -> None:
            req.send_response(status)
            req.send_header("Content-Length", headers.pop("content_length", str(len(data))))
            for name, value in headers.items():
                req.send_header(name.replace("_", "-"), value)
            req.end_headers()
            req.wfile.write(data)

        self.routes[path] = handle

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.body(path, b"", status=status, Location=location)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[TestServer]:
    srv = TestServer()
    yield srv
    srv.close()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """An empty directory for fetched files, so leftovers are easy to see."""
    directory = tmp_path / "fetched"
    directory.mkdir()
    return directory


def _leftovers(directory: Path) -> list[Path]:
    return list(directory.iterdir())


def _chunked_forever(chunk: bytes) -> Handler:
    def handle(req: http.server.BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        for _ in range(1000):
            req.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    return handle


def _trickle(interval: float, count: int) -> Handler:
    def handle(req: http.server.BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Length", str(count))
        req.end_headers()
        for _ in range(count):
            req.wfile.write(b"x")
            req.wfile.flush()
            time.sleep(interval)

    return handle


# --- validate_url -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://LOCALHOST./",
        "http://media.localhost/",
        "http://[::1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://\u2460\u2461\u2466.0.0.1/",
        "http://\uff11\uff12\uff17\uff0e0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://[::127.0.0.1]/",
        "http://[fe80::1%25eth0]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://198.18.0.1/",
        "http://10.0.0.1/",
    ],
)
def test_validate_url_refuses_non_public_literal_hosts(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        validate_url(url, STRICT)
    assert caught.value.code == "url_blocked"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("file:///etc/passwd", "url_scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "url_scheme"),
        ("ftp://example.com/a", "url_scheme"),
        ("data:text/plain,hi", "url_scheme"),
        ("dict://example.com:11211/", "url_scheme"),
        ("javascript:alert(1)", "url_scheme"),
        ("http://user:pw@example.com/", "url_userinfo"),
        ("http://example.com@evil.example/", "url_userinfo"),
        ("http://example.com:6379/", "url_port"),
        ("http://example.com:99999/", "url_invalid"),
        ("http://example.com:0/", "url_invalid"),
        ("http://example.com/a b", "url_invalid"),
        ("http://example.com/\x00", "url_invalid"),
        ("http://example.com/\u202e", "url_invalid"),
        ("http://example.com\\@127.0.0.1/", "url_invalid"),
        ("http://example.com/" + "a" * 2048, "url_invalid"),
        ("http:///path", "url_invalid"),
        ("http:example.com", "url_invalid"),
        ("http://1.2.3.08/", "url_invalid"),
        ("http://4294967296/", "url_invalid"),
        ("http://[::g]/", "url_invalid"),
        ("http://%31%32%37.0.0.1/", "url_invalid"),
        ("http://exa mple.com/", "url_invalid"),
        ("", "url_invalid"),
    ],
)
def test_validate_url_refuses_malformed_and_unsupported_urls(url: str, code: str) -> None:
    policy = FetchPolicy(1, 1.0, 1, allowed_ports=frozenset({80, 443}))
    with pytest.raises(FetchError) as caught:
        validate_url(url, policy)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTP://Example.COM:80/a?b=c#frag", "http://example.com/a?b=c"),
        ("https://example.com", "https://example.com/"),
        ("https://b\u00fccher.example/\u00e4", "https://xn--bcher-kva.example/%C3%A4"),
        ("http://8.8.8.8:8080/x", "http://8.8.8.8:8080/x"),
        ("http://134744072/", "http://8.8.8.8/"),
        ("http://[2606:4700:4700:0::1111]/", "http://[2606:4700:4700::1111]/"),
        ("http://example.com./", "http://example.com/"),
    ],
)
def test_validate_url_returns_a_normalised_url(url: str, normalised: str) -> None:
    assert validate_url(url, STRICT) == normalised


def test_validate_url_lets_tests_use_loopback_only_when_allowed() -> None:
    assert validate_url("http://127.1:8000/x", LOOPBACK) == "http://127.0.0.1:8000/x"
    assert validate_url("http://localhost:8000/", LOOPBACK) == "http://localhost:8000/"


def test_validate_url_does_not_resolve_names(network: Network) -> None:
    validate_url("https://media.example/video.mp4", STRICT)
    assert network.lookups == []


# --- fetching -----------------------------------------------------------------------------


def test_fetch_stores_the_body_and_its_sha256(server: TestServer, dest: Path) -> None:
    data = bytes(range(256)) * 1000
    server.body("/clip.mp4", data, Content_Type="video/mp4")

    got = fetch(server.url("/clip.mp4"), dest, LOOPBACK)

    assert got.path.parent == dest and got.path.read_bytes() == data
    assert got.sha256 == hashlib.sha256(data).hexdigest() and got.size == len(data)
    assert got.content_type == "video/mp4" and got.redirects == ()
    assert got.final_url == server.url("/clip.mp4")
    assert got.path.name not in ("clip.mp4", "clip") and got.path.suffix == ""
    request = server.requests[0]
    assert request["user-agent"] == USER_AGENT and request["accept-encoding"] == "identity"


def test_fetch_does_not_decompress_so_the_cap_counts_raw_bytes(
    server: TestServer, dest: Path
) -> None:
    compressed = gzip.compress(b"\0" * 5_000_000)
    server.body("/bomb", compressed, Content_Encoding="gzip")

    got = fetch(server.url("/bomb"), dest, LOOPBACK)

    assert got.path.read_bytes() == compressed and got.size == len(compressed)


def test_fetch_follows_redirects_and_records_them(
    server: TestServer, network: Network, dest: Path
) -> None:
    network.answer("localhost", ["127.0.0.1"])
    server.redirect("/a", server.url("/b", host="localhost"), status=301)
    server.redirect("/b", "/c?x=1", status=307)
    server.body("/c", b"final")

    got = fetch(server.url("/a"), dest, LOOPBACK)

    assert got.path.read_bytes() == b"final"
    assert got.redirects == (server.url("/a"), server.url("/b", host="localhost"))
    assert got.final_url == server.url("/c?x=1", host="localhost")


def test_fetch_stops_after_max_redirects(server: TestServer, dest: Path) -> None:
    server.redirect("/loop", "/loop")
    policy = FetchPolicy(1000, 5.0, max_redirects=3, allow_loopback=True)

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/loop"), dest, policy)

    assert caught.value.code == "too_many_redirects" and not caught.value.transient
    assert len(server.requests) == 4  # the first request and three followed redirects
    assert _leftovers(dest) == []


def test_fetch_with_zero_redirects_allowed_refuses_the_first(
    server: TestServer, dest: Path
) -> None:
    server.redirect("/a", "/b")
    server.body("/b", b"never")
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/a"), dest, FetchPolicy(1000, 5.0, 0, allow_loopback=True))
    assert caught.value.code == "too_many_redirects"
    assert [r["path"] for r in server.requests] == ["/a"]


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ("http://10.0.0.1/", "url_blocked"),
        ("http://169.254.169.254/latest/meta-data/", "url_blocked"),
        ("http://[::ffff:10.0.0.1]/", "url_blocked"),
        ("http://[64:ff9b::a9fe:a9fe]/", "url_blocked"),
        ("http://0xa9.254.169.254/", "url_blocked"),
        ("//[fd00:ec2::254]/", "url_blocked"),
        ("file:///etc/passwd", "url_scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "url_scheme"),
        ("http://internal.test/", "url_blocked"),
    ],
)
def test_a_redirect_to_a_forbidden_target_is_refused_without_connecting(
    server: TestServer, network: Network, dest: Path, location: str, code: str
) -> None:
    network.answer("internal.test", ["10.0.0.5"])
    server.redirect("/go", location)

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/go"), dest, LOOPBACK)

    assert caught.value.code == code
    assert network.connects == [("127.0.0.1", server.port)]
    assert _leftovers(dest) == []


@pytest.mark.parametrize(
    "host",
    ["[::ffff:127.0.0.1]", "[::1]", "localhost", "127.0.0.2", "2130706434", "loop.test"],
)
def test_a_redirect_to_loopback_is_refused_when_loopback_is_not_allowed(
    server: TestServer, network: Network, monkeypatch: pytest.MonkeyPatch, dest: Path, host: str
) -> None:
    # Pretend the test server's own address (exactly 127.0.0.1) is a public host, so that the
    # first hop is allowed under the strict policy and only the redirect target is loopback.
    real = netaddr.blocked_reason
    server_ip = ipaddress.IPv4Address("127.0.0.1")
    monkeypatch.setattr(
        netaddr,
        "blocked_reason",
        lambda ip, *, allow_loopback=False: None if ip == server_ip else real(ip),
    )
    network.answer("loop.test", ["127.0.0.3"])
    server.redirect("/go", f"http://{host}:{server.port}/secret")
    server.body("/secret", b"internal")

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/go"), dest, STRICT)

    assert caught.value.code in ("url_blocked", "url_blocked")
    assert [r["path"] for r in server.requests] == ["/go"]
    assert network.connects == [("127.0.0.1", server.port)]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "2130706433",
        "0x7f.1",
        "127.1",
        "0177.0.0.1",
        "\u2460\u2461\u2466.0.0.1",
        "loop.test",
    ],
)
def test_loopback_in_any_spelling_is_refused_without_a_request(
    server: TestServer, network: Network, dest: Path, host: str
) -> None:
    network.answer("loop.test", ["127.0.0.1"])
    server.body("/x", b"secret")

    with pytest.raises(FetchError) as caught:
        fetch(f"http://{host}:{server.port}/x", dest, STRICT)

    assert caught.value.code in ("url_blocked", "url_blocked")
    assert network.connects == [] and server.connections == 0


@pytest.mark.parametrize("answer", [["10.0.0.1"], ["127.0.0.1", "10.0.0.5"], ["fd00::1"]])
def test_a_name_resolving_to_a_forbidden_address_is_refused_at_connect_time(
    network: Network, dest: Path, answer: list[str]
) -> None:
    network.answer("rebind.test", answer)

    with pytest.raises(FetchError) as caught:
        fetch("http://rebind.test/x", dest, LOOPBACK)

    assert caught.value.code == "url_blocked" and not caught.value.transient
    assert network.connects == []


def test_a_name_is_resolved_once_and_the_connection_goes_to_the_checked_address(
    server: TestServer, network: Network, dest: Path
) -> None:
    # A rebinding resolver: the first answer is acceptable, every later one is not.
    network.answer("media.test", ["127.0.0.1"], ["10.0.0.1"])
    server.body("/v", b"pinned")

    got = fetch(server.url("/v", host="media.test"), dest, LOOPBACK)

    assert got.path.read_bytes() == b"pinned"
    assert network.lookups == ["media.test"]
    assert network.connects == [("127.0.0.1", server.port)]
    assert server.requests[0]["host"] == f"media.test:{server.port}"


def test_an_unknown_name_is_a_permanent_dns_failure(network: Network, dest: Path) -> None:
    with pytest.raises(FetchError) as caught:
        fetch("http://nowhere.test/", dest, STRICT)
    assert caught.value.code == "fetch_dns_failed" and not caught.value.transient
    assert network.connects == []


def test_a_temporary_resolver_failure_is_transient(network: Network, dest: Path) -> None:
    network.failing["flaky.test"] = socket.EAI_AGAIN
    with pytest.raises(TransientFetchError) as caught:
        fetch("http://flaky.test/", dest, STRICT)
    assert caught.value.code == "fetch_dns_failed"


def test_a_resolver_that_hangs_is_bounded_by_the_deadline(network: Network, dest: Path) -> None:
    network.answer("slow.test", ["127.0.0.1"])
    network.slow["slow.test"] = 2.0
    policy = FetchPolicy(1000, timeout_seconds=0.3, max_redirects=5, allow_loopback=True)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch("http://slow.test/", dest, policy)

    assert caught.value.code == "deadline" and time.monotonic() - started < 1.0
    assert network.connects == []


def test_proxy_variables_in_the_environment_are_ignored(
    server: TestServer, monkeypatch: pytest.MonkeyPatch, dest: Path
) -> None:
    proxy = TestServer()
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, proxy.url("/"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        server.body("/x", b"direct")

        got = fetch(server.url("/x"), dest, LOOPBACK)

        assert got.path.read_bytes() == b"direct"
        assert proxy.connections == 0 and server.connections == 1
    finally:
        proxy.close()


def test_a_declared_content_length_over_the_cap_is_refused_before_reading(
    server: TestServer, dest: Path
) -> None:
    server.body("/huge", b"x" * 10, content_length=str(10 * 1024**3))

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/huge"), dest, FetchPolicy(1000, 5.0, 5, allow_loopback=True))

    assert caught.value.code == "too_large"
    assert _leftovers(dest) == []


def test_a_chunked_body_over_the_cap_is_cut_off_and_removed(
    server: TestServer, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/stream"] = _chunked_forever(b"y" * 65536)
    largest_write = []
    real_store = fetch_module._store

    def spying_store(response, dest, policy, deadline):
        try:
            return real_store(response, dest, policy, deadline)
        finally:
            largest_write.append(dest.stat().st_size if dest.exists() else 0)

    monkeypatch.setattr(fetch_module, "_store", spying_store)

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/stream"), dest, FetchPolicy(200_000, 5.0, 5, allow_loopback=True))

    assert caught.value.code == "too_large"
    assert largest_write and largest_write[0] <= 200_000
    assert _leftovers(dest) == []


def test_a_body_exactly_at_the_cap_is_accepted(server: TestServer, dest: Path) -> None:
    server.body("/edge", b"z" * 1000)
    got = fetch(server.url("/edge"), dest, FetchPolicy(1000, 5.0, 5, allow_loopback=True))
    assert got.size == 1000


def test_a_trickling_server_hits_the_overall_deadline(server: TestServer, dest: Path) -> None:
    server.routes["/slow"] = _trickle(interval=0.1, count=100)
    policy = FetchPolicy(1000, timeout_seconds=1.0, max_redirects=5, allow_loopback=True)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/slow"), dest, policy)
    elapsed = time.monotonic() - started

    assert caught.value.code == "deadline"
    assert not isinstance(caught.value, TransientFetchError)  # permanent: never retried
    assert 0.9 <= elapsed < 2.0  # not one read timeout per byte
    assert _leftovers(dest) == []


def test_a_read_that_stalls_near_the_deadline_stops_at_the_deadline(
    server: TestServer, dest: Path
) -> None:
    def stall(req: http.server.BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Length", "100")
        req.end_headers()
        req.wfile.write(b"a")
        req.wfile.flush()
        time.sleep(0.3)
        req.wfile.write(b"b")
        req.wfile.flush()
        time.sleep(3)

    server.routes["/stall"] = stall
    policy = FetchPolicy(1000, timeout_seconds=1.0, max_redirects=5, allow_loopback=True)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/stall"), dest, policy)

    # A per-read timeout alone would wait a full second after the last byte (about 1.3 s).
    assert caught.value.code == "deadline" and time.monotonic() - started < 1.2
    assert _leftovers(dest) == []


def test_a_server_that_never_answers_hits_the_deadline(server: TestServer, dest: Path) -> None:
    server.routes["/hang"] = lambda req: time.sleep(3)
    policy = FetchPolicy(1000, timeout_seconds=0.5, max_redirects=5, allow_loopback=True)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/hang"), dest, policy)

    assert caught.value.code == "deadline" and time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("status", "transient"),
    [(404, False), (403, False), (500, False), (503, True), (502, True), (429, True)],
)
def test_http_errors_are_permanent_or_transient_by_status(
    server: TestServer, dest: Path, status: int, transient: bool
) -> None:
    server.body("/s", b"error page", status=status)

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/s"), dest, LOOPBACK)

    assert caught.value.code == "fetch_http_status" and str(status) in caught.value.message
    assert isinstance(caught.value, TransientFetchError) is transient
    assert _leftovers(dest) == []


def test_a_refused_connection_is_transient(dest: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    with pytest.raises(TransientFetchError) as caught:
        fetch(f"http://127.0.0.1:{port}/", dest, LOOPBACK)

    assert caught.value.code == "fetch_connection_failed"


def test_a_connection_dropped_mid_body_is_transient_and_leaves_no_file(
    server: TestServer, dest: Path
) -> None:
    def truncated(req: http.server.BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Length", "100000")
        req.end_headers()
        req.wfile.write(b"x" * 1000)
        req.close_connection = True

    server.routes["/cut"] = truncated

    with pytest.raises(TransientFetchError):
        fetch(server.url("/cut"), dest, LOOPBACK)
    assert _leftovers(dest) == []


def test_the_initial_url_is_validated_too(network: Network, dest: Path) -> None:
    with pytest.raises(FetchError) as caught:
        fetch("gopher://example.test/", dest, STRICT)
    assert caught.value.code == "url_scheme" and network.lookups == []


# --- TLS ----------------------------------------------------------------------------------


def _certificate(hostname: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[TestServer, str]]:
    cert, key = _certificate("media.test")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    srv = TestServer(tls=context)
    yield srv, cert_pem.decode()
    srv.close()


def _trusting(monkeypatch: pytest.MonkeyPatch, ca_pem: str) -> None:
    context = ssl.create_default_context(cadata=ca_pem)
    monkeypatch.setattr(fetch_module, "_ssl_context", lambda: context)


def test_https_to_a_pinned_address_keeps_sni_host_and_certificate_name(
    tls_server: tuple[TestServer, str],
    network: Network,
    monkeypatch: pytest.MonkeyPatch,
    dest: Path,
) -> None:
    srv, ca_pem = tls_server
    _trusting(monkeypatch, ca_pem)
    network.answer("media.test", ["127.0.0.1"])
    srv.body("/img", b"secure bytes")

    got = fetch(srv.url("/img", host="media.test", scheme="https"), dest, LOOPBACK)

    assert got.path.read_bytes() == b"secure bytes"
    assert srv.sni == ["media.test"] and srv.requests[0]["host"] == f"media.test:{srv.port}"
    assert network.connects == [("127.0.0.1", srv.port)]


def test_a_certificate_for_another_name_is_a_tls_failure(
    tls_server: tuple[TestServer, str],
    network: Network,
    monkeypatch: pytest.MonkeyPatch,
    dest: Path,
) -> None:
    srv, ca_pem = tls_server
    _trusting(monkeypatch, ca_pem)
    network.answer("other.test", ["127.0.0.1"])
    srv.body("/img", b"secure bytes")

    with pytest.raises(FetchError) as caught:
        fetch(srv.url("/img", host="other.test", scheme="https"), dest, LOOPBACK)

    assert caught.value.code == "tls_error" and not caught.value.transient
    assert srv.sni == ["other.test"] and srv.requests == []
    assert _leftovers(dest) == []


def test_an_untrusted_certificate_is_a_tls_failure(
    tls_server: tuple[TestServer, str], network: Network, dest: Path
) -> None:
    srv, _ = tls_server
    network.answer("media.test", ["127.0.0.1"])

    with pytest.raises(FetchError) as caught:
        fetch(srv.url("/img", host="media.test", scheme="https"), dest, LOOPBACK)

    assert caught.value.code == "tls_error" and srv.requests == []


# --- regressions from the outside attack (issue 9) ---------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "data:text/html,<script>alert(1)</script>",
        "javascript:alert(1)",
        "mailto:someone@example.org",
        "about:blank",
        "ws://example.org/",
    ],
)
def test_a_redirect_to_a_non_http_scheme_is_url_scheme_not_an_internal_error(
    server: TestServer, network: Network, dest: Path, location: str
) -> None:
    server.redirect("/go", location)

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/go"), dest, LOOPBACK)

    assert caught.value.code == "url_scheme"
    assert network.connects == [("127.0.0.1", server.port)]
    assert _leftovers(dest) == []


@pytest.mark.parametrize(
    "host", ["xn--localhost", "xn--a", "xn--ls8h-", "xn--zz-.example", "a.xn--.example"]
)
def test_invalid_punycode_host_names_are_url_invalid_at_validation(host: str) -> None:
    with pytest.raises(FetchError) as caught:
        validate_url(f"http://{host}/", STRICT)
    assert caught.value.code == "url_invalid"
    assert "idna" not in caught.value.message.lower() or "codec" not in caught.value.message


def test_valid_punycode_host_names_still_pass() -> None:
    assert validate_url("http://xn--bcher-kva.example/", STRICT) == "http://xn--bcher-kva.example/"
    assert validate_url("http://b\u00fccher.example/", STRICT) == "http://xn--bcher-kva.example/"


def test_a_redirect_to_an_invalid_punycode_host_is_url_invalid(
    server: TestServer, network: Network, dest: Path
) -> None:
    server.redirect("/go", "http://xn--localhost/")

    with pytest.raises(FetchError) as caught:
        fetch(server.url("/go"), dest, LOOPBACK)

    assert caught.value.code == "url_invalid"
    assert network.lookups == []


def test_a_name_resolving_inward_is_refused_without_naming_the_address(
    network: Network, dest: Path, caplog: pytest.LogCaptureFixture
) -> None:
    network.answer("intranet.test", ["10.0.0.5"])
    with pytest.raises(FetchError) as caught:
        fetch("http://intranet.test/", dest, STRICT)
    assert caught.value.code == "url_blocked"
    assert "10.0.0.5" not in caught.value.message and "private" not in caught.value.message
    assert "10.0.0.5" in caplog.text  # the operator's log keeps the detail
