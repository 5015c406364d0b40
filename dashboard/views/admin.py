"""Administration (admins only): trust anchors, API tokens, people and roles. Every change goes
through a service that audits it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from authcheck import selectors_dashboard as sel
from authcheck.errors import AuthcheckError
from authcheck.models import ApiToken, Role, User
from authcheck.services import people, tokens, trust_anchors
from dashboard.access import ADMINS, role_required

MAX_PEM_UPLOAD = 64 * 1024


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _act(request: HttpRequest, target: str, action: Callable[[], str]) -> HttpResponse:
    try:
        messages.success(request, action())
    except AuthcheckError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
    return HttpResponseRedirect(reverse(target))


@role_required(ADMINS)
@require_GET
def anchors_view(request: HttpRequest) -> HttpResponse:
    """Managed trust anchors with the verdicts resting on each."""
    context = {"anchors": sel.trust_anchors_with_counts(), "nav": "anchors"}
    return render(request, "dashboard/admin_anchors.html", context)


@role_required(ADMINS)
@require_POST
def anchor_add_view(request: HttpRequest) -> HttpResponse:
    """Add a CA certificate from an uploaded PEM file."""
    upload = request.FILES.get("pem")

    def act() -> str:
        if upload is None or upload.size is None or upload.size > MAX_PEM_UPLOAD:
            raise AuthcheckError("upload one PEM certificate (64 KB at most)", code="invalid_pem")
        pem = upload.read().decode("ascii", errors="replace")
        anchor = trust_anchors.trust_anchor_add(
            pem=pem, name=request.POST.get("name", ""), user=_user(request)
        )
        return f"Trust anchor {anchor.name} is enabled."

    return _act(request, "dashboard:admin_anchors", act)


@role_required(ADMINS)
@require_POST
def anchor_disable_view(request: HttpRequest) -> HttpResponse:
    """Stop trusting an anchor (kept for the record)."""

    def act() -> str:
        anchor = trust_anchors.trust_anchor_disable(
            sha256=request.POST.get("sha256", ""), user=_user(request)
        )
        return f"Trust anchor {anchor.name} is disabled."

    return _act(request, "dashboard:admin_anchors", act)


@role_required(ADMINS)
@require_GET
def tokens_view(request: HttpRequest) -> HttpResponse:
    """API tokens: who, name, prefix, last used, expiry, revoked."""
    context = {"tokens": sel.tokens_all(), "roles": Role.choices, "nav": "tokens"}
    return render(request, "dashboard/admin_tokens.html", context)


@never_cache
@role_required(ADMINS)
@require_POST
def token_create_view(request: HttpRequest) -> HttpResponse:
    """Create a token and show its secret once, on this response only (never stored)."""
    try:
        owner, _ = tokens.token_user_ensure(
            request.POST.get("user", "").strip(), request.POST.get("role", ""), actor=_user(request)
        )
        days = request.POST.get("expires_days", "").strip()
        expires = timezone.now() + timedelta(days=int(days)) if days.isdigit() else None
        token, secret = tokens.token_create(
            owner, name=request.POST.get("name", ""), expires_at=expires, actor=_user(request)
        )
    except AuthcheckError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
        return HttpResponseRedirect(reverse("dashboard:admin_tokens"))
    context = {"token": token, "secret": secret, "nav": "tokens"}
    return render(request, "dashboard/admin_token_created.html", context, status=201)


@role_required(ADMINS)
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke a token at once."""
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is None:
        raise Http404("no such token")

    def act() -> str:
        tokens.token_revoke(token, _user(request))
        return f"Token {token.prefix} is revoked."

    return _act(request, "dashboard:admin_tokens", act)


@role_required(ADMINS)
@require_GET
def people_view(request: HttpRequest) -> HttpResponse:
    """People, their roles and whether they may log in."""
    context = {"people": sel.people_all(), "roles": Role.choices, "nav": "people"}
    return render(request, "dashboard/admin_people.html", context)


@role_required(ADMINS)
@require_POST
def person_create_view(request: HttpRequest) -> HttpResponse:
    """Create a person (or update their role and password)."""

    def act() -> str:
        user, created = people.user_upsert(
            username=request.POST.get("username", ""),
            role=request.POST.get("role", ""),
            password=request.POST.get("password", ""),
            actor=_user(request),
        )
        return f"{'Created' if created else 'Updated'} {user.username}."

    return _act(request, "dashboard:admin_people", act)


@role_required(ADMINS)
@require_POST
def person_change_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """Change a person's role, or deactivate them."""
    target = User.objects.filter(pk=user_id).first()
    if target is None:
        raise Http404("no such person")

    def act() -> str:
        if request.POST.get("action") == "deactivate":
            people.user_deactivate(actor=_user(request), user=target)
            return f"{target.username} can no longer log in."
        people.user_role_set(actor=_user(request), user=target, role=request.POST.get("role", ""))
        return f"{target.username} is now {request.POST.get('role')}."

    return _act(request, "dashboard:admin_people", act)
