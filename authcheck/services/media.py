"""Content-addressed media storage: bytes stored once, under random extensionless names."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from authcheck.models import Media
from authcheck.pipeline.hashing import Sniffed, random_name


def media_path(media: Media) -> Path:
    """Where the bytes of ``media`` live on local disk."""
    return Path(settings.MEDIA_ROOT) / media.storage_name[:2] / media.storage_name


def tmp_dir() -> Path:
    """The directory for partial downloads and uploads (same filesystem as the media root)."""
    path = Path(settings.UPLOAD_TMP_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


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
