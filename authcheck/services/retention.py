"""Retention: remove media bytes nobody submitted for N days; keep what the record needs.

For newsrooms with source-protection duties. What goes: the stored bytes (local file or
object), the worker cache copy, the sampled frames (pixels of the media) and the parsed
metadata cache (it can hold GPS positions and device serials). What
stays: the Media row with its SHA-256, size and probe data, provenance reports, signals,
verdicts, checks and the audit trail, so a verdict can still be explained and a resubmission
of the same bytes is still recognised. Each purge is one audit event, in the transaction that
marks the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from authcheck import storage
from authcheck.models import CheckStatus, Media
from authcheck.services.audit import audit_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionResult:
    """What a retention run removed (or, in a dry run, would remove)."""

    cutoff: datetime
    purged: tuple[str, ...]  # SHA-256 of each media whose bytes were removed
    dry_run: bool


def media_expired(days: int) -> QuerySet[Media]:
    """Stored media whose newest check is older than ``days`` and none still unfinished."""
    cutoff = timezone.now() - timedelta(days=days)
    unfinished = Q(checks__status__in=[CheckStatus.QUEUED, CheckStatus.RUNNING])
    return (
        Media.objects.filter(purged_at__isnull=True)
        .exclude(pk__in=Media.objects.filter(unfinished).values("pk"))
        .annotate(last_check=Max("checks__created_at"))
        .filter(Q(last_check__lt=cutoff) | Q(last_check__isnull=True, created_at__lt=cutoff))
        .order_by("pk")
    )


def _purge_one(media: Media, *, actor: str, days: int) -> bool:
    with transaction.atomic():
        marked = Media.objects.filter(pk=media.pk, purged_at__isnull=True).update(
            purged_at=timezone.now()
        )
        if not marked:
            return False  # another run took it
        audit_record(
            actor=actor,
            action="media.purged",
            object_type="media",
            object_id=media.pk,
            data={"sha256": media.sha256, "size": media.size, "retention_days": days},
        )
    # Bytes go after the commit: a crash in between leaves a marked row whose bytes a rerun
    # of the deletion removes (deleting is idempotent), never bytes without their record.
    storage.media_delete(media.storage_name)
    storage.frames_path(media).unlink(missing_ok=True)
    # Parsed metadata can hold a source's location (EXIF GPS) and device serials: it goes too.
    storage.metadata_path(media).unlink(missing_ok=True)
    return True


def media_retention_run(
    *, days: int, actor: str = "system", dry_run: bool = False
) -> RetentionResult:
    """Remove the bytes of every expired media (see ``media_expired``), one audited purge each."""
    if days < 1:
        raise ValueError("retention must keep media for at least one day")
    cutoff = timezone.now() - timedelta(days=days)
    expired = list(media_expired(days))
    if dry_run:
        return RetentionResult(cutoff, tuple(m.sha256 for m in expired), dry_run=True)
    purged = [m.sha256 for m in expired if _purge_one(m, actor=actor, days=days)]
    log.info("retention removed %d media", len(purged), extra={"event": "retention"})
    return RetentionResult(cutoff, tuple(purged), dry_run=False)
