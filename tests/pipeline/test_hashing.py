"""One-pass hashing and magic-byte sniffing: what the bytes are, never what they are called."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from authcheck.errors import AuthcheckError, MediaTooLarge, UnsupportedMedia
from authcheck.pipeline import hashing
from authcheck.pipeline.hashing import (
    StreamDigest,
    copy_and_hash,
    hash_file,
    receive,
    sniff,
    sniff_bytes,
)
from tests.mediagen import make_audio, make_image, make_video


def test_copy_and_hash_streams_and_hashes_in_one_pass(tmp_path: Path) -> None:
    data = b"x" * (3 * 1024 * 1024 + 17)
    stored = copy_and_hash(io.BytesIO(data), tmp_path / "out", max_bytes=10**8)
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert stored.path.read_bytes() == data
    assert (stored.path.stat().st_mode & 0o777) == 0o600
    assert hash_file(stored.path) == (stored.sha256, stored.size)


@pytest.mark.parametrize("size", [0, 17, hashing.THREADED_ABOVE + 5 * 1024 * 1024 + 3])
def test_receive_writes_and_hashes_a_body_in_one_pass(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    got = receive(io.BytesIO(data + b"next request"), tmp_path / "out", len(data), 10**9)
    assert got.size == len(data) and got.path.read_bytes() == data  # no byte past the length
    assert got.digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert (got.path.stat().st_mode & 0o777) == 0o600
    got.digest.close()  # after hexdigest: harmless


def test_receive_refuses_a_body_over_the_cap_before_reading_it(tmp_path: Path) -> None:
    stream = io.BytesIO(b"y" * 5000)
    with pytest.raises(MediaTooLarge) as info:
        receive(stream, tmp_path / "out", 5000, max_bytes=4096)
    assert info.value.code == "too_large" and stream.tell() == 0
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("length", [100, hashing.THREADED_ABOVE + 100])
def test_a_body_shorter_than_announced_is_a_parse_error(tmp_path: Path, length: int) -> None:
    with pytest.raises(AuthcheckError) as info:
        receive(io.BytesIO(b"x" * (length - 70)), tmp_path / "out", length, max_bytes=10**9)
    assert info.value.code == "parse_error" and info.value.status == 400
    assert f"{length - 70} of the {length} bytes" in info.value.message
    assert not (tmp_path / "out").exists()


def test_the_threaded_digest_equals_the_inline_one_and_bounds_its_queue() -> None:
    chunks = [bytes([i]) * (1024 * 1024) for i in range(10)]
    inline, threaded = StreamDigest(threaded=False), StreamDigest(threaded=True, depth=2)
    for chunk in chunks:
        inline.update(chunk)
        threaded.update(chunk)
        assert threaded._queue is not None and threaded._queue.qsize() <= 2
    expected = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert threaded.hexdigest() == inline.hexdigest() == expected
    assert threaded._thread is None  # the helper thread has ended


def test_a_failing_observer_is_raised_never_a_hang_or_a_partial_digest() -> None:
    def observe(chunk: bytes) -> None:
        raise ValueError("label scan broke")

    digest = StreamDigest(threaded=True, depth=2, observe=observe)
    fed = 0
    with pytest.raises(ValueError, match="label scan broke"):
        for _ in range(50):  # far more than the queue holds: a dead thread would block here
            digest.update(b"x" * 1024)
            fed += 1
    assert fed < 50
    with pytest.raises(ValueError, match="label scan broke"):
        digest.hexdigest()
    digest.close()


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
