"""A check's state changes after submission: claim, release, media attached, stages, verdict.

Each change is a conditional UPDATE recorded with its audit event in one transaction, so a task
delivered twice, or redelivered after a crash, changes a check at most once. A claim counts an
attempt; a claim that takes over a lost lease says so in the audit trail.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from authcheck.errors import AuthcheckError
from authcheck.jsonsafe import clean_text
from authcheck.models import (
    Check,
    CheckElement,
    CheckStage,
    CheckStatus,
    Media,
    ProvenanceReport,
    Signal,
    StageState,
    Verdict,
    VerdictLabel,
    WebhookEvent,
)
from authcheck.pipeline.verdict import Decision
from authcheck.services.audit import audit_record, verdict_digest
from authcheck.services.webhooks import event_emit
from authcheck.telemetry import stage_report

log = logging.getLogger(__name__)


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


def _claimable(owner: str, now: datetime) -> Q:
    """Queued, or running under an expired lease, or running for a process that died here."""
    claimable = Q(status=CheckStatus.QUEUED) | Q(
        status=CheckStatus.RUNNING, lease_expires_at__lt=now
    )
    if owner and _owner_is_dead(owner):
        claimable |= Q(status=CheckStatus.RUNNING, claimed_by=owner)
    return claimable


def _lease_lost_record(check: Check, before: Mapping[str, Any], now: datetime) -> None:
    """Audit that a running check's claim was taken over, and why."""
    expired = before["lease_expires_at"] is not None and before["lease_expires_at"] < now
    audit_record(
        actor="system",
        action="check.lease_lost",
        object_type="check",
        object_id=check.pk,
        check_id=check.pk,
        data={
            "previous_worker": before["claimed_by"],
            "reason": "lease expired" if expired else "worker process died",
            "attempt": before["attempts"],
        },
    )


def check_claim(check_id: int) -> Check | None:
    """Claim a check for this process with a conditional UPDATE; None if it is not ours to run.

    A check redelivered after its worker was killed is taken over at once when the dead
    process ran on this host, otherwise when its lease expires.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.AUTHCHECK_LEASE_SECONDS)
    with transaction.atomic():
        before = (
            Check.objects.filter(pk=check_id)
            .values("status", "claimed_by", "lease_expires_at", "attempts")
            .first()
        )
        if before is None:
            return None
        claimed = Check.objects.filter(_claimable(before["claimed_by"], now), pk=check_id).update(
            status=CheckStatus.RUNNING,
            attempts=F("attempts") + 1,
            lease_expires_at=lease,
            started_at=now,
            claimed_by=_owner(),
        )
        if not claimed:
            return None
        check = Check.objects.select_related("media", "submitter").get(pk=check_id)
        if before["status"] == CheckStatus.RUNNING:
            _lease_lost_record(check, before, now)
        audit_record(
            actor="system",
            action="check.started",
            object_type="check",
            object_id=check.pk,
            check_id=check.pk,
            data={"attempt": check.attempts, "worker": check.claimed_by},
        )
    return check


def check_lease_renew(
    check_id: int, owner: str | None = None, *, seconds: float | None = None
) -> bool:
    """Extend a running check's lease to ``seconds`` (default ``AUTHCHECK_LEASE_SECONDS``) from
    now; False when the check is no longer running (or, with ``owner``, no longer claimed by
    that worker)."""
    span = settings.AUTHCHECK_LEASE_SECONDS if seconds is None else seconds
    lease = timezone.now() + timedelta(seconds=span)
    running = Check.objects.filter(pk=check_id, status=CheckStatus.RUNNING)
    if owner is not None:
        running = running.filter(claimed_by=owner)
    return bool(running.update(lease_expires_at=lease))


def _beat(check_id: int, owner: str | None, stop: threading.Event) -> None:
    """The heartbeat thread: renew every third of the lease until stopped or the claim is gone.

    A renewal that fails (database briefly away) is logged and retried at the next beat; the
    lease only lapses when this process stops beating, which is the point.
    """
    interval = max(settings.AUTHCHECK_LEASE_SECONDS / 3, 0.2)
    try:
        while not stop.wait(interval):
            try:
                if not check_lease_renew(check_id, owner):
                    return
            except DatabaseError:
                log.warning("could not renew the lease of check %s", check_id, exc_info=True)
    finally:
        connections.close_all()  # this thread's own connection


@contextmanager
def check_lease_heartbeat(check_id: int, owner: str | None = None) -> Iterator[None]:
    """Keep a running check's lease alive while the body runs in this (living) process.

    Leases are short (``AUTHCHECK_LEASE_SECONDS``, a minute by default), so the sweeper finds
    the work of a killed worker within about a minute instead of after a long fixed lease.
    """
    stop = threading.Event()
    beater = threading.Thread(
        target=_beat, args=(check_id, owner, stop), name=f"lease-{check_id}", daemon=True
    )
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join(timeout=5)


def check_release(check: Check, reason: str) -> None:
    """Give a claimed check back to the queue (transient failure): the attempt does not count."""
    with transaction.atomic():
        released = Check.objects.filter(pk=check.pk, status=CheckStatus.RUNNING).update(
            status=CheckStatus.QUEUED,
            lease_expires_at=None,
            attempts=F("attempts") - 1,
            last_enqueued_at=timezone.now(),
        )
        if released:
            audit_record(
                actor="system",
                action="check.released",
                object_type="check",
                object_id=check.pk,
                check_id=check.pk,
                data={"reason": reason[:500], "worker": check.claimed_by},
            )


def media_attached_record(check: Check, media: Media, *, final_url: str = "") -> None:
    """Audit which bytes a check examines (call inside the transaction that attaches them)."""
    audit_record(
        actor="system",
        action="media.attached",
        object_type="media",
        object_id=media.sha256,
        check_id=check.pk,
        data={
            "sha256": media.sha256,
            "size": media.size,
            "mime": media.mime,
            "final_url": final_url,
        },
    )


def check_attach_media(check: Check, media: Media, *, final_url: str) -> None:
    """Record which media a URL check fetched, and from where after redirects."""
    with transaction.atomic():
        Check.objects.filter(pk=check.pk).update(media=media)
        media_attached_record(check, media, final_url=final_url)
    check.media = media


# --- stages -------------------------------------------------------------------------------


def stages_init(
    check: Check, names: Sequence[str], *, done: dict[str, tuple[datetime, datetime, str]]
) -> list[CheckStage]:
    """Create a check's stage rows, returned in order; ``done`` holds stages that already
    happened (name -> started, finished, note), such as hashing an upload while it was stored."""
    rows = []
    for position, name in enumerate(names):
        row = CheckStage(check_ref=check, name=name, position=position)
        if name in done:
            row.started_at, row.finished_at, row.error = done[name]
            row.state = StageState.DONE
            row.duration_ms = (row.finished_at - row.started_at).total_seconds() * 1000
        rows.append(row)
    return CheckStage.objects.bulk_create(rows)


def stage_start(check: Check, name: str) -> datetime:
    """Mark a stage running from now; returns that start (as stored)."""
    started = timezone.now()
    CheckStage.objects.filter(check_ref=check, name=name).update(
        state=StageState.RUNNING,
        started_at=started,
        finished_at=None,
        duration_ms=None,
        error="",
    )
    return started


def stage_end(
    check: Check,
    name: str,
    state: str = StageState.DONE,
    error: str = "",
    *,
    started: datetime | None = None,
) -> None:
    """Close a running stage; its duration is its own finish minus its own start. A stage that
    is not running (closed already by a concurrent collector) is left alone. ``started``: the
    start this process stored (``stage_start``), which saves reading it back; the update only
    applies while the row still has that start, so a restarted stage is never closed by it."""
    running = CheckStage.objects.filter(check_ref=check, name=name, state=StageState.RUNNING)
    if started is None:
        row = running.first()
        if row is None:
            return
        running, started = running.filter(pk=row.pk), row.started_at
    else:
        running = running.filter(started_at=started)
    finished = timezone.now()
    seconds = (finished - (started or finished)).total_seconds()
    closed = running.update(
        state=state, finished_at=finished, duration_ms=seconds * 1000, error=error[:1000]
    )
    if closed:
        stage_report(check.pk, name, state, seconds)


@contextmanager
def stage(check: Check, name: str, *, close: bool = True) -> Iterator[None]:
    """Record a stage's start and, unless ``close`` is false (a fan-out that ends elsewhere in
    the same stage's code), its end; a failure closes it as failed with the reason."""
    started = stage_start(check, name)
    try:
        yield
    except BaseException as exc:
        stage_end(check, name, StageState.FAILED, _stage_reason(exc), started=started)
        raise
    if close:
        stage_end(check, name, started=started)


def _stage_reason(exc: BaseException) -> str:
    """What a failed stage shows: our own errors' messages; never an unexpected one's text
    (library exceptions can carry hosts, paths or codec internals; the log has them)."""
    if isinstance(exc, AuthcheckError):
        return exc.message
    return "an internal error stopped this stage; it was logged"


def stage_skip(check: Check, name: str, reason: str) -> None:
    """Mark one stage skipped with the reason."""
    CheckStage.objects.filter(check_ref=check, name=name).update(
        state=StageState.SKIPPED, error=reason
    )


def stage_skip_pending(check: Check, reason: str) -> None:
    """Mark every stage that has not run skipped (known media, or a failure before them)."""
    CheckStage.objects.filter(check_ref=check, state=StageState.PENDING).update(
        state=StageState.SKIPPED, error=reason
    )


# --- verdict ------------------------------------------------------------------------------


def _verdict_audit_data(
    check: Check,
    decision: Decision,
    versions: dict[str, Any],
    status: str,
    report: ProvenanceReport | None,
    signals: Sequence[Signal],
) -> dict[str, Any]:
    return {
        "label": decision.label,
        "rule": decision.rule,
        "versions": versions,
        "status": status,
        **evidence_audit_data(check, report, signals),
    }


def evidence_audit_data(
    check: Check, report: ProvenanceReport | None, signals: Sequence[Signal]
) -> dict[str, Any]:
    """What a verdict's audit event says it rests on: the bytes, the report (and its raw
    manifest's hash) and the signal rows, so the trail alone tells what was judged."""
    media = check.media if check.media_id else None
    return {
        "media_sha256": media.sha256 if media else None,
        "report_id": report.pk if report else None,
        "report_state": report.state if report else None,
        "raw_manifest_sha256": report.raw_manifest_sha256 if report else None,
        "signal_ids": sorted(s.pk for s in signals),
    }


def _finished_emit(check: Check, verdict: Verdict, status: str) -> None:
    """The ``check.finished`` event for the submitter's webhooks (sent after commit)."""
    event_emit(
        check=check,
        event=WebhookEvent.CHECK_FINISHED,
        event_id=f"check.finished:{check.pk}",
        owners={check.submitter_id},
        data={
            "check_id": check.pk,
            "status": status,
            "verdict": {
                "id": verdict.pk,
                "label": verdict.label,
                "rule": verdict.rule,
                "summary": verdict.summary,
            },
            "media_sha256": check.media.sha256 if check.media_id and check.media else None,
            "links": {"self": f"/api/v1/checks/{check.pk}"},
        },
    )


def verdict_issue(
    check: Check,
    decision: Decision,
    versions: dict[str, Any],
    *,
    from_status: str = CheckStatus.RUNNING,
    similar: list[dict[str, Any]] | None = None,
    report: ProvenanceReport | None = None,
    signals: Sequence[Signal] = (),
) -> Verdict | None:
    """Issue the automated verdict and close the check, atomically and at most once.

    ``report`` and ``signals`` are the evidence the decision was taken on; the audit event
    names them, with the media's sha256, so the trail alone says what was judged.
    """
    failed = decision.label == VerdictLabel.ERROR
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
                    **_verdict_audit_data(check, decision, versions, status, report, signals),
                    "verdict_sha256": verdict_digest(verdict),
                },
            )
            _finished_emit(check, verdict, status)
    except IntegrityError:
        log.info("check %s already has an automated verdict", check.pk)
        return None
    return verdict


def check_needs_resolution(check: Check) -> bool:
    """Page-only checks, and clicked links (a link may lead to a page that shows the media)."""
    return check.page_only or (check.element == CheckElement.LINK and not check.media_id)


def check_record_resolution(check: Check, media_url: str, resolution: dict[str, Any]) -> None:
    """Record which media a page-only check resolved to (and why), with its audit event."""
    media_url = clean_text(media_url, 4000)
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
