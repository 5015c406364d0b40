"""A webhook receiver on 127.0.0.1 (ephemeral port) that records every POST it gets."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of ``statuses`` (then 200), recording what it got."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    redirect_to: str = ""

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def verified(self, secret: str) -> list[Received]:
        """The requests whose signature checks out under ``secret`` (timestamp + "." + body)."""
        good = []
        for request in self.received:
            stamp = request.headers.get("X-Authcheck-Timestamp", "")
            mac = hmac.new(secret.encode(), f"{stamp}.".encode() + request.body, hashlib.sha256)
            expected = f"v1={mac.hexdigest()}"
            if hmac.compare_digest(expected, request.headers.get("X-Authcheck-Signature", "")):
                good.append(request)
        return good


def _handler(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            if receiver.redirect_to:
                self.send_header("Location", receiver.redirect_to)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    """A running receiver; loopback deliveries are allowed for the test's duration only."""
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    state = Receiver()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
