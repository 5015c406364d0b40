"""The metadata stage: embedded metadata parsed once per media, handed to every detector.

Bounded pure-Python readers; the result (``EmbeddedMetadata``) travels in ``DetectorContext``
and is cached next to the media (``to_dict``/``from_dict``), so the detectors of a fan-out never
re-read the file.

Files are hostile: truncated, with length fields of 0xFFFFFFFF, garbage, or XML bombs. So every
reader here walks structures with explicit size checks against the parent and the file size,
reads through one byte budget per file (``MAX_READ_BYTES``), caps item counts and decompressed
sizes, and never raises: a problem becomes a short note in ``EmbeddedMetadata.notes``.

What is read (only the fields the detectors use):

- EXIF IFD0 and Exif sub-IFD text tags (Make, Model, Software, UserComment, ...) in any
  container, by ExifTool (``pipeline/exiftool.py``): a well-kept reader instead of our own;
- PNG ``tEXt``/``zTXt``/``iTXt`` chunks (including ``XML:com.adobe.xmp``; generator chunks such
  as ``parameters``, ``prompt``, ``workflow``);
- JPEG APP1 XMP segments (up to the first scan), WebP ``XMP `` chunks;
- ID3v2.2/2.3/2.4 ``TXXX`` frames and the ``TSSE`` encoder frame;
- MP4/QuickTime ``moov/udta``, ``moov/meta`` and ``moov/udta/meta`` (``keys`` + ``ilst``, the
  boxes ffmpeg writes with ``-movflags use_metadata_tags``), QuickTime ``(c)xyz`` user data, XMP in
  ``udta/XMP_`` and the top-level XMP ``uuid`` box;
- a raw scan of the first ``HEAD_BYTES`` and last ``TAIL_BYTES`` for XMP packets (any container)
  and for encoder settings strings left in the bitstream (x264/x265 SEI, HandBrake).

XMP is parsed with ``xml.etree`` only when the packet has no DTD: a ``<!DOCTYPE``/``<!ENTITY``
packet (the billion-laughs shape) is read with a regex that never expands entities.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

from authcheck.pipeline import exiftool
from authcheck.pipeline.sandbox import Limits

MAX_READ_BYTES = 16 * 1024 * 1024  # total bytes read per file, all readers together
MAX_FIELD_BYTES = 1024 * 1024  # one text chunk, XMP packet, ID3 tag or udta box
MAX_ITEMS = 4096  # chunks, segments, boxes or frames walked per structure
MAX_FIELDS = 256
MAX_VALUE_CHARS = 64 * 1024  # a value is kept up to this length (ComfyUI workflows are long)
HEAD_BYTES = 4 * 1024 * 1024
TAIL_BYTES = 1024 * 1024

# The XMP properties the detectors look at, by local name (namespace prefixes vary by writer).
# ``provenance`` is dcterms:provenance, where C2PA puts a remote manifest's URL.
XMP_KEYS = frozenset(
    {"DigitalSourceType", "AIGC", "CreatorTool", "Software", "Make", "Model", "provenance"}
)
# Classic iTunes/QuickTime atom names -> the key ffprobe reports for them.
MP4_ATOMS = {
    b"\xa9too": "encoder",
    b"\xa9mak": "make",
    b"\xa9mod": "model",
    b"\xa9swr": "software",
    b"\xa9cmt": "comment",
    b"\xa9xyz": "location",
}
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
_DTD = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODER_MARKERS = (b"x264 - core ", b"x265 (build ", b"HandBrake ")
_PRINTABLE_RUN = re.compile(rb"[ -~]{1,400}")


class _Stop(Exception):
    """A structure ended early (truncated, out of range, budget spent): stop that reader."""


@dataclass(frozen=True)
class MetaField:
    """One embedded metadata value: where it was found, its key and its (truncated) text."""

    source: str  # png_text, exif, xmp, id3_txxx, id3, mp4_keys, mp4_udta, bitstream
    key: str
    value: str


@dataclass(frozen=True)
class EmbeddedMetadata:
    """What the readers found in one file, plus notes on anything malformed or skipped."""

    container: str
    fields: tuple[MetaField, ...] = ()
    notes: tuple[str, ...] = ()
    readable: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (for the per-media cache)."""
        return {
            "container": self.container,
            "fields": [[f.source, f.key, f.value] for f in self.fields],
            "notes": list(self.notes),
            "readable": self.readable,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddedMetadata:
        """The inverse of ``to_dict``."""
        return cls(
            container=str(data["container"]),
            fields=tuple(MetaField(str(s), str(k), str(v)) for s, k, v in data["fields"]),
            notes=tuple(str(n) for n in data["notes"]),
            readable=bool(data["readable"]),
        )

    def values(self, key: str, sources: frozenset[str] | None = None) -> list[str]:
        """Values whose key equals ``key`` (case-insensitive), optionally from given sources."""
        want = key.lower()
        return [
            f.value
            for f in self.fields
            if f.key.lower() == want and (sources is None or f.source in sources)
        ]


NOT_READ = EmbeddedMetadata("unknown", readable=False)


class _Reader:
    """Reads ranges of one open file through a shared byte budget and collects fields."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = size
        self.budget = MAX_READ_BYTES
        self.fields: list[MetaField] = []
        self.notes: list[str] = []

    def read_at(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (fewer at end of file); _Stop if out of range/budget."""
        if offset < 0 or n < 0 or offset > self.size:
            raise _Stop(f"offset {offset} outside the file")
        n = min(n, self.size - offset)
        if n > self.budget:
            raise _Stop("read budget exhausted")
        self.budget -= n
        self.f.seek(offset)
        return self.f.read(n)

    def add(self, source: str, key: str, value: str) -> None:
        """Record a field (stripped, truncated); silently stop after MAX_FIELDS."""
        value = value.strip("\x00 \t\r\n")
        if key and value and len(self.fields) < MAX_FIELDS:
            self.fields.append(MetaField(source, key[:200], value[:MAX_VALUE_CHARS]))

    def note(self, text: str) -> None:
        """Record a problem (bounded number of notes)."""
        if len(self.notes) < 20:
            self.notes.append(text[:200])


# Containers whose EXIF nobody reads (and the bounded reader never did): skip ExifTool's ~0.2 s.
NO_EXIF_CONTAINERS = frozenset({"mp4", "id3", "matroska"})


def read(path: Path, limits: Limits = exiftool.DEFAULT_LIMITS) -> EmbeddedMetadata:
    """The metadata stage: EXIF by ExifTool, then everything ``read_embedded`` finds (TC260
    ``AIGC`` labels, XMP, PNG text, ID3, MP4 keys/udta, encoder strings). Never raises."""
    found = read_embedded(path)
    if not found.readable or found.container in NO_EXIF_CONTAINERS:
        return found
    exif, note = exiftool.read_exif(path, limits)
    fields = tuple(MetaField("exif", key, value) for key, value in exif)[:MAX_FIELDS]
    notes = (*found.notes, note) if note else found.notes
    unique = tuple(dict.fromkeys(fields + found.fields))[:MAX_FIELDS]
    return EmbeddedMetadata(found.container, unique, notes)


def read_embedded(path: Path) -> EmbeddedMetadata:
    """What the bounded pure-Python readers find in ``path`` (everything but EXIF); never raises
    (problems become ``notes``)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            reader = _Reader(f, f.tell())
            container = _sniff(reader.read_at(0, 16))
            _run(reader, _STRUCTURED.get(container), container)
            _run(reader, _scan_raw, "raw")
    except OSError as exc:
        return EmbeddedMetadata(
            "unknown", notes=(f"unreadable: {exc.strerror or type(exc).__name__}",), readable=False
        )
    unique = tuple(dict.fromkeys(reader.fields))  # XMP found twice (segment + raw scan) once
    return EmbeddedMetadata(container, unique, tuple(reader.notes))


def _run(reader: _Reader, walker: Callable[[_Reader], None] | None, label: str) -> None:
    if walker is None:
        return
    try:
        walker(reader)
    except _Stop as exc:
        reader.note(f"{label}: {exc}")
    except (ValueError, LookupError, struct.error, zlib.error, RecursionError) as exc:
        # Hostile bytes the size checks did not anticipate: note them, keep what was found.
        reader.note(f"{label}: malformed ({type(exc).__name__})")


def _sniff(head: bytes) -> str:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"ID3"):
        return "id3"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: ffprobe reads Matroska tags well
        return "matroska"
    if head[4:8] in {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"uuid"}:
        return "mp4"
    return "unknown"


def truncate(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --- PNG ---------------------------------------------------------------------------------------


def _walk_png(r: _Reader) -> None:
    pos = 8
    for _ in range(MAX_ITEMS):
        head = r.read_at(pos, 8)
        if len(head) < 8:
            raise _Stop("truncated chunk header")
        length, ctype = struct.unpack(">I4s", head)
        if pos + 12 + length > r.size:
            raise _Stop(f"chunk {ctype!r} length {length} runs past the end of the file")
        if ctype in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
            if length > MAX_FIELD_BYTES:
                r.note(f"png: {ctype.decode('latin-1')} chunk of {length} bytes skipped")
            else:
                _png_chunk(r, ctype, r.read_at(pos + 8, length))
        if ctype == b"IEND":
            return
        pos += 12 + length
    r.note("png: too many chunks")


def _png_chunk(r: _Reader, ctype: bytes, data: bytes) -> None:
    if ctype == b"eXIf":
        return  # EXIF is ExifTool's (pipeline/exiftool.py)
    key, _, rest = data.partition(b"\x00")
    keyword = key.decode("latin-1")
    if ctype == b"tEXt":
        text = rest.decode("latin-1")
    elif ctype == b"zTXt":
        text = _inflate(r, rest[1:]).decode("latin-1")
    else:  # iTXt: flag, method, language\0, translated keyword\0, UTF-8 text
        compressed, rest = rest[:1] == b"\x01", rest[2:]
        _, _, rest = rest.partition(b"\x00")
        _, _, rest = rest.partition(b"\x00")
        raw = _inflate(r, rest) if compressed else rest
        if keyword == "XML:com.adobe.xmp":
            _add_xmp(r, raw)
            return
        text = raw.decode("utf-8", "replace")
    r.add("png_text", keyword, text)


def _inflate(r: _Reader, data: bytes) -> bytes:
    # max_length bounds the output: a zlib bomb yields at most MAX_FIELD_BYTES.
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_FIELD_BYTES)
    if inflater.unconsumed_tail:
        r.note("png: compressed text truncated at the size cap")
    return out


# --- JPEG and WebP -----------------------------------------------------------------------------


def _walk_jpeg(r: _Reader) -> None:
    pos = 2
    for _ in range(MAX_ITEMS):
        head = r.read_at(pos, 4)
        if len(head) < 4 or head[0] != 0xFF:
            raise _Stop("segment marker expected")
        marker = head[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: metadata comes before
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", head[2:4])
        if length < 2:
            raise _Stop("segment length below 2")
        if marker == 0xE1:
            _jpeg_app1(r, r.read_at(pos + 4, length - 2))
        pos += 2 + length
    r.note("jpeg: too many segments")


def _jpeg_app1(r: _Reader, data: bytes) -> None:
    # EXIF (APP1 "Exif\0\0") is ExifTool's (pipeline/exiftool.py); XMP is read here.
    if data.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
        _add_xmp(r, data[29:])


def _walk_webp(r: _Reader) -> None:
    pos = 12
    for _ in range(MAX_ITEMS):
        head = r.read_at(pos, 8)
        if len(head) < 8:
            return
        fourcc, length = head[:4], struct.unpack("<I", head[4:])[0]
        if pos + 8 + length > r.size:
            raise _Stop(f"chunk {fourcc!r} length {length} runs past the end of the file")
        if fourcc == b"XMP " and length <= MAX_FIELD_BYTES:  # EXIF: see pipeline/exiftool.py
            _add_xmp(r, r.read_at(pos + 8, length))
        pos += 8 + length + (length & 1)
    r.note("webp: too many chunks")


# --- XMP ---------------------------------------------------------------------------------------


def parse_xmp(packet: bytes) -> list[tuple[str, str]]:
    """(local name, value) of the ``XMP_KEYS`` properties of one packet; entities never expanded."""
    # Decoding first means the DTD check sees what the parser sees (no UTF-16 smuggling): a
    # str is handed to expat as-is, whatever the packet's encoding declaration says.
    text = packet[:MAX_FIELD_BYTES].decode("utf-8", "replace")
    if _DTD.search(text):
        return _xmp_by_regex(text)
    try:
        # No DTD means no entity can be declared, so nothing can expand; undefined entities
        # are a parse error and fall back to the regex reader.
        root = ElementTree.fromstring(text)  # noqa: S314
    except ElementTree.ParseError:
        return _xmp_by_regex(text)
    out: list[tuple[str, str]] = []
    for element in root.iter():
        local = _local(element.tag)
        if local == "AIGC" and len(element):  # the label written as an XMP struct, not JSON
            out.append((local, _struct_json(element)))
        elif local in XMP_KEYS and element.text and element.text.strip():
            out.append((local, element.text.strip()))
        for name, value in element.attrib.items():
            attr = _local(name)
            if attr in XMP_KEYS:
                out.append((attr, value))
            elif local in XMP_KEYS and attr == "resource":
                out.append((local, value))
    return out[:MAX_FIELDS]


def _struct_json(element: ElementTree.Element) -> str:
    # rdf:parseType="Resource" puts the fields directly under the property; rdf:Description
    # nests them one level deeper. Either way: {local name: text} of the leaves.
    leaves = {_local(e.tag): (e.text or "").strip() for e in element.iter() if not len(e)}
    leaves.update({_local(k): v for e in element.iter() for k, v in e.attrib.items()})
    return json.dumps({k: v for k, v in leaves.items() if k not in ("parseType", "about")})


def _local(name: object) -> str:
    text = name if isinstance(name, str) else ""
    return text.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


_KEYS_RE = "|".join(sorted(XMP_KEYS))
_XMP_ATTR = re.compile(rf"[\s<](?:[\w.-]+:)?({_KEYS_RE})\s*=\s*(?:\"([^\"<]*)\"|'([^'<]*)')")
_XMP_ELEMENT = re.compile(rf"<(?:[\w.-]+:)?({_KEYS_RE})(?:\s[^<>]*)?>([^<]*)<")


def _xmp_by_regex(text: str) -> list[tuple[str, str]]:
    # Entities other than the five predefined ones stay literal text ("&lol9;"): never expanded.
    found = [(m[1], m[2] or m[3] or "") for m in _XMP_ATTR.finditer(text)]
    found += [(m[1], m[2]) for m in _XMP_ELEMENT.finditer(text)]
    entities = {"&quot;": '"', "&apos;": "'"}
    return [(k, unescape(v, entities).strip()) for k, v in found[:MAX_FIELDS] if v.strip()]


def _add_xmp(r: _Reader, packet: bytes) -> None:
    if _DTD.search(packet[:MAX_FIELD_BYTES].decode("utf-8", "replace")):
        r.note("xmp: packet declares a DTD; read without entity expansion")
    for key, value in parse_xmp(packet):
        r.add("xmp", key, value)


# --- ID3v2 -------------------------------------------------------------------------------------


def _syncsafe(raw: bytes) -> int:
    return (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | (raw[3] & 0x7F)


def _walk_id3(r: _Reader) -> None:
    head = r.read_at(0, 10)
    if len(head) < 10 or head[3] not in (2, 3, 4):
        raise _Stop("truncated or unsupported ID3v2 header")
    major, flags, size = head[3], head[5], _syncsafe(head[6:10])
    tag = r.read_at(10, min(size, MAX_FIELD_BYTES))
    if flags & 0x80 and major < 4:  # whole-tag unsynchronisation (v2.2/2.3)
        tag = tag.replace(b"\xff\x00", b"\xff")
    pos = 0
    if flags & 0x40 and major == 3:
        pos = 4 + struct.unpack(">I", tag[:4])[0]
    elif flags & 0x40 and major == 4:
        pos = _syncsafe(tag[:4])
    for frame_id, data in _id3_frames(tag, pos, major):
        if frame_id in ("TXXX", "TXX"):
            description, value = _id3_txxx(data)
            r.add("id3_txxx", description, value)
        elif frame_id in ("TSSE", "TSS"):
            r.add("id3", "TSSE", _id3_decode(data[:1], data[1:]))


def _id3_frames(tag: bytes, pos: int, major: int) -> Iterator[tuple[str, bytes]]:
    id_len, head_len = (3, 6) if major == 2 else (4, 10)
    for _ in range(MAX_ITEMS):
        if pos + head_len > len(tag) or tag[pos : pos + 1] == b"\x00":
            return  # end of tag or padding
        frame_id = tag[pos : pos + id_len].decode("latin-1")
        raw_size = tag[pos + id_len : pos + id_len + (3 if major == 2 else 4)]
        size = _syncsafe(raw_size) if major == 4 else int.from_bytes(raw_size, "big")
        data = tag[pos + head_len : pos + head_len + size]
        if major == 4:
            format_flags = tag[pos + 9]
            if format_flags & 0x0C:  # compressed or encrypted frame: skip it
                data = b""
            if format_flags & 0x01:
                data = data[4:]
            if format_flags & 0x02:
                data = data.replace(b"\xff\x00", b"\xff")
        yield frame_id, data
        pos += head_len + size


def _id3_decode(encoding: bytes, raw: bytes) -> str:
    codec = {b"\x00": "latin-1", b"\x01": "utf-16", b"\x02": "utf-16-be"}.get(encoding, "utf-8")
    return raw.decode(codec, "replace").strip("\x00")


def _id3_txxx(data: bytes) -> tuple[str, str]:
    encoding, body = data[:1], data[1:]
    if encoding in (b"\x01", b"\x02"):  # UTF-16: the terminator is an aligned double NUL
        cut = next((i for i in range(0, len(body) - 1, 2) if body[i : i + 2] == b"\x00\x00"), -1)
        desc, value = (body[:cut], body[cut + 2 :]) if cut >= 0 else (body, b"")
    else:
        desc, _, value = body.partition(b"\x00")
    return _id3_decode(encoding, desc), _id3_decode(encoding, value)


# --- MP4 / QuickTime ---------------------------------------------------------------------------


def _file_boxes(r: _Reader, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    pos = start
    for _ in range(MAX_ITEMS):
        if pos + 8 > end:
            return
        size, btype = struct.unpack(">I4s", r.read_at(pos, 8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", r.read_at(pos + 8, 8))[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise _Stop(f"box {btype!r} size {size} exceeds its parent")
        yield btype, pos + header, pos + size
        pos += size


def _mem_boxes(buf: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    pos = start
    for _ in range(MAX_ITEMS):
        if pos + 8 > end:
            return
        size, btype = struct.unpack(">I4s", buf[pos : pos + 8])
        if size < 8 or pos + size > end:
            return
        yield btype, pos + 8, pos + size
        pos += size


def _walk_mp4(r: _Reader) -> None:
    for btype, start, end in _file_boxes(r, 0, r.size):
        if btype == b"moov":
            for child, c_start, c_end in _file_boxes(r, start, end):
                if child in (b"udta", b"meta"):
                    _mp4_user_box(r, child, c_start, c_end)
        elif btype == b"uuid" and end - start <= MAX_FIELD_BYTES:
            data = r.read_at(start, end - start)
            if data[:16] == XMP_UUID:
                _add_xmp(r, data[16:])


def _mp4_user_box(r: _Reader, btype: bytes, start: int, end: int) -> None:
    if end - start > MAX_FIELD_BYTES:
        r.note(f"mp4: {btype.decode('latin-1')} box of {end - start} bytes skipped")
        return
    buf = r.read_at(start, end - start)
    if btype == b"meta":
        _mp4_meta(r, buf, 0, len(buf))
        return
    for child, c_start, c_end in _mem_boxes(buf, 0, len(buf)):
        if child == b"meta":
            _mp4_meta(r, buf, c_start, c_end)
        elif child == b"XMP_":
            _add_xmp(r, buf[c_start:c_end])
        elif child in MP4_ATOMS and c_end - c_start > 4:
            # QuickTime user data text: 2-byte length, 2-byte language, then the text.
            (length,) = struct.unpack(">H", buf[c_start : c_start + 2])
            text = buf[c_start + 4 : min(c_end, c_start + 4 + length)]
            r.add("mp4_udta", MP4_ATOMS[child], text.decode("utf-8", "replace"))


def _mp4_meta(r: _Reader, buf: bytes, start: int, end: int) -> None:
    if buf[start + 4 : start + 8] != b"hdlr":  # ISO full box: skip version and flags
        start += 4
    keys: list[str] = []
    for btype, b_start, b_end in _mem_boxes(buf, start, end):
        if btype == b"keys":
            keys = [k for _, k in _mp4_keys(buf, b_start + 8, b_end)]
        elif btype == b"ilst":
            for item, i_start, i_end in _mem_boxes(buf, b_start, b_end):
                key = _mp4_item_key(item, keys)
                value = _mp4_item_value(buf, i_start, i_end)
                if key and value is not None:
                    r.add("mp4_keys", key, value)


def _mp4_keys(buf: bytes, start: int, end: int) -> Iterator[tuple[bytes, str]]:
    for namespace, k_start, k_end in _mem_boxes(buf, start, end):
        yield namespace, buf[k_start:k_end].decode("utf-8", "replace")


def _mp4_item_key(item: bytes, keys: list[str]) -> str:
    if item in MP4_ATOMS:
        return MP4_ATOMS[item]
    index = int.from_bytes(item, "big")
    return keys[index - 1] if 0 < index <= len(keys) else ""


def _mp4_item_value(buf: bytes, start: int, end: int) -> str | None:
    for btype, d_start, d_end in _mem_boxes(buf, start, end):
        if btype == b"data" and d_end - d_start >= 8:
            (type_code,) = struct.unpack(">I", buf[d_start : d_start + 4])
            if type_code in (1, 4):  # UTF-8 / UTF-8 sort: skip images and integers
                return buf[d_start + 8 : d_end].decode("utf-8", "replace")
    return None


# --- raw scan ----------------------------------------------------------------------------------


def _scan_raw(r: _Reader) -> None:
    head = r.read_at(0, HEAD_BYTES)
    tail_start = max(len(head), r.size - TAIL_BYTES)
    for chunk in (head, r.read_at(tail_start, r.size - tail_start)):
        for packet in _xmp_packets(chunk):
            _add_xmp(r, packet)
    for marker in _ENCODER_MARKERS:
        # bytes.find is fast over megabytes; a regex alternation over the head is not.
        at = head.find(marker)
        if at >= 0:
            run = _PRINTABLE_RUN.match(head, at)
            r.add("bitstream", "encoder_settings", run[0].decode("latin-1") if run else "")


def _xmp_packets(data: bytes) -> Iterator[bytes]:
    # Bounded search: at most 8 candidate starts, each closing tag looked for within 1 MiB.
    pos = 0
    for _ in range(8):
        start = data.find(b"<x:xmpmeta", pos)
        if start < 0:
            return
        end = data.find(b"</x:xmpmeta>", start, start + MAX_FIELD_BYTES)
        if end < 0:
            pos = start + 10
            continue
        yield data[start : end + 12]
        pos = end + 12


_STRUCTURED = {
    "png": _walk_png,
    "jpeg": _walk_jpeg,
    "webp": _walk_webp,
    "id3": _walk_id3,
    "mp4": _walk_mp4,
}
