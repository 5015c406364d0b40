"""Re-verification: when the trust configuration, the c2pa SDK, the verdict rules or a detector
version changes, finished checks are re-examined and a changed automated verdict is recorded.

- A pass takes at most ``limit`` finished checks not yet re-examined under the current versions
  key (``Check.reverified_key``), oldest first: bounded, and resumable after a crash because
  the key is written per check.
- A changed automated verdict is a new row that ``replaces`` the old one (one successor each,
  so two passes cannot both record it) with a ``cause`` naming what changed and why, a
  ``verdict.changed`` audit event and a ``verdict.changed`` webhook event, in one transaction.
- An editor's decision is never touched: it stays the current verdict, and the check is
  flagged (``review_needed_at``) until the editor decides again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from authcheck.models import (
    Check,
    CheckStatus,
    ProvenanceReport,
    Signal,
    Verdict,
    VerdictLabel,
    WebhookEvent,
)
from authcheck.pipeline.verdict import Decision
from authcheck.selectors import evidence_pick, verdict_automated_of, verdicts_of
from authcheck.services.audit import audit_record, canonical_json, verdict_digest
from authcheck.services.lifecycle import evidence_audit_data
from authcheck.services.processing import decision_current, versions_current
from authcheck.services.trust import trust_config_current
from authcheck.services.webhooks import event_emit

log = logging.getLogger(__name__)

# The versions a verdict depends on (the app version alone changes no result).
KEYED = ("rules", "c2pa_sdk", "trust", "detectors")
REASONS = {
    "trust": "the trust configuration changed (a trust list or anchor was added, changed or "
    "disabled)",
    "c2pa_sdk": "the C2PA SDK version changed",
    "rules": "the verdict rules changed",
}


def versions_key(versions: dict[str, Any]) -> str:
    """One hash of the versions a verdict depends on."""
    keyed = {name: versions.get(name) for name in KEYED}
    return hashlib.sha256(canonical_json(keyed).encode()).hexdigest()


@dataclass(frozen=True)
class PassResult:
    """What one pass did: checks examined, verdicts changed, of which flagged for an editor,
    and whether more checks were waiting beyond the batch."""

    examined: int
    changed: int
    flagged: int
    more: bool


def reverify_pass(*, limit: int | None = None) -> PassResult:
    """Re-examine up to ``limit`` (default ``AUTHCHECK_REVERIFY_BATCH``) finished checks whose
    versions key is not the current one. Safe to run twice and concurrently."""
    limit = limit or settings.AUTHCHECK_REVERIFY_BATCH
    versions = versions_current(trust_config_current().version)
    key = versions_key(versions)
    ids = list(
        Check.objects.filter(status=CheckStatus.DONE, media__isnull=False)
        .exclude(reverified_key=key)
        .order_by("pk")
        .values_list("pk", flat=True)[: limit + 1]
    )
    outcomes = [_reverify_guarded(pk, versions, key) for pk in ids[:limit]]
    return PassResult(
        examined=len(outcomes),
        changed=sum(o in ("changed", "flagged") for o in outcomes),
        flagged=outcomes.count("flagged"),
        more=len(ids) > limit,
    )


def _reverify_guarded(check_id: int, versions: dict[str, Any], key: str) -> str:
    """One check; a failure is logged and the check set aside under this key, so one bad media
    cannot stall every later pass at the head of the queue."""
    try:
        return check_reverify(check_id, versions, key)
    except Exception:
        log.exception(
            "re-verification of check %s failed; set aside until versions change", check_id
        )
        _mark(check_id, key)
        return "error"


def check_reverify(check_id: int, versions: dict[str, Any], key: str) -> str:
    """Re-examine one check under ``versions``; returns current, unchanged, changed, flagged
    or skipped."""
    check = Check.objects.select_related("media", "submitter").get(pk=check_id)
    old = verdict_automated_of(verdicts_of(check))
    if check.media is None or old is None or old.label == VerdictLabel.ERROR:
        _mark(check_id, key)
        return "skipped"
    if versions_key(old.versions or {}) == key:
        _mark(check_id, key)
        return "current"
    decision, report, signals = decision_current(check.media, versions)
    return _record(check, old, decision, versions, key, report, signals)


def _mark(check_id: int, key: str) -> None:
    Check.objects.filter(pk=check_id).update(reverified_key=key)


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changed = {
        name: {"from": old.get(name), "to": new.get(name)}
        for name in ("trust", "c2pa_sdk", "rules")
        if old.get(name) != new.get(name)
    }
    old_detectors, new_detectors = old.get("detectors") or {}, new.get("detectors") or {}
    for name in sorted(set(old_detectors) | set(new_detectors)):
        if old_detectors.get(name) != new_detectors.get(name):
            changed[f"detector:{name}"] = {
                "from": old_detectors.get(name),
                "to": new_detectors.get(name),
            }
    return changed


def _old_state(check: Check, old: Verdict) -> str | None:
    versions = old.versions or {}
    report, _ = evidence_pick(
        check.media,  # type: ignore[arg-type]  # checked by the caller
        trust=str(versions.get("trust", "")),
        sdk=str(versions.get("c2pa_sdk", "")),
        detectors={},
    )
    return report.state if report else None


def _cause(
    check: Check, old: Verdict, decision: Decision, versions: dict[str, Any], report: Any
) -> dict[str, Any]:
    changed = _changes(old.versions or {}, versions)
    why = [REASONS[name] for name in REASONS if name in changed]
    why += [f"detector {name[9:]} changed version" for name in changed if name[:9] == "detector:"]
    new_state = report.state if report else None
    old_state = _old_state(check, old)
    summary = "; ".join(why) or "the versions changed"
    if old_state != new_state:
        summary += f": the C2PA state was {old_state}, now {new_state}"
    return {
        "changed": changed,
        "reason": f"Re-verified because {summary}. The verdict went from {old.label} "
        f"({old.rule}) to {decision.label} ({decision.rule}).",
        "previous": {"verdict_id": old.pk, "label": old.label, "rule": old.rule},
        "provenance_state": {"from": old_state, "to": new_state},
    }


def _record(
    check: Check,
    old: Verdict,
    decision: Decision,
    versions: dict[str, Any],
    key: str,
    report: ProvenanceReport | None,
    signals: tuple[Signal, ...],
) -> str:
    """Record the re-examination of one check (a new verdict only if its conclusion changed)."""
    try:
        with transaction.atomic():
            locked = Check.objects.select_for_update().get(pk=check.pk)
            if locked.reverified_key == key:
                return "current"  # another pass got here first
            if (decision.label, decision.rule) == (old.label, old.rule):
                _mark(check.pk, key)
                return "unchanged"
            new = Verdict.objects.create(
                check_ref=check,
                label=decision.label,
                summary=decision.summary,
                rule=decision.rule,
                versions=versions,
                replaces=old,
                cause=_cause(check, old, decision, versions, report),
            )
            reviewers = set(
                Verdict.objects.filter(check_ref=check, author__isnull=False).values_list(
                    "author_id", flat=True
                )
            )
            _changed_record(check, old, new, report, signals, flagged=bool(reviewers))
            _changed_emit(check, old, new, reviewers, flagged=bool(reviewers))
            Check.objects.filter(pk=check.pk).update(
                reverified_key=key, **({"review_needed_at": timezone.now()} if reviewers else {})
            )
    except IntegrityError:
        log.info("the automated verdict of check %s was already replaced", check.pk)
        return "current"
    return "flagged" if reviewers else "changed"


def _changed_record(
    check: Check,
    old: Verdict,
    new: Verdict,
    report: ProvenanceReport | None,
    signals: tuple[Signal, ...],
    *,
    flagged: bool,
) -> None:
    audit_record(
        actor="system",
        action="verdict.changed",
        object_type="verdict",
        object_id=new.pk,
        check_id=check.pk,
        data={
            "replaces": old.pk,
            "from": {"label": old.label, "rule": old.rule},
            "to": {"label": new.label, "rule": new.rule},
            "cause": new.cause,
            "versions": new.versions,
            **evidence_audit_data(check, report, signals),
            "review_needed": flagged,
            "verdict_sha256": verdict_digest(new),
        },
    )


def _changed_emit(
    check: Check, old: Verdict, new: Verdict, reviewers: set[int], *, flagged: bool
) -> None:
    event_emit(
        check=check,
        event=WebhookEvent.VERDICT_CHANGED,
        event_id=f"verdict.changed:{new.pk}",
        owners={check.submitter_id} | reviewers,
        data={
            "check_id": check.pk,
            "previous": {"id": old.pk, "label": old.label, "rule": old.rule},
            "verdict": {"id": new.pk, "label": new.label, "rule": new.rule, "summary": new.summary},
            "cause": new.cause,
            "review_needed": flagged,
            "links": {"self": f"/api/v1/checks/{check.pk}"},
        },
    )
