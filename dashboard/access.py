"""Who may open what: deny by default, a check you may not see is a 404."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from authcheck import selectors
from authcheck.models import Check, Role, User

DASHBOARD_ROLES = frozenset({Role.JOURNALIST, Role.EDITOR, Role.ADMIN})
# Editors review and do not submit, as in the API: the people who decide are not those who asked.
SUBMITTERS = frozenset({Role.JOURNALIST, Role.ADMIN})
REVIEWERS = frozenset({Role.EDITOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

View = Callable[..., HttpResponseBase]
# A session is extended (written) at most this often, so idle expiry costs no write per poll.
SESSION_REFRESH_SECONDS = 300


def _session_touch(request: HttpRequest) -> None:
    """Sliding expiry: push the session's end out again, at most every few minutes."""
    now = int(time.time())
    if now - int(request.session.get("_seen", 0)) >= SESSION_REFRESH_SECONDS:
        request.session["_seen"] = now  # marks the session modified: saved with a new expiry


def role_required(roles: frozenset[str] = DASHBOARD_ROLES) -> Callable[[View], View]:
    """Log in first; then only an active user holding one of ``roles`` gets through (403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (user.is_active and getattr(user, "role", "") in roles):
                return render(request, "dashboard/denied.html", status=403)
            _session_touch(request)
            response = view(request, *args, **kwargs)
            if not response.has_header("Cache-Control"):
                # Evidence pages stay out of shared caches and the browser's back-forward store.
                add_never_cache_headers(response)
            return response

        return wrapped

    return decorator


def visible_check(user: User, check_id: int) -> Check:
    """The check if this user may see it, else a 404 (never a 403 that confirms it exists)."""
    try:
        return selectors.check_get_for(user, check_id)
    except Check.DoesNotExist:
        raise Http404("no such check") from None


def is_reviewer(user: Any) -> bool:
    """Editors and admins review, assign and sign off."""
    return bool(user.is_active and getattr(user, "role", "") in REVIEWERS)


def client_address(request: HttpRequest) -> str:
    """The peer address; behind a proxy, configure it to set REMOTE_ADDR (never trust headers)."""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]
