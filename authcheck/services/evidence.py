"""Click-time evidence from the browser extension: validated, size-limited, stored with hashes.

When a journalist checks media from a page, the extension may send what the page showed at
that moment: a screenshot of the visible tab and the media element's details (``currentSrc``,
poster, dimensions, current time). Pages change and disappear; this bundle is what the
journalist saw. The screenshot is stored content-addressed under its SHA-256 (never under a
client-chosen name); the bundle records that digest and a SHA-256 of its own canonical JSON,
and both go into the submission's audit event, so a later edit of either is detectable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from PIL import Image

from authcheck.errors import AuthcheckError
from authcheck.jsonsafe import json_safe
from authcheck.pipeline import hashing

SCREENSHOT_MIMES = frozenset({"image/png", "image/jpeg"})
_DATA_URL = re.compile(r"data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=\s]+)", re.ASCII)


@dataclass(frozen=True)
class Prepared:
    """A validated bundle before storage: element details and the decoded screenshot."""

    details: dict[str, Any]
    screenshot: bytes | None
    screenshot_mime: str
    screenshot_size: tuple[int, int] | None


def _invalid(message: str, code: str = "evidence_invalid", status: int = 422) -> AuthcheckError:
    return AuthcheckError(message, code=code, status=status)


def _decode_screenshot(data_url: str) -> tuple[bytes, str]:
    """Bytes and declared type of a ``data:image/png|jpeg;base64,...`` URL, within the cap."""
    limit = settings.AUTHCHECK_EVIDENCE_MAX_BYTES
    if len(data_url) > limit * 4 // 3 + 100:
        raise _invalid(f"the screenshot is larger than {limit} bytes", "evidence_too_large", 413)
    match = _DATA_URL.fullmatch(data_url)
    if match is None:
        raise _invalid("the screenshot must be a base64 data: URL of a PNG or JPEG image")
    try:
        raw = base64.b64decode(re.sub(r"\s", "", match.group(2)), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid("the screenshot is not valid base64") from exc
    if len(raw) > limit:
        raise _invalid(f"the screenshot is larger than {limit} bytes", "evidence_too_large", 413)
    return raw, match.group(1)


def _image_size(raw: bytes, declared: str) -> tuple[int, int]:
    """Width and height of a PNG/JPEG whose magic bytes match ``declared``; refuse anything else.

    Only the header is read (no decode), and the pixel count is capped like any other image.
    """
    try:
        sniffed = hashing.sniff_bytes(raw[:512])
    except AuthcheckError as exc:
        raise _invalid("the screenshot is not a PNG or JPEG image") from exc
    if sniffed.mime != declared or sniffed.mime not in SCREENSHOT_MIMES:
        raise _invalid("the screenshot's bytes do not match its declared type")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _invalid("the screenshot image cannot be read") from exc
    if width * height > settings.AUTHCHECK_MAX_IMAGE_PIXELS:
        raise _invalid("the screenshot has too many pixels", "evidence_too_large", 413)
    return width, height


def evidence_prepare(data: dict[str, Any]) -> Prepared:
    """Check a bundle the API serializer already shaped; decode and verify its screenshot."""
    details = {key: value for key, value in data.items() if key != "screenshot"}
    if details.get("clicked_at") is not None:
        details["clicked_at"] = details["clicked_at"].isoformat()
    details = json_safe(details)  # page-provided strings, bound for a JSON column
    screenshot = data.get("screenshot")
    if not screenshot:
        return Prepared(details, None, "", None)
    raw, mime = _decode_screenshot(screenshot)
    return Prepared(details, raw, mime, _image_size(raw, mime))


def _canonical_sha256(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def screenshot_path(sha256: str) -> Path:
    """Where a stored screenshot lives (content-addressed, under the media root)."""
    return Path(settings.MEDIA_ROOT) / "evidence" / sha256[:2] / sha256


def _store_screenshot(raw: bytes) -> str:
    """Write the screenshot once under its digest (atomic rename); return the digest."""
    digest = hashlib.sha256(raw).hexdigest()
    dest = screenshot_path(digest)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.parent / f".{hashing.random_name()}"
        partial.write_bytes(raw)
        os.replace(partial, dest)
    return digest


def evidence_store(prepared: Prepared) -> dict[str, Any]:
    """Store the screenshot and return the bundle recorded on the check, with its hashes."""
    bundle: dict[str, Any] = {**prepared.details, "screenshot": None}
    if prepared.screenshot is not None and prepared.screenshot_size is not None:
        width, height = prepared.screenshot_size
        bundle["screenshot"] = {
            "sha256": _store_screenshot(prepared.screenshot),
            "size": len(prepared.screenshot),
            "mime": prepared.screenshot_mime,
            "width": width,
            "height": height,
        }
    bundle["sha256"] = _canonical_sha256(bundle)
    return bundle


def evidence_hashes(bundle: dict[str, Any]) -> dict[str, Any] | None:
    """The digests that go into the submission's audit event (None without a bundle)."""
    if not bundle:
        return None
    shot = bundle.get("screenshot") or {}
    return {"sha256": bundle.get("sha256"), "screenshot_sha256": shot.get("sha256")}
