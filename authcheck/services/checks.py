"""Submitting checks: validate, store an upload once, answer known media at once, or queue.

The state changes that follow (claim, release, media attached, stages, verdict) live in
``services.lifecycle``; this module re-exports the ones callers already use from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from authcheck.errors import AuthcheckError
from authcheck.jsonsafe import clean_text
from authcheck.limits import fetch_policy
from authcheck.models import (
    Check,
    CheckClient,
    CheckElement,
    CheckStage,
    CheckStatus,
    Media,
    SourceType,
    User,
    Verdict,
)
from authcheck.pipeline import hashing
from authcheck.pipeline.fetch import validate_url
from authcheck.services import processing
from authcheck.services.audit import actor_of, audit_record
from authcheck.services.dispatch import check_enqueue_on_commit
from authcheck.services.evidence import Prepared, evidence_hashes, evidence_store
from authcheck.services.lifecycle import (
    check_claim,
    check_release,
    media_attached_record,
    stages_init,
    verdict_issue,
)
from authcheck.services.media import media_adopt, upload_to_temp

__all__ = [
    "Submission",
    "check_claim",
    "check_create",
    "check_enqueue_on_commit",
    "check_release",
    "checks_sweep",
    "fetch_policy",
    "verdict_issue",
]

log = logging.getLogger(__name__)

URL_STAGES = ("fetch", "hash", "provenance", "probe", "detectors", "similar", "verdict")
FILE_STAGES = URL_STAGES[1:]
PAGE_STAGES = ("resolve", *URL_STAGES)


@dataclass(frozen=True)
class Submission:
    """A created check; ``known`` when it was answered at once from stored results."""

    check: Check
    known: bool


def _store_upload(fileobj: IO[bytes], user: User, *, capped: bool) -> Media:
    """Stream an upload to disk hashing it once; refuse non-media before anything is kept.

    With ``capped``, a user at the pending cap may only submit bytes already stored (they can
    still be answered from known results); new bytes are refused here, before adoption, so a
    refused submission never adds to the disk.
    """
    stored = upload_to_temp(fileobj)
    try:
        sniffed = hashing.sniff(stored.path)
        existing = Media.objects.filter(sha256=stored.sha256).first()
        if capped and existing is None:
            _pending_cap_enforce(user, None)
    except AuthcheckError:
        stored.path.unlink(missing_ok=True)
        raise
    return media_adopt(
        stored.path,
        sha256=stored.sha256,
        size=stored.size,
        sniffed=sniffed,
        existing=existing,
        looked_up=True,
    )


def check_create(
    *,
    user: User,
    client: str = CheckClient.API,
    url: str | None = None,
    page_url: str = "",
    note: str = "",
    upload: IO[bytes] | None = None,
    filename: str = "",
    source_type: str | None = None,
    enqueue: bool = True,
    page_title: str = "",
    element: str = "",
    page_only: bool = False,
    evidence: Prepared | None = None,
) -> Submission:
    """Record a new check for a URL, an uploaded file or a page to resolve; queue it after commit.

    Known bytes whose results are current are answered at once: the check is created ``done``
    with a verdict derived from the stored report and signals, and nothing is queued.
    ``enqueue=False`` leaves a queued check for the caller to process (the CLI runs it inline).
    ``page_only`` (no URL, no file) asks the worker to find the media on ``page_url``;
    ``evidence`` is the extension's click-time bundle, stored with its hashes.
    """
    if [url is not None, upload is not None, page_only].count(True) != 1:
        raise AuthcheckError(
            "give exactly one of a URL, a file or a page to resolve", code="invalid_request"
        )
    fields: dict[str, Any] = {
        "submitter": user,
        "client": client if client in CheckClient.values else CheckClient.API,
        "page_url": clean_text(page_url, 4000),
        "note": clean_text(note, 4000),
        "page_title": clean_text(page_title, 500),
        "element": element if element in CheckElement.values else "",
        "page_only": page_only,
        "evidence": evidence_store(evidence) if evidence is not None else {},
    }
    done: dict[str, Any] = {}
    if page_only:
        page = validate_url(page_url, fetch_policy())
        fields.update(source_type=SourceType.URL, page_url=page)
        stages: tuple[str, ...] = PAGE_STAGES
        media = None
    elif url is not None:
        fields.update(source_type=SourceType.URL, source_url=validate_url(url, fetch_policy()))
        stages = PAGE_STAGES if element == CheckElement.LINK else URL_STAGES
        media = None
    else:
        assert upload is not None
        started = timezone.now()
        media = _store_upload(upload, user, capped=enqueue)
        done = {"hash": (started, timezone.now(), "hashed while the upload was stored")}
        fields.update(
            source_type=source_type or SourceType.UPLOAD,
            media=media,
            original_filename=clean_text(Path(filename).name, 255),
        )
        stages = FILE_STAGES
    if media is None and enqueue:
        # Never answered at once: stamped here rather than by a second UPDATE when queued.
        fields["last_enqueued_at"] = timezone.now()
    with transaction.atomic():
        check = Check.objects.create(**fields)
        rows = stages_init(check, stages, done=done)
        audit_record(
            actor=actor_of(user),
            action="check.created",
            object_type="check",
            object_id=check.pk,
            check_id=check.pk,
            data={
                "source_type": check.source_type,
                "client": check.client,
                "source_url": check.source_url,
                "media": media.sha256 if media else None,
                **_extension_fields(check),
            },
        )
        if media is not None:
            media_attached_record(check, media)
        answer = processing.answer_from_known(check, media) if media is not None else None
        known = answer is not None
        if not known and enqueue:
            _pending_cap_enforce(user, check)
            check_enqueue_on_commit(check.pk, stamped="last_enqueued_at" in fields)
    return Submission(check=_created(check.pk, media, answer, rows), known=known)


def _created(
    check_id: int, media: Media | None, answer: Verdict | None, rows: list[CheckStage]
) -> Check:
    """The committed check, read once, with what the presenter shows already in hand: its only
    verdict (the one answered at once, or none), the evidence answer_from_known loaded into
    ``media``, and the stage rows when nothing changed them since they were created. It is a
    snapshot of the check as created, for the answer: a caller that processes it afterwards
    reads the check again (the primed caches would show the state at creation)."""
    check = Check.objects.select_related("submitter").get(pk=check_id)
    if media is not None:
        check.media = media
    cache: dict[str, list[Any]] = {"verdicts": [answer] if answer is not None else []}
    if answer is None:
        cache["stages"] = rows
    # What prefetch_related would have stored: the presenter reads these without a query.
    check._prefetched_objects_cache = cache  # type: ignore[attr-defined]
    return check


def _extension_fields(check: Check) -> dict[str, Any]:
    """What the audit event adds for an extension submission (nothing for other clients)."""
    extra: dict[str, Any] = {}
    if check.page_only:
        extra.update(page_only=True, page_url=check.page_url)
    if check.element:
        extra["element"] = check.element
    hashes = evidence_hashes(check.evidence)
    if hashes:
        extra["evidence"] = hashes
    return extra


def _pending_cap_enforce(user: User, check: Check | None) -> None:
    """Refuse (rolling the new check back) when the user already has too many unfinished
    checks. Inside a transaction the user's row is locked first, so parallel submissions count
    one at a time; ``check`` (the new one, if created yet) is not counted."""
    if transaction.get_connection().in_atomic_block:
        User.objects.select_for_update().filter(pk=user.pk).first()
    unfinished = Check.objects.filter(
        submitter=user, status__in=(CheckStatus.QUEUED, CheckStatus.RUNNING)
    )
    pending = (unfinished.exclude(pk=check.pk) if check else unfinished).count()
    limit = settings.AUTHCHECK_MAX_PENDING_PER_USER
    if pending >= limit:
        raise AuthcheckError(
            f"you have {pending} checks waiting (the limit is {limit}); try again when some "
            "have finished",
            code="queue_full",
            status=429,
        )


def checks_sweep(*, requeue_after_seconds: int = 120) -> list[int]:
    """Re-enqueue work that was lost: queued checks never picked up, running ones whose lease
    expired. Returns the ids re-enqueued."""
    now = timezone.now()
    stale = now - timedelta(seconds=requeue_after_seconds)
    lost = Check.objects.filter(
        Q(status=CheckStatus.QUEUED)
        & (Q(last_enqueued_at__lt=stale) | Q(last_enqueued_at__isnull=True))
        | Q(status=CheckStatus.RUNNING, lease_expires_at__lt=now)
    ).values_list("pk", flat=True)[:500]
    ids = list(lost)
    for check_id in ids:
        with transaction.atomic():
            check_enqueue_on_commit(check_id)
    return ids
