"""The signing certificate chains of a C2PA manifest store, read from its COSE signatures.

c2pa-python 0.38.1 reports only the signing certificate's names, so the chain (``x5chain``,
COSE header 33, in each ``c2pa.signature`` JUMBF box) is read here with cbor2. Pure and bounded:
at most ``MAX_SIGNATURES`` boxes of at most ``MAX_BOX_BYTES`` each; anything unreadable (for
example a box split across JPEG APP11 segments) is skipped, never raised.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

MAX_SIGNATURES = 64
MAX_BOX_BYTES = 1024 * 1024
# More labels than this in one file (hostile bytes): the scan gives up and the file is searched.
MAX_LABELS = 4096
_X5CHAIN = 33
_LABEL = b"c2pa.signature"
_HEAD = len(_LABEL) + 64  # a label, then its cbor box header within 64 bytes


class LabelScan:
    """Finds every ``c2pa.signature`` label in bytes fed chunk by chunk (labels split across
    two chunks included), so a receiver can note where the signatures are while the bytes pass
    by, and ``chains(path, offsets=...)`` reads only there instead of searching the whole file
    again. ``offsets`` is None when there were more than ``MAX_LABELS``."""

    def __init__(self) -> None:
        self._found: list[int] | None = []
        self._tail = b""
        self._pos = 0

    def feed(self, chunk: bytes) -> None:
        """Scan the next ``chunk``."""
        if self._found is not None and chunk:
            keep = len(_LABEL) - 1
            # A label that starts in the previous chunk's tail and ends in this one.
            edge = self._tail + chunk[:keep]
            at = edge.find(_LABEL)
            if 0 <= at < len(self._tail):
                self._note(self._pos - len(self._tail) + at)
            at = chunk.find(_LABEL)
            while at >= 0 and self._found is not None:
                self._note(self._pos + at)
                at = chunk.find(_LABEL, at + len(_LABEL))
            self._tail = (self._tail + chunk)[-keep:] if len(chunk) < keep else chunk[-keep:]
        self._pos += len(chunk)

    def _note(self, offset: int) -> None:
        assert self._found is not None
        self._found.append(offset)
        if len(self._found) > MAX_LABELS:
            self._found = None

    @property
    def offsets(self) -> list[int] | None:
        """Where each label starts (file offsets, ascending), or None past ``MAX_LABELS``."""
        return None if self._found is None else list(self._found)


def _boxes(blob: bytes | mmap.mmap) -> list[bytes]:
    """The payloads of the ``cbor`` boxes that follow each ``c2pa.signature`` label."""
    out: list[bytes] = []
    start = 0
    while len(out) < MAX_SIGNATURES:
        label = blob.find(_LABEL, start)
        if label < 0:
            break
        start = label + len(_LABEL)
        box = blob.find(b"cbor", start, start + 64)
        if box < 4:
            continue
        length = int.from_bytes(blob[box - 4 : box], "big")
        if 8 < length <= MAX_BOX_BYTES:
            out.append(bytes(blob[box + 4 : box - 4 + length]))
    return out


def _chain(payload: bytes) -> list[x509.Certificate]:
    try:
        sign1 = cbor2.loads(payload)
        value = sign1.value if isinstance(sign1, cbor2.CBORTag) else sign1
        protected = cbor2.loads(value[0]) if value[0] else {}
        found: Any = protected.get(_X5CHAIN) or (value[1] or {}).get(_X5CHAIN)
        ders = [found] if isinstance(found, bytes) else list(found or [])
        return [x509.load_der_x509_certificate(der) for der in ders[:10]]
    except Exception:  # hostile or split boxes: no chain, never an error
        return []


def _boxes_at(path: Path, offsets: Sequence[int]) -> list[bytes]:
    """``_boxes`` of the file for labels known to start at ``offsets``: the same payloads, read
    with a few small ``pread`` calls instead of a search through the whole file."""
    out: list[bytes] = []
    fd = os.open(path, os.O_RDONLY)
    try:
        for label in offsets:
            if len(out) >= MAX_SIGNATURES:
                break
            head = os.pread(fd, _HEAD, label)
            box = head.find(b"cbor", len(_LABEL), _HEAD)
            if box < 0 or label + box < 4:
                continue
            size = int.from_bytes(os.pread(fd, 4, label + box - 4), "big")
            if 8 < size <= MAX_BOX_BYTES:
                out.append(os.pread(fd, size - 8, label + box + 4))
    finally:
        os.close(fd)
    return out


def chains(
    path: Path, data: bytes | None = None, offsets: Sequence[int] | None = None
) -> list[list[x509.Certificate]]:
    """Every readable certificate chain in the manifest store (``data``) or the file; with
    ``offsets`` (from a ``LabelScan`` of the file's bytes) only those places are read."""
    if data is not None:
        return [c for c in map(_chain, _boxes(data)) if c]
    if offsets is not None:
        return [c for c in map(_chain, _boxes_at(path, offsets)) if c]
    with open(path, "rb") as handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return []
        with view:
            return [c for c in map(_chain, _boxes(view)) if c]


def _name(name: x509.Name) -> str:
    return name.rfc4514_string()


def describe(cert: x509.Certificate) -> dict[str, Any]:
    """Subject, issuer, serial, validity and SHA-256 fingerprint of one certificate."""
    return {
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "serial_number": str(cert.serial_number),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(),
    }


def signer_certs(
    path: Path, serial: str, data: bytes | None = None, offsets: Sequence[int] | None = None
) -> list[x509.Certificate]:
    """The chain whose leaf has serial number ``serial`` (decimal), leaf first; [] if none."""
    for chain in chains(path, data, offsets):
        if str(chain[0].serial_number) == serial:
            return chain
    return []


def signer_chain(path: Path, serial: str, data: bytes | None = None) -> list[dict[str, Any]]:
    """``signer_certs`` described for a report."""
    return [describe(c) for c in signer_certs(path, serial, data)]
