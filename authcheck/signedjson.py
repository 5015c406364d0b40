"""Signed verification reports: a documented canonical JSON form and Ed25519 signatures.

Pure functions (no Django), so ``manage.py verify_report`` and any third party can check a
report offline. The format is described in ``docs/REPORTS.md``:

- ``canonical(value)`` is UTF-8 JSON with object keys sorted by code point, no insignificant
  whitespace, non-ASCII escaped as ``\\uXXXX`` and no NaN/Infinity;
- the envelope is ``{"format", "payload", "signature": {"alg": "Ed25519", "key_id",
  "public_key", "value"}}``; ``value`` is the base64 Ed25519 signature of
  ``canonical(payload)``, ``public_key`` the base64 raw 32-byte key, ``key_id`` the first 16
  hex digits of its SHA-256;
- the file is ``canonical(envelope)`` plus one ``\\n``; any other byte sequence is refused, so a
  change to any byte (whitespace and the signature included) is detected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "authcheck.verification-report/1"
ALG = "Ed25519"


class ReportSignatureError(ValueError):
    """A report that is not exactly what was signed (or a key that cannot be read)."""


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value (see the module docstring)."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return text.encode("ascii")


def key_id(public: Ed25519PublicKey) -> str:
    """The short identifier of a public key: 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as SubjectPublicKeyInfo PEM (what ``verify_report --public-key`` reads)."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def sign(payload: dict[str, Any], private: Ed25519PrivateKey) -> bytes:
    """The signed report file for ``payload`` (a JSON object of plain JSON types)."""
    public = private.public_key()
    signature = private.sign(canonical(payload))
    envelope = {
        "format": FORMAT,
        "payload": payload,
        "signature": {
            "alg": ALG,
            "key_id": key_id(public),
            "public_key": base64.b64encode(_raw(public)).decode("ascii"),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }
    return canonical(envelope) + b"\n"


@dataclass(frozen=True)
class Verified:
    """A report that verified: its payload and the key that signed it."""

    payload: dict[str, Any]
    key_id: str
    embedded_key: bool


def verify(data: bytes, public: Ed25519PublicKey | None = None) -> Verified:
    """Check a report file byte for byte; raise ``ReportSignatureError`` on any difference.

    With ``public`` the report must be signed by that key; without it, by the key it embeds
    (which proves the report is intact, not who made it: ``embedded_key`` says so)."""
    envelope = _envelope(data)
    signature = envelope["signature"]
    embedded = _embedded_key(signature)
    if public is not None and _raw(public) != _raw(embedded):
        raise ReportSignatureError("the report was signed by another key")
    if signature.get("key_id") != key_id(embedded):
        raise ReportSignatureError("the key id does not match the embedded key")
    try:
        value = _b64(signature.get("value"))
        embedded.verify(value, canonical(envelope["payload"]))
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise ReportSignatureError("the signature does not match the report") from exc
    return Verified(envelope["payload"], key_id(embedded), embedded_key=public is None)


def _envelope(data: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReportSignatureError("the report is not canonical ASCII JSON") from exc
    if not isinstance(envelope, dict) or set(envelope) != {"format", "payload", "signature"}:
        raise ReportSignatureError("the report is not a signed report envelope")
    if envelope["format"] != FORMAT or not isinstance(envelope["payload"], dict):
        raise ReportSignatureError(f"the report is not in the {FORMAT} format")
    if not isinstance(envelope["signature"], dict) or envelope["signature"].get("alg") != ALG:
        raise ReportSignatureError(f"the signature is not {ALG}")
    if canonical(envelope) + b"\n" != data:
        raise ReportSignatureError("the report is not byte for byte in its canonical form")
    return envelope


def _embedded_key(signature: dict[str, Any]) -> Ed25519PublicKey:
    try:
        raw = _b64(signature.get("public_key"))
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ReportSignatureError("the embedded public key cannot be read") from exc


def _b64(text: Any) -> bytes:
    """Strict base64: the unused bits of the last character must be zero, so one value has
    exactly one spelling (otherwise a changed character could decode to the same bytes)."""
    raw = base64.b64decode(str(text), validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ``ReportSignatureError`` for anything else."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ReportSignatureError("the public key is not PEM") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ReportSignatureError("the public key is not an Ed25519 key")
    return key


def load_private_pem(data: bytes) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key (PKCS#8 PEM)."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (TypeError, ValueError) as exc:
        raise ReportSignatureError("the signing key is not an unencrypted PEM key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ReportSignatureError("the signing key is not an Ed25519 key")
    return key


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """Create a new Ed25519 private key at ``path`` (mode 0600; refuses to overwrite)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return private
