"""Certificate chains read from COSE signatures: the real chain of a signed file, nothing (and
no exception) from hostile or empty input."""

from __future__ import annotations

from pathlib import Path

from authcheck.pipeline import cose
from tests.c2pa_fixtures import corpus, test_ca


def test_the_chain_of_a_signed_file_is_leaf_then_root() -> None:
    (chain,) = cose.chains(corpus().intact_jpeg)
    assert [c.subject for c in chain] == [chain[0].subject, test_ca().root.subject]
    assert chain[1] == test_ca().root


def test_hostile_and_empty_input_gives_no_chain(tmp_path: Path) -> None:
    junk = b"c2pa.signature" + b"\x00\x00\x00\x20cbor" + b"\xff" * 40 + b"c2pa.signature"
    assert cose.chains(tmp_path, data=junk) == []
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert cose.chains(empty) == []
    assert cose.signer_chain(corpus().intact_jpeg, "12345") == []


def _scanned(data: bytes, chunk: int) -> list[int] | None:
    scan = cose.LabelScan()
    for at in range(0, len(data), chunk):
        scan.feed(data[at : at + chunk])
    return scan.offsets


def test_labels_noted_while_receiving_give_the_chains_a_search_of_the_file_gives(
    tmp_path: Path,
) -> None:
    data = corpus().intact_jpeg.read_bytes()
    truth = []
    at = data.find(b"c2pa.signature")
    while at >= 0:
        truth.append(at)
        at = data.find(b"c2pa.signature", at + 1)
    assert truth
    # Every chunk size, including ones that split a label across two chunks (and 1-byte feeds).
    for chunk in (1, 5, 13, 14, 15, 4096, len(data)):
        assert _scanned(data, chunk) == truth, chunk
    offsets = _scanned(data, 4096)
    assert cose.chains(corpus().intact_jpeg, offsets=offsets) == cose.chains(corpus().intact_jpeg)
    # A label copied elsewhere with junk after it, as in the hostile case: skipped the same way.
    hostile = tmp_path / "hostile"
    junk = b"c2pa.signature" + b"\x00\x00\x00\x20cbor" + b"\xff" * 40 + b"c2pa.signature"
    hostile.write_bytes(junk + data)
    assert cose.chains(hostile, offsets=_scanned(hostile.read_bytes(), 7)) == cose.chains(hostile)


def test_a_flood_of_labels_gives_up_the_scan_not_memory() -> None:
    assert _scanned(b"c2pa.signature" * (cose.MAX_LABELS + 1), 1 << 20) is None
    assert _scanned(b"c2pa.signature" * cose.MAX_LABELS, 1 << 20) is not None
