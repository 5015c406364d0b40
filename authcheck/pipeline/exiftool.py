"""ExifTool (Debian ``libimage-exiftool-perl``) as the EXIF reader of the metadata stage.

ExifTool is what verification tools such as InVID use for metadata, and it reads EXIF in every
container (JPEG APP1, PNG ``eXIf``, WebP, TIFF, HEIF, MP4 ...) with decades of fixes for broken
writers, so authcheck does not keep a hand-written TIFF walker. It runs like ffmpeg: under the
sandbox's time and address-space limits, no stdin, no network (ExifTool opens nothing but the
file it is given), ``-fast`` (no scan to the end of the file for trailers), JSON output, and the
file passed as an absolute path so no name is read as an option.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from authcheck.errors import MediaError
from authcheck.jsonsafe import clean_text
from authcheck.pipeline.sandbox import Limits, run_tool

# The EXIF text tags the detectors read, as ExifTool names them (IFD0 and the Exif sub-IFD).
EXIF_TAGS = (
    "ImageDescription",
    "Make",
    "Model",
    "Software",
    "Artist",
    "DateTimeOriginal",
    "UserComment",
    "LensMake",
    "LensModel",
)
EXIF_GROUPS = frozenset({"IFD0", "ExifIFD"})
MAX_VALUE_CHARS = 64 * 1024
DEFAULT_LIMITS = Limits(timeout_seconds=30.0, max_output_bytes=4 * 1024**2)


def available() -> bool:
    """Whether the ``exiftool`` command is installed."""
    return shutil.which("exiftool") is not None


def _args(path: Path) -> list[str]:
    tags = [f"-EXIF:{tag}" for tag in EXIF_TAGS] + ["-GPS:all"]
    # -n: values as stored (no print conversion); -G1: the IFD each tag came from.
    return ["exiftool", "-json", "-n", "-G1", "-a", "-fast", "-charset", "exif=utf8",
            *tags, os.path.abspath(path)]  # fmt: skip


def read_exif(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[list[tuple[str, str]], str]:
    """(key, value) of the EXIF text tags of ``path`` (``GPSInfo: present`` when it has GPS
    data), and a note when ExifTool could not run or read the file. Never raises."""
    if not available():
        return [], "exif: exiftool is not installed"
    try:
        stdout, _ = run_tool(_args(path), limits)
    except MediaError as exc:
        return [], f"exif: {exc.code}"
    except OSError as exc:
        return [], f"exif: exiftool could not run ({type(exc).__name__})"
    return _fields(stdout), ""


def _fields(stdout: bytes) -> list[tuple[str, str]]:
    try:
        rows = json.loads(stdout.decode("utf-8", "replace") or "[]")
    except ValueError:
        return []
    row: dict[str, Any] = rows[0] if isinstance(rows, list) and rows else {}
    out: list[tuple[str, str]] = []
    gps = False
    for name, value in row.items():
        group, _, tag = str(name).partition(":")
        if group == "GPS":
            gps = True
        elif group in EXIF_GROUPS and tag in EXIF_TAGS and isinstance(value, str | int | float):
            text = clean_text(str(value)).strip("\x00 \t\r\n")
            if text:
                out.append((tag, text[:MAX_VALUE_CHARS]))
    if gps:
        out.append(("GPSInfo", "present"))
    return out
