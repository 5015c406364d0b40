"""Filters of the check list: status, current verdict, submitter, creation date."""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django.db.models import Q, QuerySet

from authcheck.models import Check, CheckStatus, ReviewDecision, VerdictLabel
from authcheck.selectors import with_current_label

VERDICT_CHOICES = [*VerdictLabel.choices, *ReviewDecision.choices]
# Filters whose empty value means nothing (``submitter`` is free text and may be anything).
NON_EMPTY = ("status", "verdict", "created_after", "created_before")


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC, clamped to the datetime range.

    PostgreSQL refuses a UTC offset beyond +-15:59 (``time zone displacement out of range``),
    which ISO 8601 input may carry; and moving year 1 or 9999 by an offset overflows. Clamping
    keeps the meaning: nothing was created before year 1 or after year 9999.
    """
    try:
        return value.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if value.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=UTC)


class UtcDateTimeFilter(django_filters.DateTimeFilter):
    """A date-time filter that queries with the value converted to UTC."""

    def filter(self, qs: QuerySet[Check], value: datetime | None) -> QuerySet[Check]:
        """Filter on the UTC form of ``value`` (no filter when absent)."""
        return super().filter(qs, as_utc(value) if value is not None else value)


class CheckFilter(django_filters.FilterSet):
    """Query parameters of ``GET /api/v1/checks``; an unknown value is a 400, never ignored."""

    status = django_filters.ChoiceFilter(choices=CheckStatus.choices, help_text="check status")
    verdict = django_filters.ChoiceFilter(
        choices=VERDICT_CHOICES,
        method="filter_verdict",
        help_text="current verdict: an automated label or a reviewer's decision",
    )
    submitter = django_filters.CharFilter(
        field_name="submitter__username", help_text="user name of the submitter"
    )
    created_after = UtcDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="ISO 8601 date or date-time (UTC when no offset): created at or after",
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="ISO 8601 date or date-time (UTC when no offset): created strictly before",
    )

    class Meta:
        model = Check
        fields = ["status", "verdict", "submitter", "created_after", "created_before"]

    def is_valid(self) -> bool:
        """Also refuse an empty status, verdict or date: ``?status=`` is a client bug that would
        otherwise silently widen the list to every status."""
        valid = super().is_valid()
        for name in NON_EMPTY:
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if "" in values:
                self.form.add_error(name, "must not be empty")
                valid = False
        return valid

    def filter_verdict(self, queryset: QuerySet[Check], name: str, value: str) -> QuerySet[Check]:
        """Match the current verdict: a reviewer's decision outranks the automated label."""
        annotated = with_current_label(queryset)
        return annotated.filter(Q(current_decision=value) | Q(current_label=value))
