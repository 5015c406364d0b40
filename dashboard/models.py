"""Review workflow state kept beside a check: assignment, review state, comments, sign-off.

Only ``authcheck.services.workflow`` and ``authcheck.services.people`` write these rows, each
change with its audit event in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from authcheck.models import Check, ReviewDecision, Verdict


class ReviewState(models.TextChoices):
    NEW = "new", "New"
    IN_REVIEW = "in_review", "In review"
    DECIDED = "decided", "Decided"


class CheckWorkflow(models.Model):
    """Who works on a check and how far the newsroom got; no row means new and unassigned."""

    check_ref = models.OneToOneField(
        Check,
        on_delete=models.CASCADE,
        related_name="workflow",
        db_column="check_id",
        primary_key=True,
    )
    state = models.CharField(
        max_length=12, choices=ReviewState.choices, default=ReviewState.NEW, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_checks",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"workflow of check #{self.check_ref_id}: {self.state}"


class Comment(models.Model):
    """One message in a check's thread. Append-only."""

    check_ref = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="comments", db_column="check_id"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on check #{self.check_ref_id}"


class PendingDecision(models.Model):
    """A decision waiting for a second editor (AUTHCHECK_REVIEW_SIGNOFF=2).

    It becomes a Verdict only when another editor confirms it; until then the automated verdict
    stays current and the queue says "awaiting sign-off".
    """

    check_ref = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="pending_decisions", db_column="check_id"
    )
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    note = models.TextField()
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    verdict = models.OneToOneField(
        Verdict, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["check_ref"],
                condition=Q(closed_at__isnull=True),
                name="uniq_open_decision_per_check",
            ),
        ]

    def __str__(self) -> str:
        return f"pending {self.decision} on check #{self.check_ref_id}"


class LoginFailure(models.Model):
    """A failed dashboard login, counted per username and per client address for throttling.

    Kept in the database (not a per-process cache) so every gunicorn worker counts the same.
    """

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"failed login for {self.username} from {self.address}"
