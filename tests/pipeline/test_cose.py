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
