"""Content-addressed media storage: bytes stored once, under random extensionless names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction

from authcheck.models import Media
from authcheck.pipeline.hashing import Sniffed, Stored, copy_and_hash, random_name


def media_path(media: Media) -> Path:
    """Where the bytes of ``media`` live on local disk."""
    return Path(settings.MEDIA_ROOT) / media.storage_name[:2] / media.storage_name


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


def media_adopt(tmp_path: Path, *, sha256: str, size: int, sniffed: Sniffed) -> Media:
    """Turn a hashed temporary file into stored Media; known bytes keep their existing row.

    The temporary file is moved into storage (a rename) or deleted when the bytes were known.
    """
    existing = Media.objects.filter(sha256=sha256).first()
    if existing:
        tmp_path.unlink(missing_ok=True)
        return existing
    name = random_name()
    media = Media(sha256=sha256, size=size, mime=sniffed.mime, kind=sniffed.kind, storage_name=name)
    dest = media_path(media)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp_path, dest)
    try:
        with transaction.atomic():
            media.save()
    except IntegrityError:
        # Another request stored the same bytes a moment ago: use theirs.
        dest.unlink(missing_ok=True)
        return Media.objects.get(sha256=sha256)
    return media
