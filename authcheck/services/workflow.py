"""The newsroom's work on a check: assignment, review state, comments and decisions.

A check moves ``new -> in review -> decided``. Every action is audited in its transaction.
With ``AUTHCHECK_REVIEW_SIGNOFF=2`` a decision is first a PendingDecision and becomes a verdict
(through ``services.reviews.review_record``) only when a second editor confirms it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authcheck.errors import AuthcheckError
from authcheck.models import Check, ReviewDecision, Role, User, Verdict
from authcheck.services.audit import actor_of, audit_record
from authcheck.services.reviews import review_record
from dashboard.models import CheckWorkflow, Comment, PendingDecision, ReviewState

COMMENT_MAX_CHARS = 10_000


def _is_editor(user: User) -> bool:
    return user.is_active and user.role in {Role.EDITOR, Role.ADMIN}


def _require_editor(user: User) -> None:
    if not _is_editor(user):
        raise AuthcheckError("only editors do this", code="permission_denied", status=403)


def _workflow_locked(check: Check) -> CheckWorkflow:
    """The check's workflow row, created on first use, locked for this transaction."""
    CheckWorkflow.objects.get_or_create(check_ref_id=check.pk)
    return CheckWorkflow.objects.select_for_update().get(check_ref_id=check.pk)


def workflow_assign(*, check: Check, actor: User, assignee: User | None) -> CheckWorkflow:
    """Assign a check to an editor (``assignee=actor`` is taking it; None unassigns)."""
    _require_editor(actor)
    if assignee is not None and not _is_editor(assignee):
        raise AuthcheckError("checks are assigned to editors", code="invalid_assignee")
    with transaction.atomic():
        workflow = _workflow_locked(check)
        previous = workflow.assignee.username if workflow.assignee else None
        workflow.assignee = assignee
        if assignee is not None and workflow.state == ReviewState.NEW:
            workflow.state = ReviewState.IN_REVIEW
        workflow.save()
        audit_record(
            actor=actor_of(actor),
            action="workflow.assigned",
            object_type="check",
            object_id=check.pk,
            check_id=check.pk,
            data={
                "from": previous,
                "to": assignee.username if assignee else None,
                "state": workflow.state,
            },
        )
    return workflow


def workflow_state_set(*, check: Check, actor: User, state: str) -> CheckWorkflow:
    """Move a check between ``new`` and ``in_review``; ``decided`` comes only from a decision."""
    _require_editor(actor)
    if state not in {ReviewState.NEW, ReviewState.IN_REVIEW}:
        raise AuthcheckError("state must be new or in_review", code="invalid_state")
    with transaction.atomic():
        workflow = _workflow_locked(check)
        previous = workflow.state
        workflow.state = state
        workflow.save()
        audit_record(
            actor=actor_of(actor),
            action="workflow.state_changed",
            object_type="check",
            object_id=check.pk,
            check_id=check.pk,
            data={"from": previous, "to": state},
        )
    return workflow


def comment_add(*, check: Check, author: User, body: str) -> Comment:
    """Add a comment. Callers pass a check the author may see (editors, or its submitter)."""
    if not (_is_editor(author) or (author.is_active and check.submitter_id == author.pk)):
        raise AuthcheckError("you may not comment here", code="permission_denied", status=403)
    body = body.replace("\x00", "").strip()
    if not body:
        raise AuthcheckError("a comment needs some text", code="comment_empty")
    with transaction.atomic():
        comment = Comment.objects.create(
            check_ref=check, author=author, body=body[:COMMENT_MAX_CHARS]
        )
        audit_record(
            actor=actor_of(author),
            action="comment.added",
            object_type="comment",
            object_id=comment.pk,
            check_id=check.pk,
            data={"body": comment.body},
        )
    return comment


def _mark_decided(check: Check) -> None:
    workflow = _workflow_locked(check)
    workflow.state = ReviewState.DECIDED
    workflow.save()


def decision_submit(
    *, check: Check, user: User, decision: str, note: str
) -> Verdict | PendingDecision:
    """Record a decision: a verdict at once, or a pending one when a sign-off is required."""
    _require_editor(user)
    if settings.AUTHCHECK_REVIEW_SIGNOFF < 2:
        with transaction.atomic():
            verdict = review_record(check=check, user=user, decision=decision, note=note)
            _mark_decided(check)
        return verdict
    if decision not in ReviewDecision.values:
        raise AuthcheckError("unknown decision", code="invalid_decision")
    note = note.replace("\x00", "").strip()
    if not note:
        raise AuthcheckError(
            "a decision needs a note saying on which evidence it rests", code="note_required"
        )
    with transaction.atomic():
        workflow = _workflow_locked(check)
        if PendingDecision.objects.filter(check_ref=check, closed_at__isnull=True).exists():
            raise AuthcheckError(
                "a decision is already awaiting sign-off", code="signoff_pending", status=409
            )
        pending = PendingDecision.objects.create(
            check_ref=check, decision=decision, note=note[:10000], proposer=user
        )
        workflow.state = ReviewState.IN_REVIEW
        workflow.save()
        audit_record(
            actor=actor_of(user),
            action="decision.proposed",
            object_type="pending_decision",
            object_id=pending.pk,
            check_id=check.pk,
            data={"decision": decision, "note": pending.note},
        )
    return pending


def decision_confirm(*, pending: PendingDecision, user: User) -> Verdict:
    """A second editor confirms a pending decision: it becomes the proposer's verdict."""
    _require_editor(user)
    with transaction.atomic():
        locked = PendingDecision.objects.select_for_update().get(pk=pending.pk)
        if locked.closed_at is not None:
            raise AuthcheckError("this decision is closed", code="signoff_closed", status=409)
        if locked.proposer_id == user.pk:
            raise AuthcheckError(
                "a second editor must confirm your decision", code="signoff_self", status=403
            )
        note = f"{locked.note}\n\nSigned off by {user.username}."
        verdict = review_record(
            check=locked.check_ref, user=locked.proposer, decision=locked.decision, note=note
        )
        locked.confirmed_by, locked.closed_at, locked.verdict = user, timezone.now(), verdict
        locked.save()
        _mark_decided(locked.check_ref)
        audit_record(
            actor=actor_of(user),
            action="decision.signed_off",
            object_type="pending_decision",
            object_id=locked.pk,
            check_id=locked.check_ref_id,
            data={"decision": locked.decision, "verdict": verdict.pk},
        )
    return verdict


def decision_withdraw(*, pending: PendingDecision, user: User) -> PendingDecision:
    """Drop a pending decision (its proposer, or an editor rejecting it), audited."""
    _require_editor(user)
    with transaction.atomic():
        locked = PendingDecision.objects.select_for_update().get(pk=pending.pk)
        if locked.closed_at is not None:
            raise AuthcheckError("this decision is closed", code="signoff_closed", status=409)
        locked.closed_at = timezone.now()
        locked.save()
        audit_record(
            actor=actor_of(user),
            action="decision.withdrawn",
            object_type="pending_decision",
            object_id=locked.pk,
            check_id=locked.check_ref_id,
            data={"decision": locked.decision, "proposer": locked.proposer.username},
        )
    return locked
