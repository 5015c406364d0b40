"""Bounded metadata readers: they find the fields real tools write, and survive hostile files."""

from __future__ import annotations

import json
import struct
import tempfile
import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from authcheck.pipeline.metadata import (
    MAX_FIELD_BYTES,
    EmbeddedMetadata,
    parse_xmp,
    read,
    read_embedded,
)
from tests.mediagen import ffmpeg, make_video

KLING = '{"Label":"1","ContentProducer":"kling","ProduceID":"KLingMuse_123"}'
DST = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
XMP_DST = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
    f'Iptc4xmpExt:DigitalSourceType="{DST}"/></rdf:RDF></x:xmpmeta>'
).encode()
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE x:xmpmeta [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
    b"<Iptc4xmpExt:DigitalSourceType>&lol9;</Iptc4xmpExt:DigitalSourceType>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def _png_chunk(ctype: bytes, data: bytes, length: int | None = None) -> bytes:
    size = len(data) if length is None else length
    crc = zlib.crc32(ctype + data).to_bytes(4, "big")
    return struct.pack(">I", size) + ctype + data + crc


def _tiny_png(tmp_path: Path) -> bytes:
    Image.new("RGB", (4, 4)).save(tmp_path / "tiny.png")
    return (tmp_path / "tiny.png").read_bytes()


def test_it_reads_the_aigc_key_ffmpeg_writes_into_mp4_udta_meta(tmp_path: Path) -> None:
    path = make_video(
        tmp_path / "a.mp4",
        seconds=0.5,
        metadata={"AIGC": KLING},
        extra=("-movflags", "use_metadata_tags"),
    )
    meta = read_embedded(path)
    assert meta.container == "mp4"
    assert meta.values("AIGC", frozenset({"mp4_keys"})) == [KLING]
    assert meta.values("encoder")[0].startswith("Lavf")
    assert meta.values("encoder_settings")[0].startswith("x264 - core")


def test_it_reads_id3_txxx_frames_ffmpeg_writes_for_unknown_mp3_keys(tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=0.5", "-metadata", f"AIGC={KLING}", str(path))
    meta = read_embedded(path)
    assert meta.container == "id3"
    assert meta.values("AIGC", frozenset({"id3_txxx"})) == [KLING]


def test_it_reads_a_utf16_txxx_frame_of_id3v23(tmp_path: Path) -> None:
    body = b"\x01" + "AIGC".encode("utf-16") + b"\x00\x00" + KLING.encode("utf-16")
    frame = b"TXXX" + struct.pack(">I", len(body)) + b"\x00\x00" + body
    tag = b"ID3\x03\x00\x00" + bytes([0, 0, (len(frame) >> 7) & 0x7F, len(frame) & 0x7F])
    path = tmp_path / "u.mp3"
    path.write_bytes(tag + frame + b"\xff\xfb" + b"\x00" * 100)
    assert read_embedded(path).values("AIGC") == [KLING]


def test_it_reads_png_text_ztxt_and_itxt_chunks(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat\nSteps: 20, Sampler: Euler a, Seed: 1")
    info.add_text("Software", "NovelAI", zip=True)
    info.add_itxt("prompt", '{"3": {"class_type": "KSampler"}}', zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP_DST.decode())
    path = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    meta = read_embedded(path)
    assert meta.values("parameters", frozenset({"png_text"}))[0].startswith("a cat")
    assert meta.values("Software") == ["NovelAI"]
    assert meta.values("prompt") == ['{"3": {"class_type": "KSampler"}}']
    assert meta.values("DigitalSourceType", frozenset({"xmp"})) == [DST]


def test_it_reads_jpeg_app1_xmp_and_exif(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0131], exif[0x010F], exif[0x0110] = "Midjourney", "Canon", "EOS R5"
    exif.get_ifd(0x8769)[0x9003] = "2024:01:01 10:00:00"
    path = tmp_path / "a.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=exif, xmp=XMP_DST)
    meta = read(path)  # the stage: EXIF by ExifTool, XMP by the bounded reader
    assert meta.container == "jpeg"
    assert meta.values("Software", frozenset({"exif"})) == ["Midjourney"]
    assert meta.values("Make") == ["Canon"] and meta.values("Model") == ["EOS R5"]
    assert meta.values("DateTimeOriginal") == ["2024:01:01 10:00:00"]
    assert meta.values("DigitalSourceType") == [DST]  # found twice (APP1, raw scan), kept once


def test_it_reads_webp_exif_and_xmp_chunks(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0131] = "DALL-E 3"
    path = tmp_path / "a.webp"
    Image.new("RGB", (8, 8)).save(path, exif=exif, xmp=XMP_DST)
    meta = read(path)
    assert meta.container == "webp"
    assert meta.values("Software") == ["DALL-E 3"]
    assert meta.values("DigitalSourceType") == [DST]


def test_it_stops_at_a_png_chunk_whose_length_runs_past_the_end(tmp_path: Path) -> None:
    png = _tiny_png(tmp_path)
    head = png[:33]  # signature + IHDR
    good = _png_chunk(b"tEXt", b"parameters\x00Steps: 1, Sampler: x")
    bad = _png_chunk(b"tEXt", b"k\x00v", length=0xFFFFFFF0)
    path = tmp_path / "bad.png"
    path.write_bytes(head + good + bad)
    meta = read_embedded(path)
    assert meta.values("parameters") == ["Steps: 1, Sampler: x"]
    assert any("runs past the end" in note for note in meta.notes)


def test_it_caps_a_compressed_text_chunk_that_inflates_to_50_mb(tmp_path: Path) -> None:
    png = _tiny_png(tmp_path)
    bomb = zlib.compress(b"A" * (50 * 1024 * 1024), 9)
    chunk = _png_chunk(b"zTXt", b"Comment\x00\x00" + bomb)
    path = tmp_path / "bomb.png"
    path.write_bytes(png[:33] + chunk + png[33:])
    meta = read_embedded(path)
    (value,) = meta.values("Comment")
    assert len(value) <= MAX_FIELD_BYTES
    assert any("truncated at the size cap" in note for note in meta.notes)


def test_it_never_expands_entities_of_an_xmp_packet_with_a_dtd(tmp_path: Path) -> None:
    assert parse_xmp(BILLION_LAUGHS) == [("DigitalSourceType", "&lol9;")]
    path = tmp_path / "laughs.jpg"
    Image.new("RGB", (8, 8)).save(path, xmp=BILLION_LAUGHS)
    meta = read_embedded(path)
    assert meta.values("DigitalSourceType") == ["&lol9;"]
    assert any("declares a DTD" in note for note in meta.notes)


def test_it_reads_an_escaped_tc260_json_attribute_from_xmp() -> None:
    escaped = KLING.replace('"', "&quot;")
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" TC260:AIGC="{escaped}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()
    assert parse_xmp(packet) == [("AIGC", KLING)]
    # An undefined entity makes the XML parser fail: the regex reader still finds the field.
    assert parse_xmp(packet.replace(b"/>", b' x="&undefined;"/>')) == [("AIGC", KLING)]


def _jpeg_with_app1_exif(path: Path, tiff: bytes) -> Path:
    """A valid JPEG whose APP1 EXIF segment holds ``tiff`` (however broken)."""
    Image.new("RGB", (8, 8)).save(path)
    data = path.read_bytes()
    segment = b"Exif\x00\x00" + tiff
    path.write_bytes(
        data[:2] + b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + data[2:]
    )
    return path


def test_exif_offsets_outside_the_block_are_ignored(tmp_path: Path) -> None:
    entry = struct.pack("<HHI4s", 0x0131, 2, 40, struct.pack("<I", 0x7FFFFFFF))
    tiff = b"II" + struct.pack("<HI", 42, 8) + struct.pack("<H", 0xFFFF) + entry
    for name, block in [
        ("far", tiff),
        ("short", b"MM\x00\x2a\xff\xff\xff\xff"),
        ("junk", b"garbage"),
    ]:
        meta = read(_jpeg_with_app1_exif(tmp_path / f"{name}.jpg", block))
        assert meta.readable and meta.values("Software", frozenset({"exif"})) == []


def test_a_missing_file_is_reported_unreadable(tmp_path: Path) -> None:
    meta = read_embedded(tmp_path / "nope.jpg")
    assert meta == EmbeddedMetadata("unknown", notes=meta.notes, readable=False)
    assert meta.notes[0].startswith("unreadable")


MAGICS = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"ID3\x04\x00\x40",
    b"\x00\x00\x00\x18ftypisom",
    b"\xff\xff\xff\xffmoov",
    b"",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MAGICS), st.binary(max_size=3000))
def test_random_bytes_behind_any_magic_never_raise(magic: bytes, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x"
        path.write_bytes(magic + body)
        meta = read_embedded(path)
    assert meta.readable and len(meta.fields) <= 256


def test_every_truncation_and_size_field_mutation_of_real_files_is_survived(
    tmp_path: Path,
) -> None:
    mp4 = make_video(
        tmp_path / "a.mp4",
        seconds=0.3,
        metadata={"AIGC": KLING},
        extra=("-movflags", "use_metadata_tags"),
    )
    jpeg = tmp_path / "a.jpg"
    Image.new("RGB", (8, 8)).save(jpeg, xmp=XMP_DST, exif=Image.Exif())
    for source in (mp4, jpeg):
        data = source.read_bytes()
        for cut in range(0, len(data), max(1, len(data) // 400)):
            mutated = bytearray(data)
            mutated[cut : cut + 4] = b"\xff\xff\xff\xff"
            for variant in (data[:cut], bytes(mutated)):
                (tmp_path / "m").write_bytes(variant)
                assert read_embedded(tmp_path / "m").readable


def test_it_turns_a_tc260_xmp_struct_into_the_json_label() -> None:
    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC rdf:parseType="Resource">'
        b"<TC260:Label>1</TC260:Label><TC260:ContentProducer>kling</TC260:ContentProducer>"
        b"</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    ((key, value),) = parse_xmp(packet)
    assert key == "AIGC" and json.loads(value) == {"Label": "1", "ContentProducer": "kling"}


def test_the_stage_reads_exif_with_exiftool_and_survives_hostile_exif_blocks(
    tmp_path: Path,
) -> None:
    exif = Image.Exif()
    exif[0x0131] = "Midjourney"
    exif.get_ifd(0x8825)[1] = "N"  # any GPS tag: reported as GPSInfo present
    good = tmp_path / "gps.jpg"
    Image.new("RGB", (8, 8)).save(good, exif=exif)
    meta = read(good)
    assert meta.values("Software", frozenset({"exif"})) == ["Midjourney"]
    assert meta.values("GPSInfo") == ["present"]
    blocks = [b"II*\x00" + b"\xff" * 64, b"MM\x00*\x00\x00\x00\x08" + b"\x00\xff" * 40, b""]
    for i, block in enumerate(blocks):
        hostile = read(_jpeg_with_app1_exif(tmp_path / f"h{i}.jpg", block))
        assert hostile.readable and not hostile.values("Software", frozenset({"exif"}))


def test_a_video_container_is_not_handed_to_exiftool(tmp_path: Path, monkeypatch) -> None:
    from authcheck.pipeline import exiftool

    calls: list[Path] = []
    monkeypatch.setattr(exiftool, "read_exif", lambda path, limits: calls.append(path) or ([], ""))
    read(make_video(tmp_path / "v.mp4", seconds=0.2))
    assert calls == []
