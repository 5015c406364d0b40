"""Reviewer decisions: a new verdict row that supersedes the current one, never an edit."""

from __future__ import annotations

from django.db import transaction

from authcheck.errors import AuthcheckError
from authcheck.models import Check, ReviewDecision, Role, User, Verdict
from authcheck.selectors import verdict_current
from authcheck.services.audit import actor_of, audit_record, verdict_digest


def review_record(*, check: Check, user: User, decision: str, note: str) -> Verdict:
    """Record an editor's decision on a check, audited in the same transaction."""
    if user.role not in {Role.EDITOR, Role.ADMIN}:
        raise AuthcheckError("only editors record decisions", code="permission_denied", status=403)
    if decision not in ReviewDecision.values:
        raise AuthcheckError(
            f"decision must be one of {', '.join(ReviewDecision.values)}", code="invalid_decision"
        )
    note = note.replace("\x00", "").strip()
    if not note:
        raise AuthcheckError(
            "a decision needs a note saying on which evidence it rests", code="note_required"
        )
    with transaction.atomic():
        locked = Check.objects.select_for_update().get(pk=check.pk)
        current = verdict_current(locked)
        verdict = Verdict.objects.create(
            check_ref=locked,
            decision=decision,
            note=note[:10000],
            author=user,
            summary=f"Reviewed by {user.username}: {decision}.",
            rule="review",
            versions=current.versions if current else {},
            supersedes=current,
        )
        # The editor has decided again: a re-verification flag is answered.
        Check.objects.filter(pk=locked.pk).update(review_needed_at=None)
        audit_record(
            actor=actor_of(user),
            action="review.recorded",
            object_type="verdict",
            object_id=verdict.pk,
            check_id=check.pk,
            data={
                "decision": decision,
                "note": verdict.note,
                "supersedes": current.pk if current else None,
                "verdict_sha256": verdict_digest(verdict),
            },
        )
    return verdict
