"""Login (throttled), logout and password change."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from authcheck.errors import AuthcheckError
from authcheck.services import people
from dashboard.access import DASHBOARD_ROLES, client_address, role_required


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Session login with ``username`` and ``password``; too many failures answer 429."""
    context = {"next": _next_url(request), "error": "", "username": ""}
    if request.method != "POST":
        return render(request, "dashboard/login.html", context)
    username = request.POST.get("username", "")[:150]
    address = client_address(request)
    context["username"] = username
    if people.login_blocked(username=username, address=address):
        context["error"] = "Too many failed attempts. Wait a few minutes and try again."
        return render(request, "dashboard/login.html", context, status=429)
    user = authenticate(request, username=username, password=request.POST.get("password", ""))
    if user is None or getattr(user, "role", "") not in DASHBOARD_ROLES:
        people.login_failure_record(username=username, address=address)
        context["error"] = "Wrong user name or password, or this account has no dashboard access."
        return render(request, "dashboard/login.html", context, status=400)
    login(request, user)
    people.login_failures_clear(username=username)
    return redirect(context["next"])


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the session (POST only, so a link on another site cannot log you out)."""
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@role_required()
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Change your own password (old one required); the session stays logged in."""
    form = PasswordChangeForm(request.user, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                people.password_change(
                    user=request.user,  # type: ignore[arg-type]
                    new_password=form.cleaned_data["new_password1"],
                )
            except AuthcheckError as exc:
                form.add_error("new_password1", exc.message)
            else:
                update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
                messages.success(request, "Your password was changed.")
                return redirect("dashboard:queue")
        status = 400
    return render(request, "dashboard/password_change.html", {"form": form}, status=status)
