"""The queue: filtered keyset pages, live rows, CSV export, and submissions."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from authcheck import selectors_dashboard as sel
from authcheck.errors import AuthcheckError
from authcheck.models import (
    Check,
    CheckClient,
    CheckStatus,
    MediaKind,
    ReviewDecision,
    Role,
    User,
    VerdictLabel,
)
from authcheck.services.checks import check_create
from authcheck.uploads import FILE_COUNT_ATTR, TOO_LARGE_FLAG
from dashboard.access import SUBMITTERS, is_reviewer, role_required

BATCH_MAX = 100
CSV_MAX_ROWS = 10_000


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _filter_choices(reviewer: bool) -> dict[str, Any]:
    editors = User.objects.filter(is_active=True, role__in=[Role.EDITOR, Role.ADMIN])
    return {
        "statuses": CheckStatus.values,
        "verdicts": VerdictLabel.values + ReviewDecision.values,
        "kinds": MediaKind.values,
        # Only reviewers filter by assignee; journalists are not shown the newsroom's staff list.
        "editors": editors.values_list("username", flat=True) if reviewer else [],
    }


@role_required()
@require_GET
def queue_view(request: HttpRequest) -> HttpResponse:
    """One page of the queue with the URL's filters; the filter form and the submit form."""
    user = _user(request)
    filters = sel.QueueFilters.from_query(request.GET)
    page = sel.queue_page(user, filters)
    next_url = ""
    if page.next_after:
        next_url = "?" + urlencode(filters.as_query(after=page.next_after))
    context = {
        "page": page,
        "filters": filters,
        "next_url": next_url,
        "first_url": "?" + urlencode(filters.as_query(after=None)) if filters.after else "",
        "csv_url": reverse("dashboard:queue_csv") + "?" + urlencode(filters.as_query(after=None)),
        "can_submit": user.role in SUBMITTERS,
        "reviewer": is_reviewer(user),
        "nav": "queue",
        **_filter_choices(is_reviewer(user)),
    }
    return render(request, "dashboard/queue.html", context)


@role_required()
@require_GET
def queue_row_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """One queue row, polled by htmx while it runs; a finished row carries no poll trigger."""
    try:
        check, progress = sel.queue_row(_user(request), check_id)
    except Check.DoesNotExist:
        raise Http404("no such check") from None
    return render(request, "dashboard/_row.html", {"c": check, "progress": progress})


_CSV_COLUMNS = [
    "id", "created_at", "status", "verdict", "decision", "awaiting_signoff", "review_state",
    "assignee", "submitter", "kind", "source_url", "filename", "sha256", "note",
]  # fmt: skip


def _cell(value: Any) -> str:
    """A CSV cell that spreadsheets will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _csv_row(c: Check) -> list[str]:
    workflow = getattr(c, "workflow", None) if hasattr(c, "workflow") else None
    values = [
        c.pk, c.created_at.isoformat(), c.status, c.current_label or "",  # type: ignore[attr-defined]
        c.current_decision or "", "yes" if c.awaiting else "",  # type: ignore[attr-defined]
        workflow.state if workflow else "new",
        workflow.assignee.username if workflow and workflow.assignee else "",
        c.submitter.username, c.media.kind if c.media else "", c.source_url,
        c.original_filename, c.media.sha256 if c.media else "", c.note,
    ]  # fmt: skip
    return [_cell(v) for v in values]


class _Echo:
    def write(self, value: str) -> str:
        return value


@role_required()
@require_GET
def queue_csv_view(request: HttpRequest) -> StreamingHttpResponse:
    """The current queue view (same filters, every page up to 10,000 rows) as CSV."""
    filters = sel.QueueFilters.from_query(request.GET)
    checks = sel.queue_queryset(_user(request), filters)[:CSV_MAX_ROWS]
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(_CSV_COLUMNS)
        for c in checks.iterator(chunk_size=500):
            yield writer.writerow(_csv_row(c))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="authcheck-queue.csv"'
    return response


def _submit_one(request: HttpRequest, **kwargs: Any) -> Check:
    return check_create(user=_user(request), client=CheckClient.DASHBOARD, **kwargs).check


def _submit_batch(request: HttpRequest, lines: list[str]) -> tuple[list[int], list[str]]:
    created: list[int] = []
    errors: list[str] = []
    for line in lines:
        try:
            created.append(_submit_one(request, url=line).pk)
        except AuthcheckError as exc:
            errors.append(f"{line[:200]}: {exc.message} ({exc.code})")
    return created, errors


def _upload_guard(request: HttpRequest) -> None:
    """What the upload handler saw while the body was parsed: over the cap, or several files."""
    if getattr(request, TOO_LARGE_FLAG, False):
        limit = settings.AUTHCHECK_MAX_UPLOAD_BYTES
        raise AuthcheckError(f"the file is larger than {limit} bytes", code="too_large", status=413)
    if getattr(request, FILE_COUNT_ATTR, 0) > 1:
        raise AuthcheckError("send one file per submission", code="too_many_files")


def _submission(request: HttpRequest) -> tuple[list[int], list[str]]:
    """Run the form's submission: a file, a list of URLs, or one URL with page URL and note."""
    request.POST  # noqa: B018  (parse the body so the upload handler's findings are known)
    _upload_guard(request)
    upload = request.FILES.get("file")
    if upload is not None:
        check = _submit_one(
            request, upload=upload, filename=upload.name or "", note=request.POST.get("note", "")
        )
        return [check.pk], []
    lines = [line.strip() for line in request.POST.get("urls", "").splitlines() if line.strip()]
    if lines:
        if len(lines) > BATCH_MAX:
            raise AuthcheckError(f"at most {BATCH_MAX} URLs at once", code="too_many_urls")
        return _submit_batch(request, lines)
    url = request.POST.get("url", "").strip()
    if not url:
        raise AuthcheckError("give a URL, a list of URLs or a file", code="invalid_request")
    check = _submit_one(
        request,
        url=url,
        page_url=request.POST.get("page_url", ""),
        note=request.POST.get("note", ""),
    )
    return [check.pk], []


@role_required(SUBMITTERS)
@require_http_methods(["POST"])
def submit_view(request: HttpRequest) -> HttpResponse:
    """Submit through ``check_create`` (same limits and error codes as the API), then show the
    queue, where the new checks appear at once."""
    try:
        created, errors = _submission(request)
    except AuthcheckError as exc:
        return render(
            request,
            "dashboard/submit_error.html",
            {"error": exc.message, "code": exc.code},
            status=exc.status,
        )
    if created:
        messages.success(
            request, f"Submitted {len(created)} check(s): #" + ", #".join(str(pk) for pk in created)
        )
    for error in errors:
        messages.error(request, f"Not submitted: {error}")
    return HttpResponseRedirect(reverse("dashboard:queue"))
