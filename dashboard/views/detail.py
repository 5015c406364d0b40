"""A check's evidence page, its JSON export, its media (with Range) and keyframes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from authcheck import presenters, selectors, storage
from authcheck import selectors_dashboard as sel
from authcheck.models import Check, ReviewDecision, Role, User
from authcheck.services.audit import audit_verify
from authcheck.services.media import media_path
from authcheck.services.reports import report_signed
from dashboard import plots
from dashboard.access import is_reviewer, role_required, visible_check

# Only these are ever sent with their own type; anything else is a download.
PLAYABLE = re.compile(
    r"^(image/(jpeg|png|gif|webp|avif|heic|heif|tiff)|video/[\w.+-]+|audio/[\w.+-]+)$"
)
MEDIA_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _signals_with_plots(data: dict[str, Any]) -> list[dict[str, Any]]:
    kind = (data.get("media") or {}).get("kind", "")
    return [{**s, "plots": plots.plots_for(s, kind)} for s in data["signals"]]


def _detail_context(request: HttpRequest, check: Check) -> dict[str, Any]:
    user = _user(request)
    data = presenters.check_to_dict(check, viewer=user)
    history = selectors.verdicts_of(check)
    chain = audit_verify(check_id=check.pk)
    workflow = getattr(check, "workflow", None) if hasattr(check, "workflow") else None
    return {
        "c": check,
        "data": data,
        "history": history,
        "reviews": [v for v in history if v.author_id],
        "automated": next((v for v in history if not v.author_id), None),
        "signals": _signals_with_plots(data),
        "keyframes": sel.keyframes_of(check),
        "similar_visible": selectors.similar_visible_ids(user, data["similar"] or []),
        "comments": sel.comments_of(check),
        "pending": sel.pending_decision_of(check),
        "events": sel.audit_timeline(check),
        "chain": chain,
        "workflow": workflow,
        "reviewer": is_reviewer(user),
        "decisions": ReviewDecision.choices,
        "signoff": settings.AUTHCHECK_REVIEW_SIGNOFF >= 2,
        "editors": User.objects.filter(is_active=True, role__in=[Role.EDITOR, Role.ADMIN]),
        "is_owner": check.submitter_id == user.pk,
    }


@role_required()
@require_GET
def detail_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """Everything known about one check, for a person deciding about it."""
    check = visible_check(_user(request), check_id)
    return render(request, "dashboard/detail.html", _detail_context(request, check))


@role_required()
@require_GET
def stages_fragment_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """The pipeline progress alone, polled by htmx while the check runs."""
    check = visible_check(_user(request), check_id)
    stages = [presenters.stage_to_dict(s) for s in check.stages.all()]
    return render(request, "dashboard/_stages.html", {"c": check, "stages": stages, "fresh": True})


@role_required()
@require_GET
def audit_fragment_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """The audit timeline alone, refreshed by htmx after an action."""
    check = visible_check(_user(request), check_id)
    context = {"events": sel.audit_timeline(check), "chain": audit_verify(check_id=check.pk)}
    return render(request, "dashboard/_audit.html", context)


@role_required()
@require_GET
def report_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """The check's signed verification report (the API's ``/checks/{id}/report``), as a
    download; ``manage.py verify_report`` checks it offline."""
    check = visible_check(_user(request), check_id)
    response = HttpResponse(report_signed(check), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="authcheck-check-{check.pk}.json"'
    return response


@role_required()
@require_GET
def export_json_view(request: HttpRequest, check_id: int) -> JsonResponse:
    """The API's check JSON plus every review, the comments and the audit events with the chain."""
    user = _user(request)
    check = visible_check(user, check_id)
    # As the API shows it to this user: similar media on checks they may not see anonymised.
    data = presenters.check_to_dict(check, viewer=user)
    chain = audit_verify(check_id=check.pk)
    data["reviews"] = [
        presenters.verdict_to_dict(v) for v in selectors.verdicts_of(check) if v.author_id
    ]
    data["comments"] = [
        {"author": c.author.username, "body": c.body, "at": c.created_at.isoformat()}
        for c in sel.comments_of(check)
    ]
    data["audit"] = {
        "events": [{**e, "at": e["at"].isoformat()} for e in sel.audit_timeline(check)],
        "chain": {"ok": chain.ok, "checked": chain.checked, "description": chain.describe()},
    }
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="authcheck-check-{check.pk}.json"'
    return response


def _media_headers(response: HttpResponseBase, mime: str) -> HttpResponseBase:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if not PLAYABLE.match(mime):
        response["Content-Disposition"] = 'attachment; filename="media"'
    return response


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single ``bytes=`` range, None when absent or unsatisfiable."""
    match = RANGE.match(header.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # a suffix: the last N bytes
        n = int(last)
        return (max(size - n, 0), size - 1) if n > 0 and size else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


def _partial(path: Path, first: int, last: int, size: int, mime: str) -> HttpResponse:
    with path.open("rb") as handle:
        handle.seek(first)
        body = handle.read(last - first + 1)
    response = HttpResponse(body, status=206, content_type=mime)
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response


@role_required()
@require_GET
def media_view(request: HttpRequest, check_id: int) -> HttpResponseBase:
    """The check's media for the preview player, never as HTML or SVG (only image, video and
    audio types play inline; anything else is an octet-stream download).

    In object storage: a 302 to a presigned URL on the storage domain that expires after
    ``AUTHCHECK_MEDIA_URL_SECONDS``, the type and disposition signed into it (W12). On the
    embedded default (local disk, a single host) this origin serves the bytes itself: Range
    requests answer 206, nosniff and a sandbox CSP."""
    check = visible_check(_user(request), check_id)
    if check.media is None or check.media.purged_at is not None:
        raise Http404("no media")
    mime = check.media.mime if PLAYABLE.match(check.media.mime) else "application/octet-stream"
    url = storage.media_url(check.media, content_type=mime, attachment=not PLAYABLE.match(mime))
    if url is not None:
        redirect = HttpResponseRedirect(url)
        redirect["Cache-Control"] = "no-store"  # the signature expires: never reuse it
        return redirect
    path = media_path(check.media)
    if not path.exists():
        raise Http404("media not stored here")
    size = path.stat().st_size
    header = request.META.get("HTTP_RANGE", "")
    if header:
        span = _byte_range(header, size)
        if span is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return _media_headers(response, mime)
        return _media_headers(_partial(path, *span, size, mime), mime)
    whole = FileResponse(path.open("rb"), content_type=mime)
    whole["Content-Length"] = str(size)
    return _media_headers(whole, mime)


@role_required()
@require_GET
def keyframe_view(request: HttpRequest, check_id: int, index: int) -> HttpResponseBase:
    """One sampled frame's JPEG thumbnail (re-encoded by the pipeline, never the upload)."""
    check = visible_check(_user(request), check_id)
    frames = sel.keyframes_of(check)
    position = next((f["position"] for f in frames if f["index"] == index), None)
    jpeg = sel.keyframe_jpeg(check, position) if position is not None else None
    if jpeg is None:
        raise Http404("no such frame")
    response = HttpResponse(jpeg, content_type="image/jpeg")
    return _media_headers(response, "image/jpeg")
