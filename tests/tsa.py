"""A real RFC 3161 time-stamp authority on 127.0.0.1 for tests (SECURITY C10).

``TimeStampAuthority`` generates a TSA root and a TSA certificate (critical extendedKeyUsage
timeStamping) with ``cryptography``, writes an ``openssl ts`` configuration for them, and serves
``application/timestamp-query`` POSTs on a loopback port by running the system
``openssl ts -reply``: the tokens are the ones a real OpenSSL-based TSA issues, signed by the
generated key. Nothing leaves the loopback interface.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.c2pa_fixtures import _KEY_USAGE

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
POLICY = "1.3.6.1.4.1.55555.1.1"  # a private test policy id
MAX_QUERY_BYTES = 64 * 1024

_CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/root.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "authcheck test TSA"),
        ]
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, key_cert_sign=ca, crl_sign=ca, **_KEY_USAGE)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _certificates(
    name: str,
) -> tuple[x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """(root, TSA certificate, TSA key): a root CA and a time-stamping leaf it issued."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} Root"))
        .issuer_name(_name(f"{name} Root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return root, leaf, key


class TimeStampAuthority:
    """A loopback RFC 3161 responder backed by ``openssl ts -reply`` (use as a context manager).

    ``url`` is what a signer's ``ta_url`` names; ``root_pem`` is the TSA root a verifier may or
    may not trust; ``queries`` counts the time-stamp requests answered.
    """

    def __init__(self, name: str = "authcheck Test TSA") -> None:
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix="authcheck-tsa-"))
        root, leaf, key = _certificates(name)
        self.root_pem = _pem(root).decode()
        self.certificate = leaf
        (self.dir / "root.pem").write_bytes(_pem(root))
        (self.dir / "tsa.pem").write_bytes(_pem(leaf))
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (self.dir / "tsa.key").write_bytes(key_pem)
        (self.dir / "tsa.key").chmod(0o600)
        (self.dir / "serial").write_text("01\n")
        self.config = self.dir / "tsa.cnf"
        self.config.write_text(_CONFIG.format(dir=self.dir, policy=POLICY))
        self.queries = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reply(self, query: bytes) -> bytes:
        """The DER time-stamp response ``openssl ts -reply`` gives for a DER ``query``."""
        with self._lock:  # openssl increments the serial file: one reply at a time
            work = Path(tempfile.mkdtemp(dir=self.dir))
            try:
                (work / "query.tsq").write_bytes(query)
                done = subprocess.run(
                    [
                        "openssl",
                        "ts",
                        "-reply",
                        "-config",
                        str(self.config),
                        "-queryfile",
                        str(work / "query.tsq"),
                        "-out",
                        str(work / "reply.tsr"),
                    ],
                    capture_output=True,
                    timeout=30,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(done.stderr.decode(errors="replace"))
                self.queries += 1
                return (work / "reply.tsr").read_bytes()
            finally:
                shutil.rmtree(work, ignore_errors=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if kind != QUERY_TYPE or not 0 < length <= MAX_QUERY_BYTES:
                    tsa.errors.append(f"bad query: {kind!r}, {length} bytes")
                    self._send(415, b"", "text/plain")
                    return
                try:
                    body = tsa.reply(self.rfile.read(length))
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    tsa.errors.append(str(exc))
                    self._send(500, b"", "text/plain")
                    return
                self._send(200, body, REPLY_TYPE)

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        """Stop serving and remove the key material."""
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> TimeStampAuthority:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
