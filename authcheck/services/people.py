"""People and roles: create or update a login, change a role, deactivate, change a password.

Every change is audited in its transaction. Passwords are never logged, audited or returned.
Failed dashboard logins are counted here too (rows, not a per-process cache) for throttling.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from authcheck.errors import AuthcheckError
from authcheck.models import Role, User
from authcheck.services.audit import actor_of, audit_record
from dashboard.models import LoginFailure


def _role_checked(role: str) -> str:
    if role not in Role.values:
        raise AuthcheckError(f"role must be one of {', '.join(Role.values)}", code="invalid_role")
    return role


def _password_checked(password: str, user: User | None = None) -> str:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AuthcheckError(" ".join(exc.messages), code="weak_password") from exc
    return password


def _require_admin(actor: User | None) -> None:
    # ``None`` is the command line run by the operator, who already holds the database.
    if actor is not None and not (actor.is_active and actor.role == Role.ADMIN):
        raise AuthcheckError("only admins manage people", code="permission_denied", status=403)


def user_upsert(
    *, username: str, role: str, password: str | None = None, actor: User | None = None
) -> tuple[User, bool]:
    """Create a person or update their role (and password when given); returns (user, created)."""
    _require_admin(actor)
    username = username.strip()
    if not username or len(username) > 150:
        raise AuthcheckError("a user name has 1 to 150 characters", code="invalid_username")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise AuthcheckError(" ".join(exc.messages), code="invalid_username") from exc
    _role_checked(role)
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(
            username=username, defaults={"role": role}
        )
        if password is not None:
            user.set_password(_password_checked(password, user))
        user.role = role
        user.is_active = True
        user.save()
        audit_record(
            actor=actor_of(actor) if actor else "cli",
            action="user.created" if created else "user.updated",
            object_type="user",
            object_id=user.pk,
            data={"username": user.username, "role": role, "password_set": password is not None},
        )
    return user, created


def user_role_set(*, actor: User, user: User, role: str) -> User:
    """Change a person's role (admins only), audited with the old and new role."""
    _require_admin(actor)
    _role_checked(role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old = locked.role
        locked.role = role
        locked.save(update_fields=["role"])
        audit_record(
            actor=actor_of(actor),
            action="user.role_changed",
            object_type="user",
            object_id=locked.pk,
            data={"username": locked.username, "from": old, "to": role},
        )
    return locked


def user_deactivate(*, actor: User, user: User) -> User:
    """Switch a login off (admins only, never yourself); their history stays."""
    _require_admin(actor)
    if actor.pk == user.pk:
        raise AuthcheckError("you cannot deactivate yourself", code="invalid_request")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor_of(actor),
            action="user.deactivated",
            object_type="user",
            object_id=locked.pk,
            data={"username": locked.username},
        )
    return locked


def password_change(*, user: User, new_password: str) -> None:
    """Set a person's own new password (the old one was checked by the form), audited."""
    with transaction.atomic():
        user.set_password(_password_checked(new_password, user))
        user.save(update_fields=["password"])
        audit_record(
            actor=actor_of(user),
            action="user.password_changed",
            object_type="user",
            object_id=user.pk,
            data={"username": user.username},
        )


def _window_start() -> datetime:
    return timezone.now() - timedelta(seconds=settings.AUTHCHECK_LOGIN_WINDOW_SECONDS)


def login_blocked(*, username: str, address: str) -> bool:
    """True when this username or this address failed too often in the recent window."""
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    limit = settings.AUTHCHECK_LOGIN_MAX_FAILURES
    return (
        recent.filter(username=username[:150]).count() >= limit
        or recent.filter(address=address[:64]).count() >= limit
    )


def login_failure_record(*, username: str, address: str) -> None:
    """Count one failed login (old rows are dropped as they leave the window)."""
    LoginFailure.objects.filter(at__lt=_window_start()).delete()
    LoginFailure.objects.create(username=username[:150], address=address[:64])


def login_failures_clear(*, username: str) -> None:
    """Forget a username's failures after it logged in successfully."""
    LoginFailure.objects.filter(username=username[:150]).delete()
