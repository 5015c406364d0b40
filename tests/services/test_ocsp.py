"""OCSP (off by default): a loopback responder signed by the test CA answers good or revoked,
with its times in the report; a signer on no configured list never makes authcheck call its
responder; with the setting off nothing is asked. c2pa's own OCSP fetching stays off."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from authcheck.models import TrustAnchor
from authcheck.pipeline import cose
from authcheck.services.trust import trust_cache_clear
from authcheck.services.verify import verify_path
from tests.c2pa_fixtures import manifest, new_ca, signed_jpeg, signer_from, test_ca

pytestmark = pytest.mark.django_db


class Responder:
    """An OCSP responder on 127.0.0.1 answering with ``status`` for certificates it knows."""

    def __init__(self) -> None:
        self.status = ocsp.OCSPCertStatus.GOOD
        self.signing_ca: Any = None  # None: the issuing test CA itself
        self.known: dict[int, x509.Certificate] = {}
        self.requests: list[str] = []
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                responder.requests.append(self.path)
                body = responder.answer(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ocsp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str) -> bytes:
        request = ocsp.load_der_ocsp_request(base64.b64decode(unquote(path.rsplit("/", 1)[1])))
        leaf = self.known[request.serial_number]
        ca = test_ca()
        now = dt.datetime.now(dt.UTC)
        revoked = self.status == ocsp.OCSPCertStatus.REVOKED
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=leaf,
            issuer=ca.root,
            algorithm=hashes.SHA1(),
            cert_status=self.status,
            this_update=now,
            next_update=now + dt.timedelta(hours=1),
            revocation_time=now - dt.timedelta(days=1) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        signer = self.signing_ca or ca
        response = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.root)
        return response.sign(signer.root_key, hashes.SHA256()).public_bytes(Encoding.DER)


@pytest.fixture
def responder() -> Iterator[Responder]:
    server = Responder()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def _settings(settings) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = []
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    settings.AUTHCHECK_C2PA_OCSP = False
    trust_cache_clear()


def _signed(tmp_path: Path, responder: Responder) -> Path:
    chain, key = test_ca().leaf(ocsp_url=responder.url)
    path = signed_jpeg(tmp_path / "ocsp.jpg", manifest("ocsp.jpg"), signer=signer_from(chain, key))
    (certs,) = cose.chains(path)
    responder.known[certs[0].serial_number] = certs[0]
    return path


def _trust_test_ca() -> None:
    pem = test_ca().root_pem
    TrustAnchor.objects.create(
        name="root", pem=pem, sha256=hashlib.sha256(pem.encode()).hexdigest()
    )


def test_off_by_default_nothing_is_asked(tmp_path: Path, responder: Responder) -> None:
    _trust_test_ca()
    report = verify_path(_signed(tmp_path, responder))
    assert report["state"] == "trusted"
    assert report["trust"]["revocation"]["checked"] is False
    assert responder.requests == []


@pytest.mark.parametrize(
    ("status", "word"),
    [(ocsp.OCSPCertStatus.GOOD, "good"), (ocsp.OCSPCertStatus.REVOKED, "revoked")],
)
def test_a_trusted_signer_gets_its_status_and_time(
    tmp_path: Path, responder: Responder, settings, status: ocsp.OCSPCertStatus, word: str
) -> None:
    settings.AUTHCHECK_C2PA_OCSP = True
    _trust_test_ca()
    responder.status = status
    revocation = verify_path(_signed(tmp_path, responder))["trust"]["revocation"]
    assert revocation["checked"] is True and revocation["status"] == word, revocation
    assert revocation["responder"] == responder.url
    assert revocation["this_update"] and revocation["produced_at"]
    assert (revocation["revoked_at"] is not None) == (word == "revoked")
    assert len(responder.requests) == 1


def test_a_signer_on_no_list_never_makes_us_call_its_responder(
    tmp_path: Path, responder: Responder, settings
) -> None:
    settings.AUTHCHECK_C2PA_OCSP = True
    settings.AUTHCHECK_TRUST_C2PA_LISTS = False
    report = verify_path(_signed(tmp_path, responder))
    assert report["state"] == "valid"
    assert report["trust"]["revocation"]["checked"] is False
    assert "does not end at a configured trust list" in report["trust"]["revocation"]["reason"]
    assert responder.requests == []


def test_a_response_not_signed_by_the_issuer_is_an_error_never_good(
    tmp_path: Path, responder: Responder, settings
) -> None:
    settings.AUTHCHECK_C2PA_OCSP = True
    _trust_test_ca()
    responder.signing_ca = new_ca("Forger")
    revocation = verify_path(_signed(tmp_path, responder))["trust"]["revocation"]
    assert revocation["status"] == "error"
    assert "does not verify" in revocation["error"]
