"""The write side of checks: submit, claim, finish, fail, each audited in its transaction.

A check moves ``queued -> running -> done | failed``. Claims are conditional UPDATEs so a task
delivered twice, or redelivered after a crash, runs the work at most once at a time; a claim
counts an attempt, and a check whose attempts run out fails as ``poison_input`` instead of
crashing workers forever.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from authcheck.errors import AuthcheckError
from authcheck.models import (
    Check,
    CheckClient,
    CheckElement,
    CheckStage,
    CheckStatus,
    Media,
    SourceType,
    StageState,
    User,
    Verdict,
)
from authcheck.pipeline import hashing
from authcheck.pipeline.fetch import FetchPolicy, validate_url
from authcheck.pipeline.verdict import Decision
from authcheck.services.audit import actor_of, audit_record
from authcheck.services.evidence import Prepared, evidence_hashes, evidence_store
from authcheck.services.media import media_adopt, tmp_dir

log = logging.getLogger(__name__)

URL_STAGES = ("fetch", "hash", "provenance", "probe", "detectors", "similar", "verdict")
FILE_STAGES = URL_STAGES[1:]
PAGE_STAGES = ("resolve", *URL_STAGES)


@dataclass(frozen=True)
class Submission:
    """A created check; ``known`` when it was answered at once from stored results."""

    check: Check
    known: bool


def fetch_policy() -> FetchPolicy:
    """The fetch limits configured for this deployment."""
    loopback = settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK
    return FetchPolicy(
        max_bytes=settings.AUTHCHECK_FETCH_MAX_BYTES,
        timeout_seconds=float(settings.AUTHCHECK_FETCH_TIMEOUT_SECONDS),
        max_redirects=settings.AUTHCHECK_FETCH_MAX_REDIRECTS,
        allow_loopback=loopback,
        allowed_ports=None if loopback else frozenset({80, 443}),
    )


def _clean_text(value: str, limit: int) -> str:
    """Drop NUL and other control characters (PostgreSQL rejects NUL) and cap the length."""
    cleaned = "".join(ch for ch in value if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    return cleaned[:limit]


def _stages_init(check: Check, names: tuple[str, ...]) -> None:
    CheckStage.objects.bulk_create(
        CheckStage(check_ref=check, name=name, position=i) for i, name in enumerate(names)
    )


def _received(fileobj: IO[bytes]) -> hashing.Stored | None:
    """An upload the HashingUploadHandler already wrote and hashed: take its file over."""
    sha256 = getattr(fileobj, "sha256", "")
    path_of = getattr(fileobj, "temporary_file_path", None)
    if not sha256 or path_of is None:
        return None
    taken = tmp_dir() / hashing.random_name()
    try:
        os.link(path_of(), taken)  # Django deletes its own name when the request ends
    except OSError:
        return None  # another filesystem: fall back to copying (and hashing) once more
    return hashing.Stored(path=taken, size=os.path.getsize(taken), sha256=sha256)


def _store_upload(fileobj: IO[bytes]) -> Media:
    """Stream an upload to disk hashing it once; refuse non-media before anything is kept."""
    stored = _received(fileobj) or hashing.copy_and_hash(
        fileobj, tmp_dir() / hashing.random_name(), settings.AUTHCHECK_MAX_UPLOAD_BYTES
    )
    try:
        sniffed = hashing.sniff(stored.path)
    except AuthcheckError:
        stored.path.unlink(missing_ok=True)
        raise
    return media_adopt(stored.path, sha256=stored.sha256, size=stored.size, sniffed=sniffed)


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
    from authcheck.services import processing

    fields: dict[str, Any] = {
        "submitter": user,
        "client": client if client in CheckClient.values else CheckClient.API,
        "page_url": _clean_text(page_url, 4000),
        "note": _clean_text(note, 4000),
        "page_title": _clean_text(page_title, 500),
        "element": element if element in CheckElement.values else "",
        "page_only": page_only,
        "evidence": evidence_store(evidence) if evidence is not None else {},
    }
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
        media = _store_upload(upload)
        fields.update(
            source_type=source_type or SourceType.UPLOAD,
            media=media,
            original_filename=_clean_text(Path(filename).name, 255),
        )
        stages = FILE_STAGES
    with transaction.atomic():
        check = Check.objects.create(**fields)
        _stages_init(check, stages)
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
        known = media is not None and processing.answer_from_known(check, media)
        if not known and enqueue:
            _pending_cap_enforce(user, check)
            check_enqueue_on_commit(check.pk)
    check = Check.objects.select_related("media", "submitter").get(pk=check.pk)
    return Submission(check=check, known=known)


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


def check_needs_resolution(check: Check) -> bool:
    """Page-only checks, and clicked links (a link may lead to a page that shows the media)."""
    return check.page_only or (check.element == CheckElement.LINK and not check.media_id)


def check_record_resolution(check: Check, media_url: str, resolution: dict[str, Any]) -> None:
    """Record which media a page-only check resolved to (and why), with its audit event."""
    media_url = _clean_text(media_url, 4000)
    with transaction.atomic():
        Check.objects.filter(pk=check.pk).update(source_url=media_url, resolution=resolution)
        audit_record(
            actor="system",
            action="check.resolved",
            object_type="check",
            object_id=check.pk,
            check_id=check.pk,
            data={"media_url": media_url, "chosen": resolution.get("chosen")},
        )
    check.source_url, check.resolution = media_url, resolution


def _pending_cap_enforce(user: User, check: Check) -> None:
    """Refuse (rolling the new check back) when the user already has too many unfinished
    checks. The user's row is locked first, so parallel submissions count one at a time."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    pending = (
        Check.objects.filter(submitter=user, status__in=(CheckStatus.QUEUED, CheckStatus.RUNNING))
        .exclude(pk=check.pk)
        .count()
    )
    limit = settings.AUTHCHECK_MAX_PENDING_PER_USER
    if pending >= limit:
        raise AuthcheckError(
            f"you have {pending} checks waiting (the limit is {limit}); try again when some "
            "have finished",
            code="queue_full",
            status=429,
        )


def check_enqueue_on_commit(check_id: int) -> None:
    """Queue processing once the surrounding transaction commits (never before)."""
    from authcheck.tasks import enqueue_check

    Check.objects.filter(pk=check_id).update(last_enqueued_at=timezone.now())
    transaction.on_commit(lambda: enqueue_check(check_id))


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_dead(owner: str) -> bool:
    """True when ``owner`` names a process on this host that no longer exists."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _claimable(check_id: int, now: datetime) -> Q:
    """Queued, or running under an expired lease, or running for a process that died here."""
    claimable = Q(status=CheckStatus.QUEUED) | Q(
        status=CheckStatus.RUNNING, lease_expires_at__lt=now
    )
    owner = (
        Check.objects.filter(pk=check_id, status=CheckStatus.RUNNING)
        .values_list("claimed_by", flat=True)
        .first()
    )
    if owner and _owner_is_dead(owner):
        claimable |= Q(status=CheckStatus.RUNNING, claimed_by=owner)
    return claimable


def detector_enqueue_on_commit(check_id: int, detector: str) -> None:
    """Queue one detector of a check's fan-out once the surrounding transaction commits."""
    from authcheck.tasks import enqueue_detector

    transaction.on_commit(lambda: enqueue_detector(check_id, detector))


def check_claim(check_id: int) -> Check | None:
    """Claim a check for this process with a conditional UPDATE; None if it is not ours to run.

    A check redelivered after its worker was killed is taken over at once when the dead
    process ran on this host, otherwise when its lease expires.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.AUTHCHECK_LEASE_SECONDS)
    with transaction.atomic():
        claimed = Check.objects.filter(_claimable(check_id, now), pk=check_id).update(
            status=CheckStatus.RUNNING,
            attempts=F("attempts") + 1,
            lease_expires_at=lease,
            started_at=now,
            claimed_by=_owner(),
        )
        if not claimed:
            return None
        check = Check.objects.select_related("media", "submitter").get(pk=check_id)
        audit_record(
            actor="system",
            action="check.started",
            object_type="check",
            object_id=check.pk,
            check_id=check.pk,
            data={"attempt": check.attempts, "worker": check.claimed_by},
        )
    return check


def check_release(check: Check) -> None:
    """Give a claimed check back to the queue (transient failure): the attempt does not count."""
    Check.objects.filter(pk=check.pk, status=CheckStatus.RUNNING).update(
        status=CheckStatus.QUEUED,
        lease_expires_at=None,
        attempts=F("attempts") - 1,
        last_enqueued_at=timezone.now(),
    )


def check_attach_media(check: Check, media: Media) -> None:
    """Record which media a URL check fetched."""
    Check.objects.filter(pk=check.pk).update(media=media)
    check.media = media


def verdict_issue(
    check: Check,
    decision: Decision,
    versions: dict[str, Any],
    *,
    from_status: str = CheckStatus.RUNNING,
    similar: list[dict[str, Any]] | None = None,
) -> Verdict | None:
    """Issue the automated verdict and close the check, atomically and at most once."""
    failed = decision.label == "error"
    status = CheckStatus.FAILED if failed else CheckStatus.DONE
    code, message = (decision.rule.removeprefix("error."), decision.summary) if failed else ("", "")
    try:
        with transaction.atomic():
            closed = Check.objects.filter(pk=check.pk, status=from_status).update(
                status=status,
                finished_at=timezone.now(),
                lease_expires_at=None,
                error_code=code,
                error_message=message,
                similar=similar or [],
            )
            if not closed:
                return None
            verdict = Verdict.objects.create(
                check_ref=check,
                label=decision.label,
                summary=decision.summary,
                rule=decision.rule,
                versions=versions,
            )
            audit_record(
                actor="system",
                action="verdict.issued",
                object_type="verdict",
                object_id=verdict.pk,
                check_id=check.pk,
                data={
                    "label": decision.label,
                    "rule": decision.rule,
                    "versions": versions,
                    "status": status,
                },
            )
    except IntegrityError:
        log.info("check %s already has an automated verdict", check.pk)
        return None
    return verdict


def stage_skip_all(check: Check, reason: str) -> None:
    """Mark every pending stage skipped (used when stored results answer a check)."""
    CheckStage.objects.filter(check_ref=check, state=StageState.PENDING).update(
        state=StageState.SKIPPED, error=reason
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
