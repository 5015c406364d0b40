"""JSON shapes shared by the API and the command line (SPEC section 6)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import authcheck
from authcheck import selectors
from authcheck.audit_format import event_time
from authcheck.models import (
    ApiToken,
    AuditEvent,
    Check,
    CheckStage,
    DetectorRun,
    Media,
    Signal,
    User,
    Verdict,
)
from authcheck.selectors import CheckEvidence, MediaEvidence


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def stage_to_dict(stage: CheckStage) -> dict[str, Any]:
    """One pipeline stage's progress."""
    return {
        "name": stage.name,
        "state": stage.state,
        "started": _iso(stage.started_at),
        "finished": _iso(stage.finished_at),
        "duration_ms": round(stage.duration_ms, 2) if stage.duration_ms is not None else None,
        "error": stage.error or None,
    }


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    """A verdict: automated (label, rule) or a reviewer's decision (decision, note, reviewer)."""
    return {
        "id": verdict.pk,
        "kind": "review" if verdict.author_id else "automated",
        "label": verdict.label or None,
        "decision": verdict.decision or None,
        "summary": verdict.summary,
        "rule": verdict.rule,
        "versions": verdict.versions,
        "note": verdict.note or None,
        "reviewer": verdict.author.username if verdict.author_id and verdict.author else None,
        "supersedes": verdict.supersedes_id,
        "replaces": verdict.replaces_id,
        "cause": verdict.cause or None,
        "created_at": _iso(verdict.created_at),
    }


def signal_to_dict(signal: Signal) -> dict[str, Any]:
    """One detector's output (``id`` is what ``verdict.issued`` audit events cite)."""
    return {
        "id": signal.pk,
        "detector": signal.detector,
        "version": signal.version,
        "label": signal.label,
        "score": signal.score,
        "evidence": signal.evidence,
        "runtime_ms": round(signal.runtime_ms, 2),
        "error": signal.error or None,
    }


def run_to_dict(run: DetectorRun) -> dict[str, Any]:
    """A detector run still under way: progress, not evidence."""
    return {
        "detector": run.detector,
        "version": run.version,
        "state": run.state,
        "attempts": run.attempts,
        "started": _iso(run.started_at),
    }


def media_to_dict(media: Media) -> dict[str, Any]:
    """A media's identity and probe data."""
    return {
        "sha256": media.sha256,
        "size": media.size,
        "mime": media.mime,
        "kind": media.kind,
        "probe": media.probe,
        "first_seen": _iso(media.created_at),
    }


def links_for(check: Check, base: str = "") -> dict[str, str]:
    """Hypermedia links of a check."""
    root = f"{base}/api/v1/checks/{check.pk}"
    links = {"self": root, "audit": f"{root}/audit", "reviews": f"{root}/reviews"}
    if check.media_id and check.media:
        links["media"] = f"{base}/api/v1/media/{check.media.sha256}"
    if (check.evidence or {}).get("screenshot"):
        links["evidence_screenshot"] = f"{root}/evidence/screenshot"
    return links


def check_to_dict(
    check: Check,
    base: str = "",
    evidence: CheckEvidence | None = None,
    viewer: User | None = None,
    *,
    visible: Collection[int] | None = None,
    detail: bool = True,
) -> dict[str, Any]:
    """The JSON of a check: status, stages, verdict, the evidence of that verdict (provenance,
    signals, similar), detector runs under way (progress) and links; with ``detail`` also the
    "why no Content Credentials?" account (``no_credentials``, which reads the metadata cache
    and the matched media's reports, so lists leave it out: ``checks_to_list``).

    With ``viewer``, similar media on checks the viewer may not see are anonymised (``visible``:
    ``selectors.similar_visible_ids`` computed once for a page).
    Queries unless ``check`` comes from ``selectors.checks_with_evidence``."""
    media = check.media if check.media_id else None
    history = selectors.verdicts_of(check)
    current = selectors.verdict_current_of(history)
    evidence = evidence or selectors.check_evidence(check)
    similar = (
        selectors.similar_visible_to(viewer, evidence.similar, visible)
        if viewer is not None
        else list(evidence.similar)
    )
    body: dict[str, Any] = {
        "id": check.pk,
        "status": check.status,
        "source": {
            "type": check.source_type,
            "url": check.source_url or None,
            "page_url": check.page_url or None,
            "page_title": check.page_title or None,
            "filename": check.original_filename or None,
            "element": check.element or None,
            "page_only": check.page_only,
            "resolution": check.resolution or None,
        },
        "client": check.client,
        "note": check.note or None,
        "submitter": check.submitter.username,
        "created_at": _iso(check.created_at),
        "started_at": _iso(check.started_at),
        "finished_at": _iso(check.finished_at),
        "attempts": check.attempts,
        "stages": [stage_to_dict(s) for s in check.stages.all()],
        "verdict": verdict_to_dict(current) if current else None,
        "verdict_history": [verdict_to_dict(v) for v in history if current and v.pk != current.pk],
        "media": media_to_dict(media) if media else None,
        "provenance": evidence.report.report if evidence.report else None,
        "signals": [signal_to_dict(s) for s in evidence.signals],
        "progress": [run_to_dict(r) for r in evidence.progress],
        "similar": similar,
        "error": (
            {"code": check.error_code, "message": check.error_message} if check.error_code else None
        ),
        "evidence": check.evidence or None,
        "review_needed": check.review_needed_at is not None,
        "review_needed_since": _iso(check.review_needed_at),
        "links": links_for(check, base),
    }
    if detail:
        # "Why no Content Credentials?": only for media without an embedded manifest.
        body["no_credentials"] = selectors.credentials_absence(check, evidence, similar)
    return body


def checks_to_list(
    checks: Sequence[Check], viewer: User | None = None, base: str = ""
) -> list[dict[str, Any]]:
    """A page of checks (from ``selectors.checks_with_evidence``) in a constant number of
    queries: the visibility of every match on the page is read at once, and no check carries
    ``no_credentials`` (``GET /checks/{id}`` does)."""
    visible = (
        selectors.similar_visible_ids(viewer, [m for c in checks for m in c.similar or ()])
        if viewer is not None
        else None
    )
    return [check_to_dict(c, base, viewer=viewer, visible=visible, detail=False) for c in checks]


def media_report_to_dict(media: Media, shown: MediaEvidence, base: str = "") -> dict[str, Any]:
    """A known media with one verdict (``selectors.media_evidence_for``) and its evidence."""
    evidence = shown.evidence
    report = evidence.report if evidence else None
    return {
        "media": media_to_dict(media),
        "provenance": report.report if report else None,
        "signals": [signal_to_dict(s) for s in evidence.signals] if evidence else [],
        "verdict": verdict_to_dict(shown.verdict) if shown.verdict else None,
        "check_id": shown.check_id,
        "links": {"self": f"{base}/api/v1/media/{media.sha256}"},
    }


def me_to_dict(user: User, token: ApiToken, *, can_submit: bool) -> dict[str, Any]:
    """Who a token belongs to: what the extension's "Test connection" shows."""
    return {
        "service": "authcheck",
        "version": authcheck.__version__,
        "user": user.username,
        "role": user.role,
        "can_submit": can_submit,
        "token": {"name": token.name, "prefix": token.prefix, "expires_at": _iso(token.expires_at)},
    }


def audit_event_to_dict(event: AuditEvent) -> dict[str, Any]:
    """One audit event as the API and signed reports show it (``data`` from its body)."""
    body = json.loads(event.body)
    at = event_time(body)  # the hashed time, not the unhashed column copy
    return {
        "seq": event.seq,
        "at": at.isoformat() if at else None,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": body.get("data", {}) if isinstance(body, dict) else {},
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }
