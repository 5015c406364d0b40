"""C2PA test corpus generated in code: a throw-away CA and media signed (and then damaged) with it.

Nothing here is a binary blob: every file is built from ffmpeg/Pillow output and c2pa-python
signing, so the suite proves what the SDK really does today. ``corpus()`` builds the whole set
once per process (it is cached) into a temporary directory; ``test_ca()`` exposes the root PEM so
tests can build a ``TrustConfig`` that trusts it, or one that does not.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import json
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from tests.mediagen import ffmpeg, make_image, make_video

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
MARKER = "authcheck-assertion-marker-ORIGINAL"
HOSTILE = "evil\u0000title\u202e<script>alert(1)</script>\x07\x1b[31m"

_KEY_USAGE = dict(
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "authcheck test CA"),
        ]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class TestCA:
    """A root CA that issues C2PA signing certificates (ES256, EKU emailProtection)."""

    __test__ = False  # not a pytest test class

    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey

    @property
    def root_pem(self) -> str:
        """The root certificate in PEM, for ``TrustConfig(anchors_pem=...)``."""
        return _pem(self.root).decode()

    def signer(self, *, not_after: dt.datetime | None = None, ocsp_url: str = "") -> c2pa.Signer:
        """A c2pa Signer with a fresh leaf certificate (short-lived or with an OCSP AIA)."""
        chain, key = self.leaf(not_after=not_after, ocsp_url=ocsp_url)
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, None))

    def leaf(
        self, *, not_after: dt.datetime | None = None, ocsp_url: str = ""
    ) -> tuple[bytes, bytes]:
        """(leaf + root chain PEM, PKCS#8 key PEM) for a new signing certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        start, end = now - dt.timedelta(days=1), not_after or now + dt.timedelta(days=365)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("authcheck Test Signer"))
            .issuer_name(self.root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=False, crl_sign=False, **_KEY_USAGE
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()),
                critical=False,
            )
        )
        if ocsp_url:
            access = x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
            )
            builder = builder.add_extension(
                x509.AuthorityInformationAccess([access]), critical=False
            )
        cert = builder.sign(self.root_key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return _pem(cert) + _pem(self.root), key_pem


def new_ca(common_name: str = "authcheck Test Root") -> TestCA:
    """Create a new self-signed root CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=90))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **_KEY_USAGE),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TestCA(root=root, root_key=key)


@functools.cache
def test_ca() -> TestCA:
    """The process-wide throw-away CA that signs the corpus."""
    return new_ca()


test_ca.__test__ = False  # type: ignore[attr-defined]


def manifest(
    title: str = "photo.jpg",
    *,
    source_type: str = "digitalCapture",
    agent: str = "authcheck-tests camera",
    claim_generator: str = "authcheck-tests",
    extra_assertions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A manifest definition with one ``c2pa.created`` action and a marker assertion."""
    return {
        "claim_generator_info": [{"name": claim_generator, "version": "1.0"}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC + source_type,
                            "softwareAgent": {"name": agent},
                        }
                    ]
                },
            },
            {"label": "org.authcheck.test", "data": {"marker": MARKER}},
            *(extra_assertions or []),
        ],
    }


def _builder_context() -> c2pa.Context:
    # No thumbnails (small, deterministic files); no verify-after-sign so that an expired
    # certificate can still produce a test asset.
    return c2pa.Context.from_dict(
        {"builder": {"thumbnail": {"enabled": False}}, "verify": {"verify_after_sign": False}}
    )


def sign(
    src: Path,
    dst: Path,
    mime: str,
    definition: dict[str, Any],
    *,
    signer: c2pa.Signer | None = None,
    ingredients: tuple[tuple[Path, str, str], ...] = (),
    remote_url: str = "",
) -> bytes:
    """Sign ``src`` into ``dst``; ``ingredients`` are (path, mime, relationship). Returns the
    manifest bytes (the sidecar when ``remote_url`` is set)."""
    builder = c2pa.Builder(definition, context=_builder_context())
    for path, ing_mime, relationship in ingredients:
        with open(path, "rb") as stream:
            ingredient = {"title": path.name, "relationship": relationship}
            builder.add_ingredient(json.dumps(ingredient), ing_mime, stream)
    if remote_url:
        builder.set_no_embed()
        builder.set_remote_url(remote_url)
    with open(src, "rb") as source, open(dst, "w+b") as dest:
        return builder.sign(signer or test_ca().signer(), mime, source, dest)


def signer_from(chain_pem: bytes, key_pem: bytes) -> c2pa.Signer:
    """A c2pa Signer for a certificate chain and key from ``TestCA.leaf``."""
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain_pem, key_pem, None))


def signed_jpeg(path: Path, definition: dict[str, Any] | None = None, **kwargs: Any) -> Path:
    """Write a new JPEG at ``path`` signed with ``definition`` (see ``sign`` for kwargs)."""
    return _signed(path.parent, path.name, definition or manifest(path.name), **kwargs)


def remote_only_jpeg(path: Path, url: str) -> Path:
    """A JPEG whose manifest is not embedded: the file only points at ``url``."""
    return signed_jpeg(path, remote_url=url)


def ocsp_jpeg(path: Path, ocsp_url: str) -> Path:
    """A JPEG signed by a certificate whose AIA names ``ocsp_url`` as its OCSP responder."""
    return signed_jpeg(path, signer=test_ca().signer(ocsp_url=ocsp_url))


def ai_ingredient_jpeg(path: Path) -> Path:
    """A camera-declared JPEG with an AI-generated (signed) ingredient."""
    child = signed_jpeg(
        path.with_name("ai-child.jpg"),
        manifest("ai-child.jpg", source_type="trainedAlgorithmicMedia", agent="GenModel 3"),
    )
    return signed_jpeg(path, ingredients=((child, "image/jpeg", "componentOf"),))


# --- damage -----------------------------------------------------------------------------------


def _replace_once(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert len(old) == len(new) and data.count(old) == 1, f"{old!r} not found once in {path}"
    path.write_bytes(data.replace(old, new))


def flip_signature(path: Path) -> None:
    """Flip a byte inside the COSE signature (the last bytes of the ``c2pa.signature`` box)."""
    data = bytearray(path.read_bytes())
    label = data.rfind(b"c2pa.signature")
    box = data.find(b"cbor", label)
    assert label > 0 and box > 0, "no c2pa.signature box"
    length = int.from_bytes(data[box - 4 : box], "big")
    # COSE_Sign1 ends with the 64-byte ES256 signature; hit the middle of it.
    data[box - 4 + length - 32] ^= 0xFF
    path.write_bytes(bytes(data))


def alter_jpeg_pixels(path: Path) -> None:
    """Change one byte of entropy-coded image data (after every APP segment)."""
    data = bytearray(path.read_bytes())
    sos = data.rfind(b"\xff\xda")
    index = (sos + len(data)) // 2
    while data[index] in (0xFF, 0xFE) or data[index - 1] == 0xFF:
        index += 1
    data[index] ^= 0x01
    path.write_bytes(bytes(data))


def alter_assertion(path: Path) -> None:
    """Change the marker assertion's text, keeping its length (so only its hash breaks)."""
    _replace_once(path, MARKER.encode(), MARKER.replace("ORIGINAL", "ALTERED!").encode())


# --- the corpus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Paths of the generated C2PA test files (see ``corpus``)."""

    root: Path
    intact_jpeg: Path
    ai_jpeg: Path
    signature_flipped: Path
    pixels_altered: Path
    assertion_altered: Path
    bad_ingredient: Path
    expired_cert: Path
    unsigned_jpeg: Path
    signed_png: Path
    signed_mp4: Path
    remuxed_mp4: Path
    hostile: Path


def _jpeg(path: Path, color: tuple[int, int, int] = (200, 30, 30)) -> Path:
    return make_image(path, size=(96, 64), color=color, fmt="JPEG", quality=90)


def _signed(directory: Path, name: str, definition: dict[str, Any], **kwargs: Any) -> Path:
    src = _jpeg(directory / f"src-{name}")
    dst = directory / name
    sign(src, dst, "image/jpeg", definition, **kwargs)
    src.unlink()
    return dst


def _damaged(directory: Path, name: str, damage: Any) -> Path:
    path = _signed(directory, name, manifest(name))
    damage(path)
    return path


def _bad_ingredient(directory: Path) -> Path:
    child = _damaged(directory, "child-bad-signature.jpg", flip_signature)
    return _signed(
        directory,
        "parent-with-bad-ingredient.jpg",
        manifest("parent-with-bad-ingredient.jpg"),
        ingredients=((child, "image/jpeg", "componentOf"),),
    )


def _videos(directory: Path) -> tuple[Path, Path]:
    clip = make_video(directory / "src-clip.mp4", seconds=1, size="160x120")
    signed = directory / "signed.mp4"
    sign(clip, signed, "video/mp4", manifest("signed.mp4"))
    remuxed = directory / "remuxed.mp4"
    ffmpeg("-i", str(signed), "-c", "copy", "-map", "0", str(remuxed))
    clip.unlink()
    return signed, remuxed


def _expiring(directory: Path) -> tuple[Path, dt.datetime]:
    # c2pa refuses to sign with a certificate that is already expired, so sign with one that
    # expires in two seconds; the caller waits for that moment after building everything else.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_after = now + dt.timedelta(seconds=2)
    signer = test_ca().signer(not_after=not_after)
    return _signed(directory, "expired.jpg", manifest("expired.jpg"), signer=signer), not_after


def wait_until(moment: dt.datetime, bound: float = 10.0) -> None:
    """Block until the clock passes ``moment`` (at most ``bound`` seconds)."""
    deadline = time.monotonic() + bound
    while dt.datetime.now(dt.UTC) <= moment:
        remaining = (moment - dt.datetime.now(dt.UTC)).total_seconds()
        assert time.monotonic() < deadline, "clock did not reach the expiry in time"
        threading.Event().wait(max(min(remaining, deadline - time.monotonic()), 0.01))


def build_corpus(directory: Path) -> Corpus:
    """Generate every corpus file into ``directory``."""
    expired, not_after = _expiring(directory)
    png_src = make_image(directory / "src.png", size=(64, 48), fmt="PNG")
    signed_png = directory / "signed.png"
    sign(png_src, signed_png, "image/png", manifest("signed.png"))
    signed_mp4, remuxed_mp4 = _videos(directory)
    files = dict(
        root=directory,
        intact_jpeg=_signed(directory, "intact.jpg", manifest("intact.jpg")),
        ai_jpeg=_signed(
            directory,
            "ai.jpg",
            manifest("ai.jpg", source_type="trainedAlgorithmicMedia", agent="GenModel 3"),
        ),
        signature_flipped=_damaged(directory, "signature-flipped.jpg", flip_signature),
        pixels_altered=_damaged(directory, "pixels-altered.jpg", alter_jpeg_pixels),
        assertion_altered=_damaged(directory, "assertion-altered.jpg", alter_assertion),
        bad_ingredient=_bad_ingredient(directory),
        expired_cert=expired,
        unsigned_jpeg=_jpeg(directory / "unsigned.jpg", color=(20, 120, 40)),
        signed_png=signed_png,
        signed_mp4=signed_mp4,
        remuxed_mp4=remuxed_mp4,
        hostile=_signed(
            directory,
            "hostile.jpg",
            manifest(
                HOSTILE,
                claim_generator=HOSTILE,
                agent=HOSTILE,
                extra_assertions=[{"label": "org.authcheck.hostile", "data": {"text": HOSTILE}}],
            ),
        ),
    )
    wait_until(not_after + dt.timedelta(seconds=1))
    return Corpus(**files)


@functools.cache
def corpus() -> Corpus:
    """The corpus, built once per process into a temporary directory removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="authcheck-c2pa-"))
    atexit.register(shutil.rmtree, directory, True)
    return build_corpus(directory)


# --- network canary ----------------------------------------------------------------------------


class Canary:
    """A loopback HTTP server that records every connection and request it receives.

    Connections are recorded by the accept loop, in order; ``connections_settled`` sends its own
    sentinel request and waits for it, so any connection opened before it has been counted.
    """

    SENTINEL = "/__canary_sentinel__"

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.connections = 0
        self.changed = threading.Condition()
        self.server = self._server(self._handler())
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with canary.changed:
                    if self.path != Canary.SENTINEL:
                        canary.hits.append(self.path)
                    canary.changed.notify_all()
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _server(self, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
        canary = self

        class Recording(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                with canary.changed:
                    canary.connections += 1
                return True

        # Dual-stack wildcard so that 127.0.0.1, ::1 and ::ffff:127.0.0.1 all reach it; it only
        # ever accepts connections, it never opens one.
        class DualStack(Recording):
            address_family = socket.AF_INET6

            def server_bind(self) -> None:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                super().server_bind()

        try:
            return DualStack(("::", 0), handler)
        except OSError:
            return Recording(("127.0.0.1", 0), handler)

    def connections_settled(self) -> int:
        """Connections made by others, counted after every earlier one was accepted."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(f"GET {self.SENTINEL} HTTP/1.0\r\n\r\n".encode())
            sock.recv(1024)
        with self.changed:
            return self.connections - 1

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> int:
        """Wait (bounded) until ``count`` requests arrived; return how many did."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.hits) >= count, timeout)
            return len(self.hits)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
