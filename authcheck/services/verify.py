"""Synchronous C2PA verification of one file (``POST /api/v1/verify`` and ``manage.py verify``).

Nothing is stored: an upload is streamed to a temporary file under ``UPLOAD_TMP_DIR`` and hashed
in the same pass, its real type is sniffed from its bytes, c2pa reads it, and the file is
deleted whatever happens. The SHA-256 is only needed for the report, so c2pa does not wait for
it: a large raw body's hash finishes on its helper thread while c2pa reads, and a local file is
hashed beside the read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from authcheck.errors import UnsupportedMedia
from authcheck.jsonsafe import clean_text
from authcheck.pipeline import cose, provenance
from authcheck.pipeline.hashing import hash_file, random_name, receive, sniff
from authcheck.services.media import tmp_dir, upload_to_temp
from authcheck.services.remote_manifests import ocsp_fetcher, remote_manifest_fetcher
from authcheck.services.trust import trust_config_current


def verify_upload(upload: Any, filename: str = "") -> dict[str, Any]:
    """Verify an upload (a Django upload or any binary stream); raises ``MediaTooLarge`` over
    the upload cap. The temporary file is deleted whatever happens."""
    stored = upload_to_temp(upload)
    try:
        return _report(stored.path, filename, lambda: stored.sha256, stored.size)
    finally:
        stored.path.unlink(missing_ok=True)


def verify_body(stream: IO[bytes], length: int, filename: str = "") -> dict[str, Any]:
    """Verify a raw request body of ``length`` bytes (``POST /verify`` without multipart).

    Received in one pass (written and hashed, see ``hashing.receive``); raises ``MediaTooLarge``
    over the upload cap before reading anything. The temporary file is deleted whatever happens.
    """
    cap = settings.AUTHCHECK_MAX_UPLOAD_BYTES
    labels = cose.LabelScan()  # where the signatures are, noted while the bytes pass by
    received = receive(stream, tmp_dir() / random_name(), length, cap, observe=labels.feed)

    def label_offsets() -> list[int] | None:
        received.digest.hexdigest()  # the scan runs on the digest's thread: let it finish
        return labels.offsets

    try:
        return _report(
            received.path, filename, received.digest.hexdigest, received.size, label_offsets
        )
    finally:
        received.digest.close()
        received.path.unlink(missing_ok=True)


def verify_path(path: Path, filename: str = "") -> dict[str, Any]:
    """Verify a local file in place (raises ``OSError`` if it cannot be read); hashed on a
    second thread while c2pa reads it."""
    size = os.path.getsize(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashed = pool.submit(hash_file, path)
        return _report(path, filename or str(path), lambda: hashed.result()[0], size)


def _report(
    path: Path,
    filename: str,
    sha256: Callable[[], str],
    size: int,
    label_offsets: Callable[[], list[int] | None] | None = None,
) -> dict[str, Any]:
    """The report; ``sha256`` (and ``label_offsets``, see ``provenance.read``) are asked for
    after the C2PA read, which need not wait for them."""
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
        return {**_head(filename, sha256(), size), "mime": None, **findings.to_report()}
    findings = provenance.read(
        path, mime, trust, remote_manifest_fetcher(), ocsp_fetcher(), label_offsets
    )
    return {**_head(filename, sha256(), size), "mime": mime, **findings.to_report()}


def _head(filename: str, sha256: str, size: int) -> dict[str, Any]:
    return {"file": clean_text(filename), "sha256": sha256, "size": size}
