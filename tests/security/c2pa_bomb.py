"""A Brotli manifest bomb (SECURITY C11): a JPEG whose C2PA manifest is stored compressed in a
``brob`` box (C2PA 2.x compressed manifests) that inflates far beyond any sane cap.

The JPEG starts as a real manifest signed by c2pa-python with ``core.prefer_compress_manifests``;
the ``brob`` payload (Brotli of the manifest's ``jumb`` box) is then replaced by the Brotli of that
same box followed by zeros up to ``inflated`` bytes, and the lengths of every enclosing JUMBF box
and of the APP11 segment are fixed. 1 GiB of zeros compresses to about 2 KB.
"""

from __future__ import annotations

import json
from pathlib import Path

import brotli
import c2pa

from tests.c2pa_fixtures import manifest, test_ca
from tests.mediagen import make_image

APP11 = b"\xff\xeb"
_CHUNK = 8 << 20


def compressed_manifest_jpeg(path: Path) -> Path:
    """A JPEG signed by the test CA whose manifest the SDK stored Brotli-compressed."""
    src = make_image(path.with_name(f"src-{path.name}"), size=(96, 64), fmt="JPEG")
    context = c2pa.Context.from_dict(
        {"core": {"prefer_compress_manifests": True}, "builder": {"thumbnail": {"enabled": False}}}
    )
    builder = c2pa.Builder(manifest(path.name), context=context)
    with open(src, "rb") as source, open(path, "w+b") as dest:
        builder.sign(test_ca().signer(), "image/jpeg", source, dest)
    src.unlink()
    assert path.read_bytes().count(b"brob") == 1, "the SDK did not compress the manifest"
    return path


def _boxes(data: bytes, start: int, end: int, out: list[tuple[int, int, bytes]]) -> None:
    """(offset, length, type) of every JUMBF box in data[start:end], superboxes recursed."""
    at = start
    while at + 8 <= end:
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if length < 8 or at + length > end:
            raise ValueError(f"bad box at {at}")
        out.append((at, length, kind))
        if kind == b"jumb":
            _boxes(data, at + 8, at + length, out)
        at += length


def _inflating(prefix: bytes, inflated: int) -> bytes:
    compressor = brotli.Compressor(quality=5)
    parts = [compressor.process(prefix)]
    remaining = inflated - len(prefix)
    zeros = bytes(_CHUNK)
    while remaining > 0:
        parts.append(compressor.process(zeros[: min(remaining, _CHUNK)]))
        remaining -= _CHUNK
    parts.append(compressor.finish())
    return b"".join(parts)


def brotli_bomb_jpeg(path: Path, inflated: int) -> Path:
    """A JPEG whose ``brob`` manifest box inflates to ``inflated`` bytes."""
    data = bytearray(compressed_manifest_jpeg(path).read_bytes())
    segment = data.find(APP11)
    while data[segment + 4 : segment + 6] != b"JP":
        segment = data.find(APP11, segment + 2)
    store = segment + 12  # marker, Lp, CI "JP", En, Z
    store_len = int.from_bytes(data[store : store + 4], "big")
    boxes: list[tuple[int, int, bytes]] = []
    _boxes(bytes(data), store, store + store_len, boxes)
    brob = next((at, length) for at, length, kind in boxes if kind == b"brob")
    payload = bytes(data[brob[0] + 8 : brob[0] + brob[1]])
    original = brotli.decompress(payload)
    bomb = _inflating(original, inflated)
    delta = len(bomb) - len(payload)
    segment_len = int.from_bytes(data[segment + 2 : segment + 4], "big")
    assert segment_len + delta < 0xFFFF, "the bomb must fit one APP11 segment"
    for at, length, _kind in boxes:
        if at <= brob[0] < at + length:  # the brob box and every box around it
            data[at : at + 4] = (length + delta).to_bytes(4, "big")
    data[segment + 2 : segment + 4] = (segment_len + delta).to_bytes(2, "big")
    data[brob[0] + 8 : brob[0] + brob[1]] = bomb
    path.write_bytes(bytes(data))
    return path


def peak_rss_kib() -> int:
    """This process's peak resident set size (``VmHWM``, KiB).

    Not ``getrusage``: Linux keeps ``ru_maxrss`` across ``execve``, so a child of a big test
    process would start with its parent's peak; ``VmHWM`` belongs to the new address space."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def read_in_child(path: str, max_mb: int) -> dict[str, object]:
    """Run in a fresh interpreter: read ``path`` with a cap of ``max_mb`` and report the peak RSS
    (KiB) before and after, and the outcome."""
    from authcheck.pipeline import provenance

    trust = provenance.TrustConfig(max_manifest_mb=max_mb)
    provenance.context_for(trust)
    before = peak_rss_kib()
    findings = provenance.read(Path(path), "image/jpeg", trust)
    after = peak_rss_kib()
    return {
        "before_kib": before,
        "after_kib": after,
        "state": findings.state,
        "error_code": findings.error_code,
        "error_message": findings.error_message,
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(read_in_child(sys.argv[1], int(sys.argv[2]))))
