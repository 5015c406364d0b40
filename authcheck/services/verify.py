"""Synchronous C2PA verification of one file (``POST /api/v1/verify`` and ``manage.py verify``).

Nothing is stored: an upload is streamed to a temporary file under ``UPLOAD_TMP_DIR`` and hashed
in the same pass, its real type is sniffed from its bytes, c2pa reads it, and the file is
deleted whatever happens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from authcheck.errors import UnsupportedMedia
from authcheck.jsonsafe import clean_text
from authcheck.pipeline import provenance
from authcheck.pipeline.hashing import hash_file, sniff
from authcheck.services.media import upload_to_temp
from authcheck.services.remote_manifests import ocsp_fetcher, remote_manifest_fetcher
from authcheck.services.trust import trust_config_current


def verify_upload(upload: Any, filename: str = "") -> dict[str, Any]:
    """Verify an upload (a Django upload or any binary stream); raises ``MediaTooLarge`` over
    the upload cap. The temporary file is deleted whatever happens."""
    stored = upload_to_temp(upload)
    try:
        return _report(stored.path, filename, stored.sha256, stored.size)
    finally:
        stored.path.unlink(missing_ok=True)


def verify_path(path: Path, filename: str = "") -> dict[str, Any]:
    """Verify a local file in place (raises ``OSError`` if it cannot be read)."""
    sha256, size = hash_file(path)
    return _report(path, filename or str(path), sha256, size)


def _report(path: Path, filename: str, sha256: str, size: int) -> dict[str, Any]:
    head = {"file": clean_text(filename), "sha256": sha256, "size": size}
    trust = trust_config_current()
    try:
        mime = sniff(path).mime
    except UnsupportedMedia as exc:
        # Not an image, video or audio file at all (empty, HTML, playlist, random bytes):
        # c2pa never sees it.
        findings = provenance.ProvenanceFindings(
            state="unsupported",
            sdk_version=provenance.sdk_version(),
            trust_version=trust.version,
            error_code=exc.code,
            error_message=exc.message,
        )
        return {**head, "mime": None, **findings.to_report()}
    findings = provenance.read(path, mime, trust, remote_manifest_fetcher(), ocsp_fetcher())
    return {**head, "mime": mime, **findings.to_report()}
