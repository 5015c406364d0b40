"""Streaming storage with one-pass SHA-256, and magic-byte sniffing of what the bytes really are.

Media is never trusted by its name or declared type: ``sniff`` looks at the first bytes and
refuses anything that is not an image, video or audio container we examine (HTML, SVG, HLS
playlists, ffconcat scripts, text), so such bytes never reach ffmpeg or c2pa.

Every format c2pa-rs reads is recognised (``c2pa.Reader.get_supported_mime_types()``): the
images, video and audio below, JPEG XL (codestream and container), camera raw files (TIFF
based: DNG, NEF, ARW), and the documents PDF, OOXML (docx/xlsx/pptx), OpenDocument and EPUB,
which are of kind ``document``: their Content Credentials are verified, nothing else is run on
them. SVG is the exception, refused with its reason: it is script-capable markup. A
hand-written table is kept rather than a detection library (puremagic 1.30 ranks candidates by
confidence and guesses OOXML from any ZIP; filetype's last release is from 2022): each entry
here is exact, and a ZIP is classified by its entry names.
"""

from __future__ import annotations

import hashlib
import os
import queue
import secrets
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from authcheck.errors import AuthcheckError, MediaTooLarge, UnsupportedMedia

CHUNK = 1024 * 1024
# Bodies above this are hashed on a helper thread (a thread costs ~0.1 ms; hashing 4 MiB ~4 ms).
THREADED_ABOVE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Stored:
    """A file written by ``copy_and_hash``."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Sniffed:
    """The real type of some bytes: a MIME type and a media kind (image, video, audio)."""

    mime: str
    kind: str


def random_name() -> str:
    """A random, extensionless storage name: client-chosen names never reach the disk."""
    return secrets.token_hex(16)


def copy_and_hash(src: IO[bytes], dest: Path, max_bytes: int) -> Stored:
    """Stream ``src`` into the new file ``dest`` while hashing it; remove it on any failure."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise MediaTooLarge(f"file is larger than {max_bytes} bytes", code="too_large")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return Stored(path=dest, size=size, sha256=digest.hexdigest())


class StreamDigest:
    """SHA-256 of bytes fed chunk by chunk, in one pass.

    With ``threaded`` the chunks go to a helper thread through a queue of at most ``depth``
    chunks (memory stays bounded; a slow hash holds the sender back), so hashing runs beside
    receiving and beside whatever the caller does before ``hexdigest()`` (hashlib releases the
    GIL): it is not on the critical path of a large upload. ``observe``, if given, sees every
    chunk after it is hashed, on the same thread (one pass for both). ``close()`` abandons it.
    """

    def __init__(
        self,
        *,
        threaded: bool,
        depth: int = 4,
        observe: Callable[[bytes], None] | None = None,
    ) -> None:
        self._sha = hashlib.sha256()
        self._observe = observe
        self._hex = ""
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=depth)
            self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # keep draining, so the sender never blocks on a full queue
            try:
                self._take(chunk)
            except BaseException as error:  # raised to the caller by update()/hexdigest()
                self._failure = error

    def _take(self, chunk: bytes) -> None:
        self._sha.update(chunk)
        if self._observe is not None:
            self._observe(chunk)

    def update(self, chunk: bytes) -> None:
        """Add ``chunk`` (hashed now, or queued for the helper thread)."""
        if self._queue is None:
            self._take(chunk)
        else:
            self._raise_failure()
            self._queue.put(chunk)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _finish(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        """The digest of everything fed so far; waits for the helper thread (and so for
        ``observe`` too), then frees it."""
        if not self._hex:
            self._finish()
            self._raise_failure()  # never the digest of only part of the bytes
            self._hex = self._sha.hexdigest()
        return self._hex

    def close(self) -> None:
        """Stop the helper thread (after a failure); safe to call more than once."""
        self._finish()


@dataclass(frozen=True)
class Received:
    """A request body written to a file by ``receive``; its digest may still be computing."""

    path: Path
    size: int
    digest: StreamDigest


def receive(
    src: IO[bytes],
    dest: Path,
    length: int,
    max_bytes: int,
    observe: Callable[[bytes], None] | None = None,
) -> Received:
    """Stream a body of ``length`` bytes (its Content-Length) into the new file ``dest``.

    One pass: each chunk is written and hashed (on a helper thread above ``THREADED_ABOVE``),
    then shown to ``observe`` (see ``StreamDigest``).
    Over ``max_bytes`` raises ``MediaTooLarge`` (code ``too_large``) before anything is read; a
    body that ends early raises ``AuthcheckError`` (code ``parse_error``). ``dest`` is removed
    on any failure.
    """
    if length > max_bytes:
        raise MediaTooLarge(f"the file is larger than {max_bytes} bytes", code="too_large")
    digest = StreamDigest(threaded=length > THREADED_ABOVE, observe=observe)
    size = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while size < length and (chunk := src.read(min(CHUNK, length - size))):
                size += len(chunk)
                out.write(chunk)
                digest.update(chunk)
        if size < length:
            raise AuthcheckError(
                f"the body ended after {size} of the {length} bytes its Content-Length announced",
                code="parse_error",
            )
    except BaseException:
        digest.close()
        dest.unlink(missing_ok=True)
        raise
    return Received(path=dest, size=size, digest=digest)


def hash_file(path: Path) -> tuple[str, int]:
    """Return (sha256 hex, size) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return digest.hexdigest(), size


# (offset, magic, mime, kind); checked in order, first match wins.
_MAGIC: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg", "image"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png", "image"),
    (0, b"GIF87a", "image/gif", "image"),
    (0, b"GIF89a", "image/gif", "image"),
    (0, b"II*\x00", "image/tiff", "image"),
    (0, b"MM\x00*", "image/tiff", "image"),
    (0, b"\x1a\x45\xdf\xa3", "video/x-matroska", "video"),
    (0, b"OggS", "audio/ogg", "audio"),
    (0, b"fLaC", "audio/flac", "audio"),
    (0, b"ID3", "audio/mpeg", "audio"),
    (0, b"FLV\x01", "video/x-flv", "video"),
    (0, b"%PDF-", "application/pdf", "document"),
    (0, b"\xff\x0a", "image/jxl", "image"),  # JPEG XL codestream
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl", "image"),  # JPEG XL container
)

_RIFF = {
    b"WEBP": ("image/webp", "image"),
    b"WAVE": ("audio/wav", "audio"),
    b"AVI ": ("video/x-msvideo", "video"),
}

# ISO BMFF brands: images (HEIF/AVIF) versus audio; everything else is treated as video.
_IMAGE_BRANDS = {
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"mif2", b"msf1",
    b"avif", b"avis",
}  # fmt: skip
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}


def _sniff_bmff(head: bytes) -> Sniffed | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _IMAGE_BRANDS:
        return Sniffed("image/avif" if brand.startswith(b"avi") else "image/heic", "image")
    if brand in _AUDIO_BRANDS:
        return Sniffed("audio/mp4", "audio")
    if brand.startswith(b"qt"):
        return Sniffed("video/quicktime", "video")
    return Sniffed("video/mp4", "video")


def _sniff_mpeg_audio_or_ts(head: bytes) -> Sniffed | None:
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return Sniffed("video/mp2t", "video")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # MPEG audio frame sync (MP3 without ID3) or ADTS AAC (0xFFF1 / 0xFFF9).
        return Sniffed("audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg", "audio")
    return None


def sniff_bytes(head: bytes) -> Sniffed:
    """Classify the first bytes of a file; raise ``UnsupportedMedia`` if it is not media."""
    if not head:
        raise UnsupportedMedia("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise UnsupportedMedia("a ZIP archive is classified by its entries (use sniff on a file)")
    for offset, magic, mime, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return Sniffed(mime, kind)
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return Sniffed(*_RIFF[head[8:12]])
    found = _sniff_bmff(head) or _sniff_mpeg_audio_or_ts(head)
    if found:
        return found
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for marker, what in (
        (b"#extm3u", "an HLS playlist"),
        (b"ffconcat", "an ffconcat script"),
        (b"<svg", "an SVG document (script-capable markup, not examined)"),
        (b"<?xml", "an XML document"),
        (b"<!doctype html", "an HTML page"),
        (b"<html", "an HTML page"),
    ):
        if text.startswith(marker):
            raise UnsupportedMedia(f"the bytes are {what}, not an image, video or audio file")
    raise UnsupportedMedia("the bytes are not an image, video or audio format authcheck reads")


_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_ZIP_MIMETYPES = {
    "application/epub+zip",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.graphics",
    "application/vnd.oasis.opendocument.text-template",
    "application/vnd.oasis.opendocument.spreadsheet-template",
    "application/vnd.oasis.opendocument.presentation-template",
    "application/vnd.oasis.opendocument.graphics-template",
}


def _sniff_zip(path: Path) -> Sniffed:
    """OOXML, OpenDocument or EPUB by the archive's entry names (the central directory only;
    the one entry read, ``mimetype``, must be tiny)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()[:10_000]
            names = [i.filename for i in infos]
            if "[Content_Types].xml" in names:
                for prefix, mime in _OOXML.items():
                    if any(n.startswith(prefix) for n in names):
                        return Sniffed(mime, "document")
            entry = next((i for i in infos if i.filename == "mimetype"), None)
            if entry is not None and entry.file_size <= 100:
                declared = archive.read(entry).decode("ascii", "replace").strip()
                if declared in _ZIP_MIMETYPES:
                    return Sniffed(declared, "document")
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise UnsupportedMedia(f"an unreadable ZIP archive: {exc}") from exc
    raise UnsupportedMedia("a ZIP archive that is not an office document or EPUB")


def sniff(path: Path) -> Sniffed:
    """Classify a file by its magic bytes (never by its name)."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    return sniff_bytes(head)
