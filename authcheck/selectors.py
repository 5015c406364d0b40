"""The read side: querysets for the API, the dashboard and the command line."""

from __future__ import annotations

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When

from authcheck.models import Check, Media, ProvenanceReport, Signal, User, Verdict

# A reviewer's decision outranks the automated verdict, even one that arrived later.
_REVIEWS_FIRST = Case(
    When(author__isnull=False, then=Value(0)), default=Value(1), output_field=IntegerField()
)


def checks_visible_to(user: User) -> QuerySet[Check]:
    """Checks a user may see: editors and admins all, everyone else only their own."""
    base = Check.objects.select_related("media", "submitter").order_by("-created_at", "-id")
    if not user.is_active or not user.role:
        return base.none()
    if user.sees_all_checks:
        return base
    return base.filter(submitter=user)


def with_current_label(checks: QuerySet[Check]) -> QuerySet[Check]:
    """Annotate each check with the label/decision of its newest verdict (for filtering)."""
    newest = Verdict.objects.filter(check_ref=OuterRef("pk")).order_by(_REVIEWS_FIRST, "-id")
    return checks.annotate(
        current_label=Subquery(newest.values("label")[:1]),
        current_decision=Subquery(newest.values("decision")[:1]),
    )


def check_get_for(user: User, check_id: int) -> Check:
    """One check if the user may see it; raises Check.DoesNotExist otherwise (a 404, not 403)."""
    return checks_visible_to(user).select_related("media", "submitter").get(pk=check_id)


def verdict_current(check: Check) -> Verdict | None:
    """The current verdict: the newest reviewer decision, else the automated verdict."""
    return verdict_current_of(verdicts_of(check))


def verdict_current_of(history: list[Verdict]) -> Verdict | None:
    """``verdict_current`` over an already fetched ``verdicts_of`` list (newest first), for
    callers that show the history too. ``with_current_label`` ranks the same way in SQL."""
    reviews = [v for v in history if v.author_id is not None]
    ranked = reviews or history
    return ranked[0] if ranked else None


def verdicts_of(check: Check) -> list[Verdict]:
    """Every verdict of a check, newest first."""
    return list(Verdict.objects.filter(check_ref=check).select_related("author").order_by("-id"))


def report_latest(media: Media) -> ProvenanceReport | None:
    """The newest C2PA report of a media."""
    return ProvenanceReport.objects.filter(media=media).order_by("-id").first()


def signals_of(media: Media) -> list[Signal]:
    """Every stored signal of a media, newest detector versions first."""
    return list(Signal.objects.filter(media=media).order_by("detector", "-id"))


def media_by_sha(sha256: str) -> Media | None:
    """A known media by its SHA-256, or None."""
    return Media.objects.filter(sha256=sha256.lower()).first()


def check_latest_for_media(media: Media) -> Check | None:
    """The newest finished check of a media."""
    return Check.objects.filter(media=media).exclude(status="queued").order_by("-id").first()
