"""Content-addressed media: bytes stored once, under random extensionless names.

Where the bytes live (local disk or object storage) is ``authcheck.storage``'s business.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction

from authcheck import storage
from authcheck.models import Media
from authcheck.pipeline.hashing import Sniffed, Stored, copy_and_hash, random_name


def media_path(media: Media) -> Path:
    """A local file with the bytes of ``media`` (fetched into a bounded cache from S3)."""
    return storage.media_local_path(media)


def tmp_dir() -> Path:
    """The directory for partial downloads and uploads (same filesystem as the media root)."""
    path = Path(settings.UPLOAD_TMP_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _received(fileobj: IO[bytes]) -> Stored | None:
    """An upload the HashingUploadHandler already wrote and hashed: take its file over."""
    sha256 = getattr(fileobj, "sha256", "")
    path_of = getattr(fileobj, "temporary_file_path", None)
    if not sha256 or path_of is None:
        return None
    taken = tmp_dir() / random_name()
    try:
        os.link(path_of(), taken)  # Django deletes its own name when the request ends
    except OSError:
        return None  # another filesystem: fall back to copying (and hashing) once more
    return Stored(path=taken, size=os.path.getsize(taken), sha256=sha256)


def upload_to_temp(fileobj: IO[bytes]) -> Stored:
    """An upload as a hashed file of our own under ``UPLOAD_TMP_DIR`` (the caller deletes or
    adopts it): the upload handler's file, already hashed, is taken over with a hard link;
    otherwise the stream is copied and hashed in one pass, capped at the upload limit."""
    return _received(fileobj) or copy_and_hash(
        fileobj, tmp_dir() / random_name(), settings.AUTHCHECK_MAX_UPLOAD_BYTES
    )


def media_adopt(
    tmp_path: Path,
    *,
    sha256: str,
    size: int,
    sniffed: Sniffed,
    existing: Media | None = None,
    looked_up: bool = False,
) -> Media:
    """Turn a hashed temporary file into stored Media; known bytes keep their existing row.

    The temporary file is moved into storage (a rename) or deleted when the bytes were known.
    ``looked_up``: the caller already read the row for ``sha256`` (``existing``, or None when
    there was none), so it is not read again.
    """
    if not looked_up:
        existing = Media.objects.filter(sha256=sha256).first()
    if existing and existing.purged_at is not None:
        return _media_restore(existing, tmp_path)
    if existing:
        tmp_path.unlink(missing_ok=True)
        return existing
    name = random_name()
    media = Media(sha256=sha256, size=size, mime=sniffed.mime, kind=sniffed.kind, storage_name=name)
    storage.media_store(tmp_path, name)
    try:
        with transaction.atomic():
            media.save()
    except IntegrityError:
        # Another request stored the same bytes a moment ago: use theirs.
        storage.media_delete(name)
        return Media.objects.get(sha256=sha256)
    return media


def _media_restore(media: Media, tmp_path: Path) -> Media:
    """Bytes removed by retention were submitted again: keep them under the same row."""
    storage.media_store(tmp_path, media.storage_name)
    Media.objects.filter(pk=media.pk).update(purged_at=None)
    media.purged_at = None
    return media
