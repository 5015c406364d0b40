"""Requests Django sees before any view (issue 9 weak spots): a default CSP on every response,
chunked bodies refused with 411, and "testserver" absent from the production host list."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from authcheck.models import Role, User
from authcheck.services.tokens import token_create
from tests.live import database_url, gunicorn


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
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "AUTHCHECK_DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "",
    }
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
