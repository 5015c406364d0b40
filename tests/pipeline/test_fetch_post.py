"""``fetch.post`` (webhook deliveries) keeps the fetcher's guarantees."""

from __future__ import annotations

import socket

import pytest

from authcheck.errors import FetchError
from authcheck.pipeline import fetch
from authcheck.pipeline.fetch import FetchPolicy
from tests.receiver import Receiver

LOOPBACK = FetchPolicy(max_bytes=1024, timeout_seconds=5, max_redirects=0, allow_loopback=True)
PUBLIC_ONLY = FetchPolicy(max_bytes=1024, timeout_seconds=5, max_redirects=0)


def test_post_sends_the_body_and_headers_and_returns_the_status(receiver: Receiver) -> None:
    receiver.statuses = [202]
    answer = fetch.post(receiver.url(), b'{"a":1}', {"X-Test": "yes"}, LOOPBACK)
    assert (answer.status_code, answer.excerpt) == (202, "ok")
    [got] = receiver.received
    assert got.body == b'{"a":1}' and got.headers["X-Test"] == "yes"
    assert got.headers["User-Agent"] == fetch.USER_AGENT


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest",
    ],
)
def test_post_refuses_non_public_targets_before_any_socket(monkeypatch, url: str) -> None:
    def no_socket(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_socket)
    monkeypatch.setattr(socket.socket, "connect", no_socket)
    with pytest.raises(FetchError) as caught:
        fetch.post(url, b"{}", {}, PUBLIC_ONLY)
    assert caught.value.code == "url_blocked"


def test_post_never_follows_a_redirect(receiver: Receiver) -> None:
    receiver.statuses = [307]
    receiver.redirect_to = "http://169.254.169.254/"
    answer = fetch.post(receiver.url(), b"{}", {}, LOOPBACK)
    assert answer.status_code == 307 and len(receiver.received) == 1
