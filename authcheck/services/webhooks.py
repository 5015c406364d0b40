"""Webhooks: registration, signed deliveries with retries, and the events that feed them.

Events are recorded as ``WebhookDelivery`` rows inside the transaction of the change they
report and sent after commit by a task (``webhook_deliver_task``, its own queue), so a dead or
slow receiver never holds up intake. Each attempt goes through ``pipeline.fetch.post`` (the
SSRF-safe client) and is signed afresh::

    X-Authcheck-Timestamp: <unix seconds>
    X-Authcheck-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

A failed attempt is retried with exponential backoff and jitter up to a cap, then the delivery
is ``failed``; every attempt's status and error stay in the delivery log its owner can read.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from authcheck.errors import AuthcheckError, FetchError
from authcheck.limits import webhook_policy
from authcheck.models import (
    ApiToken,
    Check,
    DeliveryState,
    User,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from authcheck.pipeline import fetch
from authcheck.services import publish
from authcheck.services.audit import actor_of, audit_record, canonical_json

log = logging.getLogger(__name__)

MAX_WEBHOOKS_PER_USER = 20
SECRET_PREFIX = "whsec_"  # noqa: S105 (a label, not a secret)
_SECRET_SALT = "authcheck.webhook.secret"  # noqa: S105 (an HMAC salt, not a secret)
# Codes of a URL that can never be delivered to: retrying will not help.
_PERMANENT = frozenset({"url_invalid", "url_scheme", "url_port", "url_userinfo", "url_blocked"})


def webhook_secret(webhook: Webhook) -> str:
    """The signing secret of ``webhook`` (derived, never stored)."""
    digest = salted_hmac(_SECRET_SALT, webhook.secret_salt, algorithm="sha256").hexdigest()
    return f"{SECRET_PREFIX}{digest}"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Authcheck-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def _validated_url(url: str) -> str:
    policy = webhook_policy()
    if not url.lower().startswith("https://") and not policy.allow_loopback:
        raise FetchError("webhook URLs must use https", code="url_scheme")
    return fetch.validate_url(url, policy)


def _validated_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown or not events:
        raise AuthcheckError(
            f"events must be some of {', '.join(WebhookEvent.values)}", code="invalid_events"
        )
    return sorted(set(events))


def webhook_create(
    *, user: User, url: str, events: list[str], token: ApiToken | None = None
) -> tuple[Webhook, str]:
    """Register a webhook for ``user`` (made with ``token``); returns it and its secret, which
    is shown this once."""
    fields = {"url": _validated_url(url), "events": _validated_events(events)}
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if Webhook.objects.filter(owner=user, deleted_at__isnull=True).count() >= (
            MAX_WEBHOOKS_PER_USER
        ):
            raise AuthcheckError(
                f"at most {MAX_WEBHOOKS_PER_USER} webhooks per user",
                code="too_many_webhooks",
                status=409,
            )
        webhook = Webhook.objects.create(
            owner=user, token=token, secret_salt=secrets.token_hex(32), **fields
        )
        audit_record(
            actor=actor_of(user),
            action="webhook.created",
            object_type="webhook",
            object_id=webhook.pk,
            data={**fields, "token": token.prefix if token else None},
        )
    return webhook, webhook_secret(webhook)


def webhook_delete(*, user: User, webhook_id: int) -> None:
    """Stop deliveries to one of ``user``'s webhooks (its log is kept); unknown ids raise 404."""
    with transaction.atomic():
        removed = Webhook.objects.filter(pk=webhook_id, owner=user, deleted_at__isnull=True).update(
            deleted_at=timezone.now()
        )
        if not removed:
            raise AuthcheckError("no such webhook", code="not_found", status=404)
        audit_record(
            actor=actor_of(user),
            action="webhook.deleted",
            object_type="webhook",
            object_id=webhook_id,
        )


# --- events ----------------------------------------------------------------------------------


def _live_webhooks(owners: set[int], event: str) -> list[Webhook]:
    """Webhooks of ``owners`` that take ``event``, whose token (if any) is still valid."""
    now = timezone.now()
    token_ok = Q(token__isnull=True) | (
        Q(token__revoked_at__isnull=True)
        & (Q(token__expires_at__isnull=True) | Q(token__expires_at__gt=now))
    )
    found = Webhook.objects.filter(token_ok, owner_id__in=owners, deleted_at__isnull=True)
    return [w for w in found.order_by("pk") if event in (w.events or [])]


def event_emit(
    *, check: Check, event: str, event_id: str, data: dict[str, Any], owners: set[int]
) -> list[int]:
    """Record one delivery of ``event`` per matching webhook of ``owners``; must run inside the
    transaction of the change it reports (they are sent after commit). ``event_id`` is stable
    for the change, so recording it twice delivers it once. Returns the delivery ids."""
    if not transaction.get_connection().in_atomic_block:
        raise AuthcheckError("events are recorded inside the change's transaction", "internal")
    body = canonical_json(
        {
            "id": event_id,
            "event": event,
            "created_at": timezone.now().isoformat(),
            "data": data,
        }
    )
    ids = []
    for webhook in _live_webhooks(owners, event):
        delivery, created = WebhookDelivery.objects.get_or_create(
            webhook=webhook,
            event_id=event_id,
            defaults={"event": event, "check_id": check.pk, "body": body},
        )
        if created:
            ids.append(delivery.pk)
    for delivery_id in ids:
        transaction.on_commit(partial(webhook_send_later, delivery_id))
    return ids


# --- getting a delivery to a sender --------------------------------------------------------

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _in_process_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="authcheck-webhook")
        return _executor


def _attempt_in_process(delivery_id: int) -> None:
    close_old_connections()
    try:
        attempt = webhook_delivery_attempt(delivery_id)
        if attempt.outcome == "retry":
            timer = threading.Timer(attempt.delay, webhook_send_later, args=(delivery_id,))
            timer.daemon = True
            timer.start()
    except Exception:
        log.exception("in-process delivery %s failed", delivery_id)
    finally:
        connections.close_all()


def webhook_send_later(delivery_id: int) -> None:
    """Hand a delivery to its sender (a Celery task on the notifications queue, or the
    in-process pool). A failed publish is logged; ``webhook_deliveries_sweep`` resends it."""
    if settings.AUTHCHECK_TASKS_IN_PROCESS:
        _in_process_executor().submit(_attempt_in_process, delivery_id)
        return
    try:
        publish.webhook_publish(delivery_id)
    except Exception:
        log.exception("could not publish delivery %s; the sweeper will resend it", delivery_id)


# --- delivering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt did: ``outcome`` delivered, retry, failed or not_due; for a
    retry, ``delay`` seconds until the next attempt."""

    outcome: str
    delay: float = 0.0


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff after ``attempts`` failed attempts, capped, with up to 20% jitter
    (so receivers coming back are not hit by every retry at once)."""
    base = settings.AUTHCHECK_WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    capped = min(base, settings.AUTHCHECK_WEBHOOK_BACKOFF_CAP_SECONDS)
    return float(capped) * (1 + random.uniform(0, 0.2))


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt (a conditional update: one sender at a time)."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    lease = now + timedelta(seconds=settings.AUTHCHECK_WEBHOOK_TIMEOUT_SECONDS * 3)
    claimed = WebhookDelivery.objects.filter(
        due, free, pk=delivery_id, state=DeliveryState.PENDING
    ).update(lease_expires_at=lease, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)


def _send(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One signed POST; returns (HTTP status or None, error text or "")."""
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Authcheck-Event": delivery.event,
        "X-Authcheck-Delivery": delivery.event_id,
        "X-Authcheck-Timestamp": str(timestamp),
        "X-Authcheck-Signature": signature(webhook_secret(delivery.webhook), timestamp, body),
    }
    try:
        answer = fetch.post(delivery.webhook.url, body, headers, webhook_policy())
    except FetchError as exc:
        return None, f"{exc.code}: {exc.message}"
    if 200 <= answer.status_code < 300:
        return answer.status_code, ""
    return answer.status_code, f"HTTP {answer.status_code}: {answer.excerpt[:200]}"


def webhook_delivery_attempt(delivery_id: int) -> Attempt:
    """Try one due delivery once; record the outcome in its log. Safe to call twice."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return Attempt("not_due")
    if delivery.webhook.deleted_at is not None:
        _finish(delivery, DeliveryState.FAILED, None, "the webhook was deleted")
        return Attempt("failed")
    status, error = _send(delivery)
    if not error:
        _finish(delivery, DeliveryState.DELIVERED, status, "")
        return Attempt("delivered")
    permanent = error.split(":", 1)[0] in _PERMANENT
    if permanent or delivery.attempts >= settings.AUTHCHECK_WEBHOOK_MAX_ATTEMPTS:
        _finish(delivery, DeliveryState.FAILED, status, error)
        return Attempt("failed")
    delay = backoff_seconds(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_status_code=status,
        last_error=error[:2000],
        lease_expires_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return Attempt("retry", delay)


def _finish(delivery: WebhookDelivery, state: str, status: int | None, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        last_status_code=status,
        last_error=error[:2000],
        lease_expires_at=None,
        next_attempt_at=None,
        delivered_at=timezone.now() if state == DeliveryState.DELIVERED else None,
    )


def webhook_deliveries_sweep(limit: int = 200) -> list[int]:
    """Periodic: publish pending deliveries that are due (a lost message or a retry whose task
    never ran). Returns the ids published."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now),
        state=DeliveryState.PENDING,
        created_at__lte=now - timedelta(seconds=30),
    ).values_list("pk", flat=True)[:limit]
    ids = list(due)
    for delivery_id in ids:
        webhook_send_later(delivery_id)
    return ids
