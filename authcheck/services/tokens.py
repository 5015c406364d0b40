"""API tokens: created and shown once, stored as a keyed digest, revocable, audited.

A token reads ``ac_<prefix>_<secret>``: the 8-character prefix finds the row, the secret
(``secrets.token_urlsafe(32)``, 256 bits) is checked against an HMAC-SHA256 digest keyed with
``SECRET_KEY``. A high-entropy secret needs no slow password hash; the key means a leaked
database alone cannot be used to test guesses offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from authcheck.errors import AuthcheckError
from authcheck.models import ApiToken, Role, User
from authcheck.services.audit import actor_of, audit_record

TOKEN_TAG = "ac"  # noqa: S105 - the public tag every token starts with
PREFIX_LENGTH = 8
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DIGEST_SALT = b"authcheck.api-token"
# Compared against when the prefix is unknown, so both failures cost the same HMAC and compare.
_DUMMY_DIGEST = "0" * 64


def _digest(raw: str, key: str) -> str:
    """The stored form of a token: HMAC-SHA256 of the whole token under a derived key."""
    derived = hashlib.sha256(_DIGEST_SALT + key.encode()).digest()
    return hmac.new(derived, raw.encode(), hashlib.sha256).hexdigest()


def _keys() -> list[str]:
    """The current secret key, then any fallbacks, so rotating SECRET_KEY keeps tokens working."""
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _split(raw: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed token, else None."""
    tag, _, rest = raw.partition("_")
    prefix, _, secret = rest.partition("_")
    if tag != TOKEN_TAG or len(prefix) != PREFIX_LENGTH or not secret or len(raw) > 200:
        return None
    return prefix, secret


def token_create(
    user: User,
    *,
    name: str = "",
    expires_at: datetime | None = None,
    actor: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the plaintext, which is never stored."""
    for _attempt in range(5):
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        raw = f"{TOKEN_TAG}_{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name[:100],
                    prefix=prefix,
                    digest=_digest(raw, settings.SECRET_KEY),
                    expires_at=expires_at,
                )
                audit_record(
                    actor=actor_of(actor),
                    action="token.created",
                    object_type="api_token",
                    object_id=token.pk,
                    data={"user": user.username, "prefix": prefix, "expires_at": expires_at},
                )
        except IntegrityError:
            continue  # prefix collision (32 bits): draw another
        return token, raw
    raise AuthcheckError(
        "could not allocate a unique token prefix", code="token_prefix", status=500
    )


def token_lookup(raw: str) -> ApiToken | None:
    """The live token ``raw`` names, or None (unknown, wrong secret, revoked, expired, inactive).

    Every failure takes the same path through one HMAC and one constant-time compare.
    """
    parts = _split(raw)
    token = None
    if parts is not None:
        token = ApiToken.objects.select_related("user").filter(prefix=parts[0]).first()
    stored = token.digest if token is not None else _DUMMY_DIGEST
    matched = False
    for key in _keys():
        matched |= hmac.compare_digest(_digest(raw, key), stored)
    if token is None or not matched or not _is_live(token):
        return None
    _touch(token)
    return token


def token_authenticate(raw: str) -> User | None:
    """The user a raw bearer token authenticates, or None."""
    token = token_lookup(raw)
    return token.user if token is not None else None


def _is_live(token: ApiToken) -> bool:
    now = timezone.now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return False
    return token.user.is_active


def _touch(token: ApiToken) -> None:
    """Record use at most once per LAST_USED_RESOLUTION (a conditional UPDATE, no read)."""
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


def token_revoke(token: ApiToken, actor: User | None) -> ApiToken:
    """Revoke a token (idempotent: revoking twice keeps the first time), audited."""
    with transaction.atomic():
        now = timezone.now()
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if changed:
            audit_record(
                actor=actor_of(actor),
                action="token.revoked",
                object_type="api_token",
                object_id=token.pk,
                data={"user": token.user.username, "prefix": token.prefix},
            )
    token.refresh_from_db(fields=["revoked_at"])
    return token


def token_user_ensure(username: str, role: str, *, actor: User | None = None) -> tuple[User, bool]:
    """The user ``username`` with ``role``: created (unusable password) or given that role.

    Returns ``(user, created)``. Creating a user and changing a role are both audited.
    """
    if role not in Role.values:
        raise AuthcheckError(
            f"unknown role {role!r}: choose one of {', '.join(Role.values)}", code="invalid_role"
        )
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise AuthcheckError(
            f"invalid user name {username!r}: {' '.join(exc.messages)}", code="invalid_username"
        ) from exc
    if not username or len(username) > 150:
        raise AuthcheckError("a user name has 1 to 150 characters", code="invalid_username")
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(
            username=username, defaults={"role": role}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            audit_record(
                actor=actor_of(actor),
                action="user.created",
                object_type="user",
                object_id=user.pk,
                data={"username": username, "role": role},
            )
        elif user.role != role:
            previous, user.role = user.role, role
            user.save(update_fields=["role"])
            audit_record(
                actor=actor_of(actor),
                action="user.role_changed",
                object_type="user",
                object_id=user.pk,
                data={"username": username, "from": previous, "to": role},
            )
    return user, created


def cli_user_ensure(username: str) -> User:
    """The user a command records its work as: an existing user as it is (its role is never
    changed here), else a new ``api_client`` created and audited by ``token_user_ensure``."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    return token_user_ensure(username, Role.API_CLIENT)[0]
