"""The dashboard's read side: the queue (filters, search, keyset pages), a check's evidence for
the detail page, keyframes, the audit timeline and the stats.

Every function starts from ``selectors.checks_visible_to``: what a user may not see is never
read. Docstrings say how many queries a helper runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from authcheck import selectors
from authcheck.models import AuditEvent, Check, CheckStage, CheckStatus, MediaKind, User
from authcheck.storage import frames_path
from dashboard.models import Comment, PendingDecision

PAGE_SIZE = 50
SORTS = ("newest", "oldest")
SHA_PREFIX = re.compile(r"^[0-9a-fA-F]{6,64}$")


@dataclass(frozen=True)
class QueueFilters:
    """The queue view as the URL states it, so a view can be bookmarked and shared."""

    status: str = ""
    verdict: str = ""
    reviewed: str = ""  # "yes" | "no" | "signoff" | ""
    assignee: str = ""  # a username, "me" or "none"
    submitter: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""
    sort: str = "newest"
    after: int | None = None  # keyset cursor: the last id of the previous page

    @classmethod
    def from_query(cls, query: Any) -> QueueFilters:
        """Parse a QueryDict; unknown or malformed values are dropped, never an error."""
        sort = query.get("sort", "newest")
        return cls(
            status=_choice(query.get("status", ""), CheckStatus.values),
            verdict=query.get("verdict", "").strip()[:40],
            reviewed=_choice(query.get("reviewed", ""), ["yes", "no", "signoff"]),
            assignee=query.get("assignee", "").strip()[:150],
            submitter=query.get("submitter", "").strip()[:150],
            kind=_choice(query.get("kind", ""), MediaKind.values),
            since=_date(query.get("since", "")),
            until=_date(query.get("until", "")),
            q=query.get("q", "").strip()[:200],
            sort=sort if sort in SORTS else "newest",
            after=_positive_int(query.get("after", "")),
        )

    def as_query(self, **changes: Any) -> dict[str, str]:
        """The non-empty parameters (with ``changes``), for links that keep the view."""
        data = replace(self, **changes)
        pairs = {
            "status": data.status,
            "verdict": data.verdict,
            "reviewed": data.reviewed,
            "assignee": data.assignee,
            "submitter": data.submitter,
            "kind": data.kind,
            "since": data.since.isoformat() if data.since else "",
            "until": data.until.isoformat() if data.until else "",
            "q": data.q,
            "sort": data.sort if data.sort != "newest" else "",
            "after": str(data.after) if data.after else "",
        }
        return {k: v for k, v in pairs.items() if v}


def _choice(value: str, allowed: Any) -> str:
    return value if value in allowed else ""


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _positive_int(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**63 else None


@dataclass
class QueuePage:
    """One page of queue rows and the cursor of the next page (None on the last)."""

    rows: list[Check]
    next_after: int | None
    progress: dict[int, dict[str, Any]] = field(default_factory=dict)


def _pending_signoff() -> Exists:
    return Exists(PendingDecision.objects.filter(check_ref=OuterRef("pk"), closed_at__isnull=True))


def queue_queryset(user: User, filters: QueueFilters) -> QuerySet[Check]:
    """The visible checks matching the filters, annotated for display, in page order."""
    checks = selectors.with_current_label(selectors.checks_visible_to(user))
    checks = checks.select_related("workflow__assignee").annotate(awaiting=_pending_signoff())
    checks = _filtered(checks, user, filters)
    return checks.order_by("id" if filters.sort == "oldest" else "-id")


def _filtered(checks: QuerySet[Any], user: User, f: QueueFilters) -> QuerySet[Any]:
    if f.status:
        checks = checks.filter(status=f.status)
    if f.verdict:
        checks = checks.filter(Q(current_label=f.verdict) | Q(current_decision=f.verdict))
    if f.reviewed == "yes":
        checks = checks.filter(current_decision__gt="")
    elif f.reviewed == "no":
        checks = checks.filter(Q(current_decision="") | Q(current_decision__isnull=True))
    elif f.reviewed == "signoff":
        checks = checks.filter(awaiting=True)
    checks = _by_people(checks, user, f)
    if f.kind:
        checks = checks.filter(media__kind=f.kind)
    if f.since:
        checks = checks.filter(created_at__gte=_day_start(f.since))
    if f.until:
        checks = checks.filter(created_at__lt=_day_start(f.until) + timedelta(days=1))
    return _searched(checks, f.q) if f.q else checks


def _by_people(checks: QuerySet[Check], user: User, f: QueueFilters) -> QuerySet[Check]:
    if f.assignee == "none":
        checks = checks.filter(Q(workflow__isnull=True) | Q(workflow__assignee__isnull=True))
    elif f.assignee == "me":
        checks = checks.filter(workflow__assignee=user)
    elif f.assignee:
        checks = checks.filter(workflow__assignee__username=f.assignee)
    if f.submitter:
        checks = checks.filter(submitter__username=f.submitter)
    return checks


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _searched(checks: QuerySet[Check], q: str) -> QuerySet[Check]:
    """Search URL, page URL, note and file name; a hex string also matches a SHA-256 prefix."""
    match = (
        Q(source_url__icontains=q)
        | Q(page_url__icontains=q)
        | Q(note__icontains=q)
        | Q(original_filename__icontains=q)
    )
    if SHA_PREFIX.match(q):
        match |= Q(media__sha256__startswith=q.lower())
    if q.lstrip("#").isdigit():
        match |= Q(pk=int(q.lstrip("#")))
    return checks.filter(match)


def queue_page(user: User, filters: QueueFilters, size: int = PAGE_SIZE) -> QueuePage:
    """One keyset page (two queries, three when rows are running): rows after the cursor."""
    checks = queue_queryset(user, filters)
    if filters.after:
        op = "gt" if filters.sort == "oldest" else "lt"
        checks = checks.filter(**{f"pk__{op}": filters.after})
    rows = list(checks[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    page = QueuePage(rows=rows, next_after=rows[-1].pk if more and rows else None)
    page.progress = stage_progress([c.pk for c in rows if c.status == CheckStatus.RUNNING])
    return page


def queue_row(user: User, check_id: int) -> tuple[Check, dict[int, dict[str, Any]]]:
    """One row of the queue for live updates (Check.DoesNotExist if not visible)."""
    check = queue_queryset(user, QueueFilters()).get(pk=check_id)
    return check, stage_progress([check.pk]) if check.status == CheckStatus.RUNNING else {}


def stage_progress(check_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per running check: stages finished, total, and the one running now (one query)."""
    progress: dict[int, dict[str, Any]] = {}
    if not check_ids:
        return progress
    for stage in CheckStage.objects.filter(check_ref_id__in=check_ids).order_by("position"):
        entry = progress.setdefault(stage.check_ref_id, {"done": 0, "total": 0, "current": ""})
        entry["total"] += 1
        if stage.state in {"done", "skipped", "failed"}:
            entry["done"] += 1
        elif stage.state == "running" and not entry["current"]:
            entry["current"] = stage.name
    return progress


# --- a check's detail -------------------------------------------------------------------------


def comments_of(check: Check) -> list[Comment]:
    """The comment thread of a check, oldest first (one query)."""
    return list(Comment.objects.filter(check_ref=check).select_related("author"))


def pending_decision_of(check: Check) -> PendingDecision | None:
    """The decision awaiting sign-off, if any (one query)."""
    return (
        PendingDecision.objects.filter(check_ref=check, closed_at__isnull=True)
        .select_related("proposer")
        .first()
    )


def audit_timeline(check: Check) -> list[dict[str, Any]]:
    """The check's audit events, oldest first, with their data decoded (one query)."""
    events = []
    for event in AuditEvent.objects.filter(check_id=check.pk).order_by("seq"):
        body = json.loads(event.body)
        events.append(
            {
                "seq": event.seq,
                "at": event.created_at,
                "actor": event.actor,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "data": body.get("data", {}) if isinstance(body, dict) else {},
                "hash": event.hash,
            }
        )
    return events


def keyframes_of(check: Check) -> list[dict[str, Any]]:
    """Index and timestamp of each sampled frame cached for the check's media (reads a file)."""
    if not check.media_id or check.media is None:
        return []
    path = frames_path(check.media)
    if not path.exists():
        return []
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
    return [
        {"position": i, "index": m["index"], "timestamp": m["timestamp"], "keyframe": m["keyframe"]}
        for i, m in enumerate(meta)
    ]


def keyframe_jpeg(check: Check, position: int) -> bytes | None:
    """The JPEG thumbnail of one sampled frame, re-encoded by the pipeline (reads a file)."""
    if not check.media_id or check.media is None:
        return None
    path = frames_path(check.media)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        key = f"thumb{position}"
        return bytes(data[key].tobytes()) if key in data.files else None


# --- stats ------------------------------------------------------------------------------------

FIRING_LABELS = frozenset({"indicator_high", "ai_declared", "watermark_found"})
STATS_SAMPLE = 50_000  # stage durations read per stats page at most


def _quantiles(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {
        "n": int(arr.size),
        "median": float(np.median(arr)),
        "p95": float(np.percentile(arr, 95)),
    }


def stats_for(user: User, days: int = 30) -> dict[str, Any]:
    """Volumes, verdict mix, stage latencies, reviewer throughput and detector firing rates of
    the checks the user may see over the last ``days`` days (five queries)."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from authcheck.models import Signal, Verdict

    since = timezone.now() - timedelta(days=days)
    visible = selectors.checks_visible_to(user).filter(created_at__gte=since).order_by()
    per_day = list(
        visible.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id"))
        .order_by("day")
    )  # fmt: skip
    verdicts = Verdict.objects.filter(check_ref__in=visible.values("pk"))
    mix = list(
        verdicts.filter(author__isnull=True).values("label").annotate(n=Count("id"))
        .order_by("-n")
    )  # fmt: skip
    return {
        "days": days,
        "per_day": per_day,
        "total": sum(d["n"] for d in per_day),
        "verdict_mix": mix,
        "stages": _stage_latency(visible),
        "reviewers": _reviewers(verdicts.filter(author__isnull=False)),
        "detectors": _detector_rates(
            Signal.objects.filter(media_id__in=visible.values("media_id")).exclude(label="pending")
        ),
    }


def _stage_latency(visible: QuerySet[Check]) -> list[dict[str, Any]]:
    durations: dict[str, list[float]] = {}
    rows = CheckStage.objects.filter(
        check_ref__in=visible.values("pk"), duration_ms__isnull=False
    ).values_list("name", "duration_ms")[:STATS_SAMPLE]
    for name, ms in rows:
        if ms is not None:
            durations.setdefault(name, []).append(ms)
    return [{"name": name, **_quantiles(values)} for name, values in durations.items()]


def _reviewers(reviews: QuerySet[Any]) -> list[dict[str, Any]]:
    per: dict[str, list[float]] = {}
    for name, decided, created in reviews.values_list(
        "author__username", "created_at", "check_ref__created_at"
    )[:STATS_SAMPLE]:
        per.setdefault(name, []).append((decided - created).total_seconds() / 3600)
    return sorted(
        ({"name": name, **_quantiles(hours)} for name, hours in per.items()),
        key=lambda r: -r["n"],
    )


def _detector_rates(signals: QuerySet[Any]) -> list[dict[str, Any]]:
    counts: dict[str, list[int]] = {}
    for detector, label in signals.values_list("detector", "label")[:STATS_SAMPLE]:
        entry = counts.setdefault(detector, [0, 0])
        entry[0] += 1
        entry[1] += label in FIRING_LABELS
    return [
        {"name": name, "n": n, "fired": fired, "rate": fired / n if n else 0.0}
        for name, (n, fired) in sorted(counts.items())
    ]


# --- administration ---------------------------------------------------------------------------


def _organisation(pem: str) -> str:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return ""
    names = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    return str(names[0].value) if names else ""


def trust_anchors_with_counts() -> list[dict[str, Any]]:
    """Every managed anchor with the automated verdicts resting on it: verdicts of media whose
    C2PA report is ``trusted`` and names the anchor's organisation as the signer's issuer
    (c2pa reports the issuer's organisation; a chain through an intermediate is not counted).
    Two queries per anchor."""
    from authcheck.models import ProvenanceReport, TrustAnchor, Verdict

    anchors = []
    for anchor in TrustAnchor.objects.select_related("created_by").order_by("-enabled", "name"):
        org = _organisation(anchor.pem)
        media = ProvenanceReport.objects.filter(
            state="trusted", report__active_manifest__signer__issuer=org
        ).values("media_id")
        count = (
            Verdict.objects.filter(author__isnull=True, check_ref__media_id__in=media).count()
            if org
            else 0
        )
        anchors.append({"anchor": anchor, "organisation": org, "verdicts": count})
    return anchors


def tokens_all() -> QuerySet[Any]:
    """Every API token (never its secret), newest first."""
    from authcheck.models import ApiToken

    return ApiToken.objects.select_related("user").order_by("-created_at")


def people_all() -> QuerySet[User]:
    """Every person, active first, by name."""
    return User.objects.order_by("-is_active", "username")
