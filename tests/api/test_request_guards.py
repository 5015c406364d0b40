"""Requests Django sees before any view (issue 9 weak spots): a default CSP on every response,
chunked bodies refused with 411, and "testserver" absent from the production host list."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from authcheck.models import Role, User
from authcheck.services.tokens import token_create
from tests.live import gunicorn, server_env


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/no-such-page", "/healthz", "/api/v1/nothing"])
def test_every_response_carries_a_csp_even_outside_the_views(path: str) -> None:
    response = Client().get(path)
    csp = response["Content-Security-Policy"]
    # The dashboard's policy (django-csp, 'self' only) or the API's default ('none' at all).
    assert "default-src 'none'" in csp or "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.django_db
def test_a_view_with_its_own_csp_keeps_it() -> None:
    response = Client().get("/api/v1/docs/")
    assert "script-src" in response["Content-Security-Policy"]


def test_testserver_is_not_in_the_default_allowed_hosts(monkeypatch) -> None:
    import importlib

    import authcheck.settings as module

    monkeypatch.delenv("DJANGO_ALLOWED_HOSTS", raising=False)
    try:
        assert "testserver" not in importlib.reload(module).ALLOWED_HOSTS
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def _raw(base: str, request: bytes) -> bytes:
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_chunked_upload_gets_411_length_required_from_a_real_server(tmp_path: Path) -> None:
    user = User.objects.create(username="chunky", role=Role.JOURNALIST)
    _, token = token_create(user=user, name="chunked")
    env = server_env(tmp_path)
    body = b"5\r\nhello\r\n0\r\n\r\n"
    with gunicorn(env) as base:
        answer = _raw(
            base,
            b"POST /api/v1/checks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            + b"Connection: close\r\n\r\n"
            + body,
        )
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 411"), head
    assert b"application/problem+json" in head and b'"length_required"' in payload


@pytest.mark.django_db
def test_a_content_length_that_is_not_a_number_is_a_400_problem() -> None:
    response = Client().generic(
        "POST", "/api/v1/checks", b"{}", content_type="application/json", CONTENT_LENGTH="12abc"
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_content_length"


@pytest.mark.django_db
def test_a_request_line_over_the_limit_is_a_414_problem(settings) -> None:
    settings.AUTHCHECK_LIMIT_REQUEST_LINE = 100
    response = Client().get("/api/v1/checks?q=" + "a" * 200)
    assert response.status_code == 414 and response.json()["code"] == "uri_too_long"
    assert response["Content-Type"] == "application/problem+json"


def _answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read one response (head and Content-Length body) from ``sock``, leaving it open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a full response head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_413_too_large_from_the_deployed_server_says_connection_close_and_closes(
    tmp_path: Path,
) -> None:
    user = User.objects.create(username="big", role=Role.JOURNALIST)
    _, token = token_create(user=user, name="big")
    env = server_env(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    auth = f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n".encode()
    declared = settings.AUTHCHECK_MAX_UPLOAD_BYTES * 2
    with gunicorn(env, deployed=True) as base:
        parts = urlsplit(base)
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
            # Control: an ordinary answer keeps the connection for the next request.
            sock.sendall(b"GET /api/v1/checks HTTP/1.1\r\n" + auth + b"\r\n")
            head, _ = _answer(sock)
            assert head.startswith(b"HTTP/1.1 200") and b"Connection: keep-alive" in head, head
            sock.sendall(
                b"POST /api/v1/checks HTTP/1.1\r\n"
                + auth
                + b"Content-Type: multipart/form-data; boundary=xx\r\n"
                + f"Content-Length: {declared}\r\n\r\n".encode()
                + b"--xx\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\n"
                + b"\0" * 4096
            )
            head, body = _answer(sock)
            assert head.startswith(b"HTTP/1.1 413"), head
            assert b'"too_large"' in body and b"application/problem+json" in head
            assert b"Connection: close" in head, head
            assert _closed_by_server(sock, within=10)


class _ServerResponse:
    """Stands for gunicorn's response object: ``start_response`` is bound to it."""

    def __init__(self) -> None:
        self.closed, self.status = False, ""

    def force_close(self) -> None:
        self.closed = True

    def start_response(self, status: str, headers: list[tuple[str, str]], *exc_info: object):
        self.status = status
        return lambda data: None


@pytest.mark.parametrize(
    ("status", "closes"), [("413 Request Entity Too Large", True), ("200 OK", False)]
)
def test_the_wsgi_entry_point_asks_the_server_to_close_only_after_a_413(
    status: str, closes: bool
) -> None:
    from authcheck.wsgi import close_after_too_large

    def app(environ, start_response):
        start_response(status, [("Content-Type", "text/plain")])
        return [b""]

    server = _ServerResponse()
    list(close_after_too_large(app)({}, server.start_response))
    assert (server.status, server.closed) == (status, closes)
    # A server without force_close (Django's development server) is left alone.
    list(close_after_too_large(app)({}, lambda *args: None))
