"""One-pass hashing and magic-byte sniffing: what the bytes are, never what they are called."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from authcheck.errors import MediaTooLarge, UnsupportedMedia
from authcheck.pipeline.hashing import copy_and_hash, hash_file, sniff, sniff_bytes
from tests.mediagen import make_audio, make_image, make_video


def test_copy_and_hash_streams_and_hashes_in_one_pass(tmp_path: Path) -> None:
    data = b"x" * (3 * 1024 * 1024 + 17)
    stored = copy_and_hash(io.BytesIO(data), tmp_path / "out", max_bytes=10**8)
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert stored.path.read_bytes() == data
    assert (stored.path.stat().st_mode & 0o777) == 0o600
    assert hash_file(stored.path) == (stored.sha256, stored.size)


def test_copy_and_hash_stops_at_the_cap_and_removes_the_partial_file(tmp_path: Path) -> None:
    with pytest.raises(MediaTooLarge) as info:
        copy_and_hash(io.BytesIO(b"y" * 5000), tmp_path / "out", max_bytes=4096)
    assert info.value.code == "too_large"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "make", "mime", "kind"),
    [
        ("a.jpg", lambda p: make_image(p), "image/jpeg", "image"),
        ("a.png", lambda p: make_image(p), "image/png", "image"),
        ("a.webp", lambda p: make_image(p), "image/webp", "image"),
        ("a.gif", lambda p: make_image(p), "image/gif", "image"),
        ("a.mp4", lambda p: make_video(p, seconds=0.5), "video/mp4", "video"),
        ("a.mkv", lambda p: make_video(p, seconds=0.5), "video/x-matroska", "video"),
        (
            "a.webm",
            lambda p: make_video(p, seconds=0.5, codec="libvpx"),
            "video/x-matroska",
            "video",
        ),
        ("a.ts", lambda p: make_video(p, seconds=0.5), "video/mp2t", "video"),
        ("a.wav", lambda p: make_audio(p), "audio/wav", "audio"),
        ("a.mp3", lambda p: make_audio(p), "audio/mpeg", "audio"),
        ("a.flac", lambda p: make_audio(p), "audio/flac", "audio"),
    ],
)
def test_it_recognises_real_media_by_its_bytes(tmp_path, name, make, mime, kind) -> None:
    path = make(tmp_path / name)
    renamed = path.rename(tmp_path / "no-extension")
    found = sniff(renamed)
    assert (found.mime, found.kind) == (mime, kind)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"", "empty"),
        (b"#EXTM3U\n#EXT-X-VERSION:3\nfile:///etc/passwd\n", "HLS playlist"),
        (b"ffconcat version 1.0\nfile /etc/passwd\n", "ffconcat"),
        (b'<?xml version="1.0"?><svg onload="alert(1)"/>', "XML"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"\n  <!DOCTYPE html><html><script>x()</script>", "HTML"),
        (b"hello, this is text", "not an image"),
    ],
)
def test_it_refuses_what_is_not_media(data: bytes, what: str) -> None:
    with pytest.raises(UnsupportedMedia) as info:
        sniff_bytes(data)
    assert what in info.value.message and info.value.code == "unsupported_media"
