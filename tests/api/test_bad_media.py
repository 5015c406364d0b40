"""Media that passes the magic-byte sniff but is broken ends as an ``error`` verdict with a stable
code: never a 500, a traceback, or a check stuck in ``running``."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest

from authcheck.models import Check, CheckStatus
from authcheck.services import processing
from tests.mediagen import make_image, make_video

pytestmark = pytest.mark.django_db


def _png_bomb(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A valid PNG header claiming 400 megapixels over a tiny compressed body (a few hundred KB
    would decompress to 1.2 GB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * (width * 3 + 1) * 64, 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path


def _truncated(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _jpeg_header_then_noise(path: Path) -> Path:
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64)
    return path


CASES = {
    "png_decompression_bomb": (_png_bomb, {"media_too_large", "media_malformed"}),
    "truncated_jpeg": (
        lambda p: _truncated(make_image(p.with_suffix(".jpg"), size=(640, 480), fmt="JPEG"), 0.3),
        {"media_malformed"},
    ),
    "jpeg_magic_then_noise": (_jpeg_header_then_noise, {"media_malformed"}),
    "truncated_mp4": (
        lambda p: _truncated(make_video(p.with_suffix(".mp4"), seconds=2), 0.4),
        # The moov atom is written last, so ffprobe cannot even tell the container apart.
        {"media_malformed", "unsupported_media"},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_media_ends_as_an_error_verdict_with_its_code(
    jo, case, enqueued, committed, tmp_path
) -> None:
    build, codes = CASES[case]
    path = build(tmp_path / case)
    handle = io.BytesIO(path.read_bytes())
    handle.name = f"{case}.bin"
    with committed(execute=True):
        response = jo.post("/api/v1/checks", {"file": handle}, format="multipart")
    assert response.status_code == 202, response.content
    check_id = response.json()["id"]
    assert processing.check_process(check_id) in {"done", "failed"}
    body = jo.get(f"/api/v1/checks/{check_id}").json()
    check = Check.objects.get(pk=check_id)
    assert check.status in {CheckStatus.DONE, CheckStatus.FAILED}
    assert body["verdict"]["label"] == "error", body["verdict"]
    assert body["error"]["code"] in codes, body["error"]
    assert "Traceback" not in response.content.decode() + str(body)
