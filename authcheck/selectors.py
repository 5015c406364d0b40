"""The read side: querysets for the API, the dashboard and the command line.

Helpers that take a check read its related rows through ``check.verdicts.all()`` and
``media.<related>.all()``, so a queryset passed through ``checks_with_evidence`` answers them
from its prefetch (a constant number of queries per page); without it each helper queries.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)

from authcheck import storage
from authcheck.models import (
    Check,
    CheckStatus,
    DetectorRun,
    Media,
    ProvenanceReport,
    ReferenceItem,
    RunState,
    Signal,
    User,
    Verdict,
    VerdictLabel,
    Webhook,
    WebhookDelivery,
)
from authcheck.pipeline import absence
from authcheck.pipeline.verdict import INDICATOR_LABELS

UNFINISHED_RUNS = (RunState.PENDING, RunState.RUNNING)

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


def checks_with_evidence(checks: QuerySet[Check]) -> QuerySet[Check]:
    """Prefetch what ``check_evidence`` and the presenters read, whatever the page size."""
    return checks.select_related("media", "submitter").prefetch_related(
        "stages",
        Prefetch("verdicts", queryset=Verdict.objects.select_related("author").order_by("-id")),
        Prefetch(
            "media__provenance_reports", queryset=ProvenanceReport.objects.defer("raw_manifest")
        ),
        Prefetch("media__signals", queryset=Signal.objects.order_by("detector", "-id")),
        Prefetch(
            "media__detector_runs",
            queryset=DetectorRun.objects.filter(state__in=UNFINISHED_RUNS).order_by("detector"),
        ),
    )


def check_get_for(user: User, check_id: int) -> Check:
    """One check if the user may see it; raises Check.DoesNotExist otherwise (a 404, not 403)."""
    return checks_with_evidence(checks_visible_to(user)).get(pk=check_id)


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
    """Every verdict of a check, newest first (from the prefetch when there is one)."""
    return sorted(check.verdicts.all(), key=lambda v: -v.pk)


def verdict_automated_of(history: list[Verdict]) -> Verdict | None:
    """The automated verdict among a check's verdicts (there is at most one)."""
    return next((v for v in history if v.author_id is None), None)


@dataclass(frozen=True)
class CheckEvidence:
    """What a check's verdict rests on, and the detector work still under way.

    ``report`` and ``signals`` are exactly those of the automated verdict's recorded versions
    (trust configuration hash, SDK version, detector versions); a check without a verdict has
    none yet, and its unfinished detector runs are ``progress``, never evidence.
    """

    report: ProvenanceReport | None
    signals: tuple[Signal, ...]
    progress: tuple[DetectorRun, ...]
    similar: tuple[dict[str, Any], ...]


def evidence_pick(
    media: Media, *, trust: str, sdk: str, detectors: Mapping[str, str]
) -> tuple[ProvenanceReport | None, tuple[Signal, ...]]:
    """The media's report under ``trust``/``sdk`` and its signals of exactly those detector
    versions. Used when a verdict is issued and whenever its evidence is shown, so both agree.
    Reads ``media.provenance_reports`` and ``media.signals`` (prefetched or one query each)."""
    report = next(
        (
            r
            for r in media.provenance_reports.all()
            if r.trust_version == trust and r.sdk_version == sdk
        ),
        None,
    )
    signals = sorted(
        (s for s in media.signals.all() if detectors.get(s.detector) == s.version),
        key=lambda s: s.detector,
    )
    return report, tuple(signals)


def check_evidence(check: Check) -> CheckEvidence:
    """The one evidence selector: the API, the CLI and the dashboard show what this returns."""
    media = check.media if check.media_id else None
    unfinished = check.status in {CheckStatus.QUEUED, CheckStatus.RUNNING}
    progress = (
        tuple(r for r in media.detector_runs.all() if r.state in UNFINISHED_RUNS)
        if media is not None and unfinished
        else ()
    )
    similar = tuple(check.similar or ())
    verdict = verdict_automated_of(verdicts_of(check))
    if media is None or verdict is None or verdict.label == VerdictLabel.ERROR:
        return CheckEvidence(report=None, signals=(), progress=progress, similar=similar)
    versions = verdict.versions or {}
    report, signals = evidence_pick(
        media,
        trust=str(versions.get("trust", "")),
        sdk=str(versions.get("c2pa_sdk", "")),
        detectors=versions.get("detectors") or {},
    )
    return CheckEvidence(report=report, signals=signals, progress=progress, similar=similar)


@dataclass(frozen=True)
class MediaEvidence:
    """What ``GET /media/{sha256}`` shows: one verdict, its check (if visible) and evidence."""

    verdict: Verdict | None
    check_id: int | None
    evidence: CheckEvidence | None


def media_evidence_for(user: User, media: Media) -> MediaEvidence:
    """The verdict shown with a media, computed once: that of the caller's newest visible
    finished check of it, else the automated verdict of its newest check (derived from the bytes
    alone: no check id, reviewer or note), each with the evidence it rests on."""
    visible = (
        checks_with_evidence(checks_visible_to(user).filter(media=media))
        .exclude(status=CheckStatus.QUEUED)
        .first()
    )
    if visible is not None:
        return MediaEvidence(verdict_current(visible), visible.pk, check_evidence(visible))
    newest = (
        checks_with_evidence(Check.objects.filter(media=media, verdicts__author__isnull=True))
        .order_by("-id")
        .first()
    )
    if newest is None:
        return MediaEvidence(None, None, None)
    return MediaEvidence(verdict_automated_of(verdicts_of(newest)), None, check_evidence(newest))


def media_by_sha(sha256: str) -> Media | None:
    """A known media by its SHA-256, or None."""
    return Media.objects.filter(sha256=sha256.lower()).first()


def webhooks_of(user: User) -> QuerySet[Webhook]:
    """A user's live webhooks (at most 20), newest first, with their token."""
    return (
        Webhook.objects.filter(owner=user, deleted_at__isnull=True)
        .select_related("token")
        .order_by("-pk")
    )


def deliveries_recent(webhook: Webhook, limit: int = 20) -> list[WebhookDelivery]:
    """The newest ``limit`` deliveries of a webhook (one query)."""
    return list(webhook.deliveries.order_by("-pk")[:limit])


def similar_visible_ids(user: User, similar: Iterable[Mapping[str, Any]]) -> frozenset[int]:
    """The earlier checks named by these matches that ``user`` may open. Pass the matches of a
    whole page at once: one query for a journalist (none for an editor, or without matches)."""
    ids = {int(m["check_id"]) for m in similar if m.get("check_id")}
    if not ids or user.sees_all_checks:
        return frozenset(ids)
    return frozenset(checks_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def similar_visible_to(
    user: User, similar: Sequence[Mapping[str, Any]], visible: Collection[int] | None = None
) -> list[dict[str, Any]]:
    """A check's similar-media matches as ``user`` may see them.

    A match on a check the user may not see keeps only that a match exists and how close it
    is (distance, matched frames): no check id, no media hash. Editors see every match.
    ``visible`` is ``similar_visible_ids`` computed once for a page; without it this queries
    once when there are matches to hide from a journalist.
    """
    if visible is None:
        visible = similar_visible_ids(user, similar)
    return [
        dict(m)
        # Reference-archive matches name the newsroom's own footage, never another user's check.
        if m.get("kind") == "reference" or m.get("check_id") in visible
        else {
            "check_id": None,
            "sha256": None,
            "distance": m.get("distance"),
            "matched_frames": list(m.get("matched_frames") or ()),
        }
        for m in similar
    ]


# --- "why no Content Credentials?" ----------------------------------------------------------


def _metadata_fields(media: Media) -> list[tuple[str, str, str]]:
    try:
        data = json.loads(storage.metadata_path(media).read_text())
        return [(str(s), str(k), str(v)) for s, k, v in data.get("fields") or []]
    except (OSError, ValueError, TypeError):
        return []


def _signed_matches(similar: Sequence[Mapping[str, Any]]) -> list[absence.SignedMatch]:
    """Matched earlier media whose newest report has intact credentials (valid or trusted)."""
    by_sha = {str(m.get("sha256")): m for m in similar if m.get("sha256")}
    if not by_sha:
        return []
    reports = (
        ProvenanceReport.objects.filter(
            media__sha256__in=list(by_sha), state__in=["trusted", "valid"]
        )
        .select_related("media")
        .order_by("-pk")
    )
    out: dict[str, absence.SignedMatch] = {}
    for report in reports[:50]:
        sha = report.media.sha256
        if sha in out:
            continue
        signer = ((report.report or {}).get("active_manifest") or {}).get("signer") or {}
        match = by_sha[sha]
        out[sha] = absence.SignedMatch(
            check_id=int(match.get("check_id") or 0),
            sha256=sha,
            distance=int(match.get("distance") or 0),
            state=report.state,
            signer=str(signer.get("common_name") or "an unnamed signer"),
            signed_at=str(signer.get("signing_time") or report.created_at.isoformat()),
        )
    return list(out.values())


def credentials_absence(
    check: Check, evidence: CheckEvidence, similar: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """What was tried and found when the media carries no embedded Content Credentials (None
    when it does, or before the check has a verdict). ``similar`` is the matches as the viewer
    may see them (``similar_visible_to``): a match hidden from them names no signer either.
    Queries once for the matched media's reports when there are visible matches."""
    report = evidence.report
    media = check.media if check.media_id else None
    if report is None or media is None:
        return None
    remote = (report.report or {}).get("error_code") == "c2pa_remote_manifest_required"
    if report.state != "absent" and not remote:
        return None
    signals = [
        {"detector": s.detector, "label": s.label, "evidence": s.evidence, "error": s.error}
        for s in evidence.signals
    ]
    return absence.explain(
        report.report or {},
        probe=media.probe,
        fields=_metadata_fields(media),
        signals=signals,
        matches=_signed_matches(similar),
        fired=frozenset(INDICATOR_LABELS),
    )


def reference_items(collection: str | None = None) -> list[ReferenceItem]:
    """Reference archive items (optionally of one collection), by collection then title."""
    items = ReferenceItem.objects.select_related("media").order_by("collection", "title", "pk")
    return list(items.filter(collection=collection) if collection else items)
