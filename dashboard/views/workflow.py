"""Actions on a check: assign or take, review state, comments, decisions and sign-off.

Each view parses a form, calls one service (which audits) and goes back to the check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from authcheck.errors import AuthcheckError
from authcheck.models import Check, User
from authcheck.services import workflow
from dashboard.access import REVIEWERS, role_required, visible_check
from dashboard.models import PendingDecision


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _back(check: Check, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("dashboard:detail", args=[check.pk]) + f"#{anchor}")


def _run(
    request: HttpRequest, check: Check, anchor: str, action: Callable[[], str]
) -> HttpResponse:
    """Run a service call; its AuthcheckError becomes a message, never a 500."""
    try:
        messages.success(request, action())
    except AuthcheckError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
    return _back(check, anchor)


@role_required(REVIEWERS)
@require_POST
def assign_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """Assign to an editor (``assignee`` username), take it (``take``), or unassign (empty)."""
    user = _user(request)
    check = visible_check(user, check_id)
    name = request.POST.get("assignee", "").strip()
    if request.POST.get("take"):
        assignee: User | None = user
    elif name:
        assignee = User.objects.filter(username=name).first()
        if assignee is None:
            messages.error(request, "no such editor (invalid_assignee)")
            return _back(check, "workflow")
    else:
        assignee = None

    def act() -> str:
        workflow.workflow_assign(check=check, actor=user, assignee=assignee)
        return f"Assigned to {assignee.username}." if assignee else "Unassigned."

    return _run(request, check, "workflow", act)


@role_required(REVIEWERS)
@require_POST
def state_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """Move the check to ``new`` or ``in_review``."""
    user = _user(request)
    check = visible_check(user, check_id)
    state = request.POST.get("state", "")

    def act() -> str:
        workflow.workflow_state_set(check=check, actor=user, state=state)
        return "Review state changed."

    return _run(request, check, "workflow", act)


@role_required()
@require_POST
def comment_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """Add to the thread: editors on any check, a journalist on their own."""
    user = _user(request)
    check = visible_check(user, check_id)

    def act() -> str:
        workflow.comment_add(check=check, author=user, body=request.POST.get("body", ""))
        return "Comment added."

    return _run(request, check, "comments", act)


@role_required(REVIEWERS)
@require_POST
def decide_view(request: HttpRequest, check_id: int) -> HttpResponse:
    """Record a decision (or propose it for sign-off when two editors are required)."""
    user = _user(request)
    check = visible_check(user, check_id)

    def act() -> str:
        result = workflow.decision_submit(
            check=check,
            user=user,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
        )
        if isinstance(result, PendingDecision):
            return "Decision recorded; it counts once a second editor signs it off."
        return "Decision recorded."

    return _run(request, check, "review", act)


def _pending(check: Check, pending_id: int) -> PendingDecision:
    found = PendingDecision.objects.filter(pk=pending_id, check_ref=check).first()
    if found is None:
        raise Http404("no such pending decision")
    return found


@role_required(REVIEWERS)
@require_POST
def signoff_view(request: HttpRequest, check_id: int, pending_id: int) -> HttpResponse:
    """A second editor confirms (``confirm``) or rejects (``withdraw``) a pending decision."""
    user = _user(request)
    check = visible_check(user, check_id)
    pending = _pending(check, pending_id)

    def act() -> str:
        if request.POST.get("action") == "withdraw":
            workflow.decision_withdraw(pending=pending, user=user)
            return "Pending decision withdrawn."
        workflow.decision_confirm(pending=pending, user=user)
        return "Decision signed off: it is now the newsroom's decision."

    return _run(request, check, "review", act)
