"""Role permissions (SPEC section 7). Deny by default: no role, no access."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from authcheck.models import Role

ANY_ROLE = frozenset(Role.values)
# Editors review and do not submit: the people who decide are not the people who asked.
SUBMITTERS = frozenset({Role.JOURNALIST, Role.API_CLIENT, Role.ADMIN})
REVIEWERS = frozenset({Role.EDITOR, Role.ADMIN})


def has_role(request: Request, roles: frozenset[str]) -> bool:
    """True when the request's user is active and holds one of ``roles``."""
    user = request.user
    return bool(user is not None and user.is_active and user.role in roles)


class HasAnyRole(BasePermission):
    """Any active user with a role (verify, media, reading checks)."""

    message = "this account has no role: ask an administrator for access"

    def has_permission(self, request: Request, view: Any) -> bool:
        """True for an active user holding any role."""
        return has_role(request, ANY_ROLE)


class CanSubmitOrRead(BasePermission):
    """Reading the check list needs any role; submitting needs a submitter role."""

    message = "your role may not submit checks"

    def has_permission(self, request: Request, view: Any) -> bool:
        """Submitters may POST; any role may read."""
        if not has_role(request, ANY_ROLE):
            self.message = HasAnyRole.message
            return False
        return request.method != "POST" or has_role(request, SUBMITTERS)


class CanReview(BasePermission):
    """Recording a decision needs the editor or admin role."""

    message = "only editors and admins record review decisions"

    def has_permission(self, request: Request, view: Any) -> bool:
        """Editors and admins only."""
        return has_role(request, REVIEWERS)
