"""``/webhooks``: register, list (with each webhook's delivery log) and delete webhooks."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from authcheck import selectors
from authcheck.api import serializers as s
from authcheck.api.permissions import HasAnyRole
from authcheck.api.views import AUTH_PROBLEMS, MAX_DB_ID, ApiView, problems
from authcheck.errors import AuthcheckError
from authcheck.models import ApiToken, Webhook, WebhookDelivery, WebhookEvent
from authcheck.pipeline.fetch import MAX_URL_LENGTH
from authcheck.services.webhooks import webhook_create, webhook_delete

DELIVERIES_SHOWN = 20


class WebhookCreateSerializer(serializers.Serializer):
    """``POST /webhooks``."""

    url = s.UrlRegexField(
        r"^[Hh][Tt][Tt][Pp][Ss]?://",
        max_length=MAX_URL_LENGTH,
        help_text="https URL of the receiver (public address; no redirects are followed)",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=2
    )


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    event_id = serializers.CharField()
    check_id = serializers.IntegerField(allow_null=True)
    state = serializers.ChoiceField(choices=["pending", "delivered", "failed"])
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    token = serializers.CharField(allow_null=True, help_text="prefix of the token that made it")
    created_at = serializers.DateTimeField()
    deliveries = DeliverySerializer(many=True, help_text=f"the last {DELIVERIES_SHOWN}")


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="HMAC-SHA256 key; shown this once")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def delivery_to_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    """One entry of a webhook's delivery log."""
    return {
        "id": delivery.pk,
        "event": delivery.event,
        "event_id": delivery.event_id,
        "check_id": delivery.check_id,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": _iso(delivery.next_attempt_at),
        "created_at": _iso(delivery.created_at),
        "delivered_at": _iso(delivery.delivered_at),
    }


def webhook_to_dict(webhook: Webhook) -> dict[str, Any]:
    """A webhook with its newest deliveries (one query for those)."""
    deliveries = selectors.deliveries_recent(webhook, DELIVERIES_SHOWN)
    return {
        "id": webhook.pk,
        "url": webhook.url,
        "events": list(webhook.events or []),
        "token": webhook.token.prefix if webhook.token_id and webhook.token else None,
        "created_at": _iso(webhook.created_at),
        "deliveries": [delivery_to_dict(d) for d in deliveries],
    }


class WebhookListCreateView(ApiView):
    """``GET /webhooks`` and ``POST /webhooks``."""

    pagination_class = None  # at most MAX_WEBHOOKS_PER_USER: one page
    permission_classes = [HasAnyRole]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="webhooks_list",
        summary="Your webhooks and their delivery logs",
        responses={200: WebhookSerializer(many=True), **problems(*AUTH_PROBLEMS)},
    )
    def get(self, request: Request) -> Response:
        """The caller's webhooks, newest first, each with its last deliveries."""
        return Response([webhook_to_dict(w) for w in selectors.webhooks_of(request.user)])

    @extend_schema(
        operation_id="webhooks_create",
        summary="Register a webhook",
        description=(
            "Events: `check.finished` (one of your checks reached done or failed) and "
            "`verdict.changed` (re-verification changed the automated verdict of a check you "
            "submitted or reviewed). Each delivery is a JSON POST signed with "
            "`X-Authcheck-Signature: v1=<hex HMAC-SHA256(secret, timestamp + '.' + body)>` and "
            "`X-Authcheck-Timestamp`; reject old timestamps. The secret is shown once. Failed "
            "deliveries are retried with exponential backoff and jitter, then logged as failed."
        ),
        request=WebhookCreateSerializer,
        responses={
            201: OpenApiResponse(WebhookCreatedSerializer, description="registered"),
            **problems(400, *AUTH_PROBLEMS, 415, 422),
        },
    )
    def post(self, request: Request) -> Response:
        """Register a webhook for the caller (and the token used)."""
        form = WebhookCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        webhook, secret = webhook_create(
            user=request.user,
            token=token,
            url=form.validated_data["url"],
            events=list(form.validated_data["events"]),
        )
        shown = selectors.webhooks_of(request.user).get(pk=webhook.pk)
        return Response({**webhook_to_dict(shown), "secret": secret}, status=201)


class WebhookDetailView(ApiView):
    """``DELETE /webhooks/{id}``."""

    http_method_names = ["delete", "options"]
    permission_classes = [HasAnyRole]

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Delete a webhook",
        description="No further deliveries; its log is kept for the audit trail.",
        responses={204: None, **problems(*AUTH_PROBLEMS, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        """Stop deliveries to one of the caller's webhooks."""
        if pk > MAX_DB_ID:
            raise AuthcheckError("no such webhook", code="not_found", status=404)
        webhook_delete(user=request.user, webhook_id=pk)
        return Response(status=204)
