"""Every format c2pa-rs reads is sniffed by its bytes; PDF, JPEG XL and iPhone HEIC are verified;
HEIC is probed, sampled and run through the detectors like a JPEG; what is not examined says why.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import c2pa
import pillow_heif
import pytest
from PIL import Image

from authcheck.errors import UnsupportedMedia
from authcheck.pipeline import frames, hashing, probe
from authcheck.pipeline.probe import DEFAULT_LIMITS
from tests.c2pa_fixtures import manifest, sign
from tests.mediagen import ffmpeg, make_image

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
SAME = "same"  # sniffed as exactly this type

# What each MIME type c2pa-rs reads is sniffed as (aliases map to one canonical type); "refused"
# types have a stated reason. A new SDK format fails the coverage test until it is placed here.
C2PA_MIMES = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/gif": "image/gif",
    "image/tiff": "image/tiff",
    "image/dng": "image/tiff",
    "image/x-adobe-dng": "image/tiff",
    "image/x-nikon-nef": "image/tiff",
    "image/x-sony-arw": "image/tiff",
    "image/webp": "image/webp",
    "image/x-webp": "image/webp",
    "image/heic": "image/heic",
    "image/heif": "image/heic",
    "image/avif": "image/avif",
    "image/jxl": "image/jxl",
    "image/svg+xml": "refused",
    "application/svg+xml": "refused",
    "video/mp4": "video/mp4",
    "video/x-m4v": "video/mp4",
    "application/mp4": "video/mp4",
    "video/quicktime": "video/quicktime",
    "video/x-msvideo": "video/x-msvideo",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "application/x-troff-msvideo": "video/x-msvideo",
    "audio/mp4": "audio/mp4",
    "audio/mpeg": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/wav": "audio/wav",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/flac": "audio/flac",
    "application/pdf": "application/pdf",
    DOCX: DOCX,
    XLSX: XLSX,
    PPTX: PPTX,
    "application/vnd.ms-word.document.macroenabled.12": DOCX,
    "application/vnd.ms-excel.sheet.macroenabled.12": XLSX,
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": PPTX,
    "application/epub+zip": "application/epub+zip",
    "application/oxps": "refused",
    "application/x-zip": "refused",
    ODT: ODT,
    "application/vnd.oasis.opendocument.text-template": SAME,
    "application/vnd.oasis.opendocument.spreadsheet": SAME,
    "application/vnd.oasis.opendocument.spreadsheet-template": SAME,
    "application/vnd.oasis.opendocument.presentation": SAME,
    "application/vnd.oasis.opendocument.presentation-template": SAME,
    "application/vnd.oasis.opendocument.graphics": SAME,
    "application/vnd.oasis.opendocument.graphics-template": SAME,
    "application/c2pa": "refused",
    "application/x-c2pa-manifest-store": "refused",
}  # fmt: skip


def test_every_mime_type_the_sdk_reads_is_placed() -> None:
    # Every OpenDocument type is sniffed as itself (its ``mimetype`` entry).
    sdk = {m for m in c2pa.Reader.get_supported_mime_types() if "/" in m}
    assert sdk == set(C2PA_MIMES)


def _pdf(path: Path) -> Path:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def jpeg_xl(path: Path, tmp: Path) -> Path:
    """A JPEG XL file in the ISO BMFF container (which c2pa signs): signature and ftyp boxes,
    then the libjxl codestream ffmpeg wrote as one ``jxlc`` box."""
    codestream = tmp / "codestream.jxl"
    ffmpeg("-i", str(make_image(tmp / "j.png", fmt="PNG")), "-c:v", "libjxl", str(codestream))
    data = codestream.read_bytes()
    assert data.startswith(b"\xff\x0a")
    signature = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
    ftyp = b"\x00\x00\x00\x14ftypjxl \x00\x00\x00\x00jxl "
    path.write_bytes(signature + ftyp + (8 + len(data)).to_bytes(4, "big") + b"jxlc" + data)
    return path


def iphone_heic(path: Path, size: tuple[int, int] = (96, 64)) -> Path:
    """A HEIC written like an iPhone's (heic/mif1/miaf brands, Apple EXIF). Not a grid-tiled
    capture from a real phone: libheif here writes one HEVC image item."""
    image = make_image(path.with_suffix(".png"), size=size, fmt="PNG")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Apple", "iPhone 15 Pro", "17.1"
    with Image.open(image) as source:
        heif = pillow_heif.from_pillow(source)
        heif.save(path, quality=85, exif=exif.tobytes())
    return path


def _zip(path: Path, entries: dict[str, str]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return path


def test_documents_images_and_zip_containers_are_sniffed_by_their_bytes(tmp_path: Path) -> None:
    jxl = jpeg_xl(tmp_path / "a.jxl", tmp_path)
    cases = {
        tmp_path / "codestream.jxl": ("image/jxl", "image"),
        _pdf(tmp_path / "a"): ("application/pdf", "document"),
        jxl: ("image/jxl", "image"),
        iphone_heic(tmp_path / "b"): ("image/heic", "image"),
        _zip(tmp_path / "c", {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}): (
            DOCX,
            "document",
        ),
        _zip(tmp_path / "d", {"mimetype": ODT, "content.xml": "<x/>"}): (ODT, "document"),
        _zip(tmp_path / "e", {"mimetype": "application/epub+zip"}): (
            "application/epub+zip",
            "document",
        ),
    }
    for path, expected in cases.items():
        sniffed = hashing.sniff(path)
        assert (sniffed.mime, sniffed.kind) == expected, path
    container = b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\x00" * 40
    assert hashing.sniff_bytes(container).mime == "image/jxl"


def test_a_plain_zip_and_svg_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia, match="not an office document or EPUB"):
        hashing.sniff(_zip(tmp_path / "z", {"notes.txt": "hi"}))
    with pytest.raises(UnsupportedMedia, match="script-capable"):
        hashing.sniff_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")


@pytest.mark.parametrize("kind", ["pdf", "jxl", "heic"])
def test_signed_pdf_jxl_and_heic_are_verified_not_unsupported(
    tmp_path: Path, kind: str, db
) -> None:
    from authcheck.services.verify import verify_path

    if kind == "pdf":
        src, mime = _pdf(tmp_path / "src.pdf"), "application/pdf"
    elif kind == "jxl":
        src, mime = jpeg_xl(tmp_path / "src.jxl", tmp_path), "image/jxl"
    else:
        src, mime = iphone_heic(tmp_path / "src.heic"), "image/heic"
    signed = tmp_path / f"signed.{kind}"
    sign(src, signed, mime, manifest(signed.name))
    report = verify_path(signed)
    assert report["mime"] == mime
    assert report["state"] == "valid", report  # the test CA is on no list
    assert report["active_manifest"]["title"] == signed.name


def test_an_iphone_heic_is_probed_and_sampled_like_a_jpeg(tmp_path: Path) -> None:
    path = iphone_heic(tmp_path / "phone.heic", size=(120, 80))
    probed = probe.probe(path, "image")
    assert (probed.container, probed.width, probed.height) == ("heif", 120, 80)
    assert probed.tags["Make"] == "Apple" and probed.tags["Model"] == "iPhone 15 Pro"
    (frame,) = frames.sample_frames(path, "image", probed.to_dict(), limits=DEFAULT_LIMITS)
    assert frame.rgb.shape[:2] == (80, 120)


def test_documents_and_jpeg_xl_say_why_no_detector_runs(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia, match="Content Credentials only"):
        probe.probe(_pdf(tmp_path / "a.pdf"), "document")
    jxl = jpeg_xl(tmp_path / "a.jxl", tmp_path)
    with pytest.raises(UnsupportedMedia, match="no JPEG XL decoder"):
        probe.probe(jxl, "image")
