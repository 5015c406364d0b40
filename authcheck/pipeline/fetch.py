"""SSRF-safe download of a user-supplied URL into a new file, hashed in the same pass.

The only module that opens sockets to user URLs. Defences, in order:

- ``validate_url`` refuses anything but plain http(s) URLs, and literal hosts that name a
  non-public address in any spelling (decimal, octal, hex, short IPv4; IPv4 inside IPv6).
- Name resolution happens once per connection, inside the connection itself (``_PinnedBackend``):
  every address the resolver returns is checked and the socket connects to a checked address, so
  a DNS answer that changes between check and use (rebinding) cannot steer the connection. The
  URL, the Host header and TLS SNI / certificate checks keep the original hostname.
- Redirects are followed by hand, each hop validated and connected the same way.
- One overall deadline caps resolution, connection, TLS and every socket read, so a server that
  trickles bytes cannot stretch the fetch; ``max_bytes`` counts raw bytes (no decompression).
- Proxy variables in the environment are ignored.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import socket
import ssl
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpcore
import httpx
import idna

from authcheck.errors import FetchError, TransientFetchError
from authcheck.pipeline import netaddr
from authcheck.pipeline.hashing import random_name

log = logging.getLogger(__name__)

USER_AGENT = "authcheck/0.1 (+media verification)"
MAX_URL_LENGTH = 2048
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Full stops that IDNA treats as label separators (ideographic, fullwidth, halfwidth).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_ASCII_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
# Characters kept as they are when percent-encoding a path or query.
_URL_SAFE = "/?:@!$&'()*+,;=-._~%[]"


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. ``allowed_ports`` None means any port."""

    max_bytes: int
    timeout_seconds: float
    max_redirects: int
    allow_loopback: bool = False
    allowed_ports: frozenset[int] | None = None


@dataclass(frozen=True)
class Fetched:
    """A downloaded body: where it is, its digest and size, and how it was reached.

    ``redirects`` lists, in order, the URLs that answered with a redirect.
    """

    path: Path
    sha256: str
    size: int
    final_url: str
    content_type: str
    redirects: tuple[str, ...]


# --- URL validation (no DNS) ---------------------------------------------------------------


def _invalid(message: str) -> FetchError:
    return FetchError(message, code="url_invalid")


def _has_bad_char(url: str) -> bool:
    """Controls, whitespace, invisible format characters and backslashes (parsers disagree)."""
    return any(
        ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs")
        for ch in url
    )


def _split_netloc(netloc: str) -> tuple[str, bool, int | None]:
    """(host, is_bracketed_ipv6, port) of a netloc without userinfo."""
    if netloc.startswith("["):
        host, sep, rest = netloc[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise _invalid("the IPv6 address in the URL is malformed")
        return host, True, _parse_port(rest[1:] if rest else "")
    host, _, port = netloc.partition(":")
    return host, False, _parse_port(port)


def _parse_port(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise _invalid("the URL has an invalid port")
    return int(text)


def _check_ip(ip: netaddr.IPAddress, policy: FetchPolicy) -> None:
    reason = netaddr.blocked_reason(ip, allow_loopback=policy.allow_loopback)
    if reason:
        raise FetchError(f"the URL names a non-public address ({reason})", code="url_blocked")


def _ipv6_host(text: str, policy: FetchPolicy) -> str:
    ip = netaddr.parse_ip(text) if ":" in text else None
    if ip is None:
        raise _invalid("the IPv6 address in the URL is malformed")
    _check_ip(ip, policy)
    if "%" in text:
        raise _invalid("IPv6 zone identifiers are not allowed in URLs")
    return f"[{ip.compressed}]"


def _ascii_name(name: str) -> str:
    """IDNA-encode a hostname and check it is a plain DNS name."""
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise _invalid("the host name is not a valid internationalised name") from exc
    labels = name.split(".")
    if len(name) > 253 or any(not 0 < len(lb) < 64 for lb in labels):
        raise _invalid("the host name is malformed")
    if any(not set(label) <= _ASCII_LABEL_CHARS for label in labels):
        raise _invalid("the host name contains characters a DNS name cannot")
    if any(label.startswith("xn--") and not _valid_a_label(label) for label in labels):
        raise _invalid("the host name is not a valid internationalised name")
    return name


def _valid_a_label(label: str) -> bool:
    """Whether an ``xn--`` label decodes to a valid IDNA name that encodes back to itself.

    An invalid one (``xn--localhost``) would otherwise pass here and fail later, inside the
    HTTP client or the resolver, with the codec's own error text.
    """
    try:
        return idna.encode(idna.decode(label)).decode("ascii") == label
    except (idna.IDNAError, UnicodeError, ValueError):
        return False


def _name_host(text: str, policy: FetchPolicy) -> str:
    # NFKC turns lookalike digits (circled, fullwidth) into ASCII ones before anything is parsed.
    name = unicodedata.normalize("NFKC", text).translate(_DOTS).lower()
    name = name.removesuffix(".")
    if not name or "%" in name:
        raise _invalid("the URL has no usable host")
    ip = netaddr.parse_ipv4(name)
    if ip is None:
        name = _ascii_name(name)
        ip = netaddr.parse_ipv4(name)
    if ip is not None:
        _check_ip(ip, policy)
        return str(ip)
    if netaddr.ends_in_number(name):
        raise _invalid("the host looks like an IPv4 address but is not a valid one")
    if (name == "localhost" or name.endswith(".localhost")) and not policy.allow_loopback:
        raise FetchError("localhost is never fetched", code="url_blocked")
    return name


def validate_url(url: str, policy: FetchPolicy) -> str:
    """Check a URL without any DNS lookup and return it normalised.

    http(s) only, a host, no credentials, at most 2048 characters, no control characters or
    whitespace, an allowed port, and no literal or ``localhost`` host that names a non-public
    address. Raises ``FetchError`` with code ``url_invalid``, ``url_scheme``,
    ``url_port`` or ``url_blocked``.
    """
    if not isinstance(url, str) or not url:
        raise _invalid("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _has_bad_char(url):
        raise _invalid("the URL contains whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _invalid("the URL cannot be parsed") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchError("only http and https URLs are fetched", code="url_scheme")
    if not parts.netloc:
        raise _invalid("the URL has no host")
    if "@" in parts.netloc:
        raise FetchError("URLs with a user name or password are not fetched", code="url_userinfo")
    host_text, bracketed, port = _split_netloc(parts.netloc)
    host = _ipv6_host(host_text, policy) if bracketed else _name_host(host_text, policy)
    effective = port or DEFAULT_PORTS[scheme]
    if policy.allowed_ports is not None and effective not in policy.allowed_ports:
        raise FetchError(f"port {effective} is not allowed", code="url_port")
    normalised = _assemble(scheme, host, port, parts.path, parts.query)
    if len(normalised) > MAX_URL_LENGTH:
        raise _invalid(f"the URL is longer than {MAX_URL_LENGTH} characters")
    return normalised


def _assemble(scheme: str, host: str, port: int | None, path: str, query: str) -> str:
    """Rebuild the URL: default port dropped, fragment dropped, non-ASCII percent-encoded."""
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    url = f"{scheme}://{netloc}{quote(path or '/', safe=_URL_SAFE)}"
    return f"{url}?{quote(query, safe=_URL_SAFE)}" if query else url


# --- deadline and pinned connections --------------------------------------------------------


class _Deadline:
    """One wall-clock budget for the whole fetch, redirects included."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def cap(self, timeout: float | None) -> float:
        """The time an operation may take: at most ``timeout``, never past the deadline."""
        left = self.remaining()
        if left <= 0:
            raise self.expired()
        return left if timeout is None else min(timeout, left)

    def expired(self) -> FetchError:
        # Permanent: retrying a server that trickles or stalls past the whole deadline would
        # only tie a worker up for several more deadlines (issue 9).
        return FetchError(
            f"the download did not finish within {self.seconds:g} seconds", code="deadline"
        )


def resolve(host: str, port: int) -> list[netaddr.IPAddress]:
    """Ask the system resolver for the addresses of ``host`` (the fetcher's only DNS lookup)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    found: list[netaddr.IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in found:
                found.append(address)
    return found


def _resolve_before(host: str, port: int, deadline: _Deadline) -> list[netaddr.IPAddress]:
    """``resolve`` bounded by the deadline: getaddrinfo has no timeout, so it runs in a thread."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["addresses"] = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="authcheck-resolve", daemon=True)
    worker.start()
    worker.join(deadline.cap(None))
    if worker.is_alive():
        raise deadline.expired()
    error = outcome.get("error")
    if isinstance(error, socket.gaierror) and error.errno == socket.EAI_AGAIN:
        raise TransientFetchError(f"{host} could not be resolved for now", code="fetch_dns_failed")
    if error is not None or not outcome.get("addresses"):
        raise FetchError(f"{host} could not be resolved", code="fetch_dns_failed")
    return list(outcome["addresses"])


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake stops at the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.cap(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        try:
            inner = self._inner.start_tls(ssl_context, server_hostname, self._deadline.cap(timeout))
        except httpcore.ConnectError as exc:
            if isinstance(exc.__cause__, ssl.SSLError):
                raise FetchError(
                    f"the TLS connection to {server_hostname} failed: {exc.__cause__}",
                    code="tls_error",
                ) from exc
            raise
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Resolves the host itself, refuses it if any address is not public, dials a checked one."""

    def __init__(self, deadline: _Deadline, allow_loopback: bool) -> None:
        self._deadline = deadline
        self._allow_loopback = allow_loopback
        self._plain = httpcore.SyncBackend()

    def _checked(self, host: str, port: int) -> list[netaddr.IPAddress]:
        addresses = _resolve_before(host, port, self._deadline)
        for address in addresses:
            # One bad record refuses the host: the OS might otherwise pick it on a retry.
            reason = netaddr.blocked_reason(address, allow_loopback=self._allow_loopback)
            if reason:
                # The user sees that the address is not allowed, never what an internal name
                # resolves to; operators get the detail in the log.
                log.warning("refused %s: it resolves to %s (%s)", host, address, reason)
                raise FetchError(
                    f"{host} resolves to an address that is not allowed", code="url_blocked"
                )
        return addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to the first reachable checked address of ``host``."""
        failure: httpcore.ConnectError | None = None
        for address in self._checked(host, port):
            try:
                stream = self._plain.connect_tcp(
                    str(address), port, self._deadline.cap(timeout), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        assert failure is not None  # _checked never returns an empty list
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise FetchError("unix sockets are never fetched", code="url_blocked")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(self._deadline.remaining(), 0)))


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that dials through ``_PinnedBackend``."""

    def __init__(self, backend: httpcore.NetworkBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx 0.28 cannot take a network backend (encode/httpx#3749), so the pool it built is
        # replaced by one from httpcore's public constructor. Only ``_pool`` is touched.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, http1=True, http2=False, retries=0, network_backend=backend
        )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Certificate verification against the certifi bundle, ignoring SSL_CERT_* variables."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


def _client(policy: FetchPolicy, deadline: _Deadline) -> tuple[httpx.Client, httpx.BaseTransport]:
    backend = _PinnedBackend(deadline, policy.allow_loopback)
    transport = _PinnedTransport(backend, _ssl_context())
    client = httpx.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(policy.timeout_seconds),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Accept": "*/*"},
    )
    return client, transport


# --- the fetch ------------------------------------------------------------------------------


@contextmanager
def _translated_errors(deadline: _Deadline) -> Iterator[None]:
    """Turn httpx failures into permanent or transient fetch errors with stable codes."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise deadline.expired() from exc
    except httpx.InvalidURL as exc:
        # Not an HTTPError; every URL is validated before use, so this is a last line only.
        raise _invalid("the URL cannot be fetched") from exc
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise TransientFetchError(
            f"the connection failed: {exc}", code="fetch_connection_failed"
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"the URL could not be fetched: {exc}", code="fetch_failed") from exc


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"the server answered HTTP {status}"
    if status in TRANSIENT_STATUSES:
        raise TransientFetchError(message, code="fetch_http_status")
    raise FetchError(message, code="fetch_http_status")


def _next_hop(current: str, response: httpx.Response, policy: FetchPolicy) -> str:
    location = response.headers.get("location")
    if not location:
        raise FetchError(
            f"the server answered HTTP {response.status_code} without a Location",
            code="fetch_http_status",
        )
    return validate_url(urljoin(current, location), policy)


def _open(
    client: httpx.Client, transport: httpx.BaseTransport, url: str, policy: FetchPolicy
) -> tuple[httpx.Response, str, tuple[str, ...]]:
    """Send the request, following redirects by hand; returns the final streamed response."""
    current = url
    redirects: list[str] = []
    while True:
        # The transport is called directly: httpx's client would parse the Location itself to
        # build its own next request, and fail on data:/javascript: targets before ours checks.
        response = transport.handle_request(client.build_request("GET", current))
        if response.status_code not in REDIRECT_STATUSES:
            return response, current, tuple(redirects)
        response.close()
        if len(redirects) >= policy.max_redirects:
            raise FetchError(
                f"more than {policy.max_redirects} redirects", code="too_many_redirects"
            )
        redirects.append(current)
        current = _next_hop(current, response, policy)


def _too_large(policy: FetchPolicy) -> FetchError:
    return FetchError(f"the body is larger than {policy.max_bytes} bytes", code="too_large")


def _check_declared_size(response: httpx.Response, policy: FetchPolicy) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise _too_large(policy)


def _store(
    response: httpx.Response, dest: Path, policy: FetchPolicy, deadline: _Deadline
) -> tuple[str, int]:
    """Stream the raw body into the new file ``dest``, hashing it; returns (sha256, size)."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        # iter_raw() without a chunk size yields each network read as it arrives (no buffering
        # up to a chunk size), and does not decode Content-Encoding.
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > policy.max_bytes:
                raise _too_large(policy)
            deadline.cap(None)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def fetch(url: str, dest_dir: Path, policy: FetchPolicy) -> Fetched:
    """Download ``url`` into a new randomly named file in ``dest_dir``; see the module docstring.

    Raises ``FetchError`` (permanent) or ``TransientFetchError`` (worth retrying). No partial
    file is left behind on any failure.
    """
    deadline = _Deadline(policy.timeout_seconds)
    dest = Path(dest_dir) / random_name()
    try:
        client, transport = _client(policy, deadline)
        with client, _translated_errors(deadline):
            start = validate_url(url, policy)
            response, final_url, redirects = _open(client, transport, start, policy)
            try:
                _check_status(response)
                _check_declared_size(response, policy)
                sha256, size = _store(response, dest, policy, deadline)
            finally:
                response.close()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return Fetched(
        path=dest,
        sha256=sha256,
        size=size,
        final_url=final_url,
        content_type=response.headers.get("content-type", "")[:255],
        redirects=redirects,
    )


# --- POST (webhook deliveries) ----------------------------------------------------------------

# What is read of a receiver's answer: enough for the delivery log, never more.
POST_RESPONSE_EXCERPT = 512


@dataclass(frozen=True)
class Posted:
    """A receiver's answer to a POST: its status and the start of its body (for the log)."""

    status_code: int
    excerpt: str


def _read_excerpt(response: httpx.Response, deadline: _Deadline) -> str:
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        deadline.cap(None)
        if len(data) >= POST_RESPONSE_EXCERPT:
            break
    return data[:POST_RESPONSE_EXCERPT].decode("utf-8", "replace")


def post(url: str, body: bytes, headers: dict[str, str], policy: FetchPolicy) -> Posted:
    """POST ``body`` to ``url`` with the same guarantees as ``fetch`` (validated URL, one
    resolution per connection to a checked address, total deadline, no proxies).

    Redirects are never followed (a receiver that moved is a failed delivery, and a redirect
    must not turn a POST into a request to somewhere else). Any answer is returned, whatever its
    status; connection failures raise ``TransientFetchError``, refused URLs ``FetchError``.
    """
    deadline = _Deadline(policy.timeout_seconds)
    target = validate_url(url, policy)
    client, _transport = _client(policy, deadline)
    with client, _translated_errors(deadline):
        request = client.build_request("POST", target, content=body, headers=headers)
        response = client.send(request, stream=True)
        try:
            return Posted(response.status_code, _read_excerpt(response, deadline))
        finally:
            response.close()
