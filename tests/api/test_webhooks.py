"""Webhooks: registration over the API, signed deliveries after commit, retries with backoff,
and the delivery log its owner sees."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from authcheck.models import ApiToken, AuditEvent, WebhookDelivery
from authcheck.services import processing, webhooks
from tests.api.helpers import problem

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks"


def register(client, url: str, events=("check.finished",)) -> dict:
    response = client.post(HOOKS, {"url": url, "events": list(events)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def finish_upload(client, jpeg, committed) -> tuple[int, list]:
    """Submit and process an upload; returns the check id and the on-commit callbacks run."""
    handle = io.BytesIO(jpeg.read_bytes())
    handle.name = "p.jpg"
    check_id = client.post("/api/v1/checks", {"file": handle}, format="multipart").json()["id"]
    with committed(execute=False) as callbacks:
        assert processing.check_process(check_id) == "done"
    return check_id, callbacks


@pytest.fixture(autouse=True)
def _one_detector(settings) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]


def test_register_shows_the_secret_once_then_lists_and_deletes(jo, receiver) -> None:
    created = register(jo, receiver.url())
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["events"] == ["check.finished"] and created["token"]
    listed = jo.get(HOOKS).json()
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    assert jo.delete(f"{HOOKS}/{created['id']}").status_code == 204
    assert jo.get(HOOKS).json() == []
    problem(jo.delete(f"{HOOKS}/{created['id']}"), 404, "not_found")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"webhook.created", "webhook.deleted"} <= actions


def test_someone_elses_webhook_cannot_be_seen_or_deleted(jo, ed, receiver) -> None:
    created = register(jo, receiver.url())
    assert ed.get(HOOKS).json() == []
    problem(ed.delete(f"{HOOKS}/{created['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("http://hooks.example/x", 422, "url_scheme"),
        ("https://127.0.0.1/x", 422, "url_blocked"),
        ("https://hooks.example:8443/x", 422, "url_port"),
        ("https://hooks.example/\x00", 422, "url_invalid"),
    ],
)
def test_unsafe_receiver_urls_are_refused(jo, url: str, status: int, code: str) -> None:
    problem(jo.post(HOOKS, {"url": url, "events": ["check.finished"]}, format="json"), status, code)


def test_unknown_events_are_a_validation_error(jo) -> None:
    body = {"url": "https://hooks.example/x", "events": ["check.deleted"]}
    assert (
        "events" in problem(jo.post(HOOKS, body, format="json"), 400, "validation_error")["errors"]
    )


def test_a_finished_check_is_delivered_signed_after_commit(jo, jpeg, committed, receiver) -> None:
    secret = register(jo, receiver.url())["secret"]
    check_id, callbacks = finish_upload(jo, jpeg, committed)
    delivery = WebhookDelivery.objects.get()
    # Only queued on commit: nothing reached the receiver while the check was being closed.
    assert receiver.received == []
    sends = [
        c for c in callbacks if isinstance(c, partial) and c.func is webhooks.webhook_send_later
    ]
    assert [c.args for c in sends] == [(delivery.pk,)]
    assert webhooks.webhook_delivery_attempt(delivery.pk).outcome == "delivered"
    [got] = receiver.verified(secret)
    payload = json.loads(got.body)
    assert (
        payload["event"] == "check.finished"
        and got.headers["X-Authcheck-Event"] == "check.finished"
    )
    assert payload["data"]["check_id"] == check_id and payload["data"]["status"] == "done"
    assert payload["data"]["verdict"]["label"] == "no_provenance"
    assert receiver.verified("whsec_wrong") == []
    log = jo.get(HOOKS).json()[0]["deliveries"]
    assert [(d["state"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("delivered", 1, 200)
    ]
    assert webhooks.webhook_delivery_attempt(delivery.pk).outcome == "not_due"  # once only


def test_a_failing_receiver_is_retried_with_backoff_and_logged(
    jo, jpeg, committed, receiver, settings
) -> None:
    settings.AUTHCHECK_WEBHOOK_BACKOFF_SECONDS = 30
    receiver.statuses = [500, 503]
    secret = register(jo, receiver.url())["secret"]
    finish_upload(jo, jpeg, committed)
    delivery = WebhookDelivery.objects.get()
    first = webhooks.webhook_delivery_attempt(delivery.pk)
    assert first.outcome == "retry" and 30 <= first.delay <= 36
    logged = jo.get(HOOKS).json()[0]["deliveries"][0]
    assert logged["state"] == "pending" and logged["attempts"] == 1
    assert logged["last_status_code"] == 500 and logged["last_error"].startswith("HTTP 500")
    assert webhooks.webhook_delivery_attempt(delivery.pk).outcome == "not_due"
    _make_due(delivery)
    second = webhooks.webhook_delivery_attempt(delivery.pk)
    assert second.outcome == "retry" and 60 <= second.delay <= 72  # doubled
    _make_due(delivery)
    assert webhooks.webhook_delivery_attempt(delivery.pk).outcome == "delivered"
    assert len(receiver.received) == 3 and len(receiver.verified(secret)) == 3
    done = jo.get(HOOKS).json()[0]["deliveries"][0]
    assert (done["state"], done["attempts"], done["last_error"]) == ("delivered", 3, "")


def test_a_delivery_is_given_up_after_the_cap(jo, jpeg, committed, receiver, settings) -> None:
    settings.AUTHCHECK_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500, 500, 500]
    register(jo, receiver.url())
    finish_upload(jo, jpeg, committed)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.webhook_delivery_attempt(delivery.pk).outcome == "retry"
    _make_due(delivery)
    assert webhooks.webhook_delivery_attempt(delivery.pk).outcome == "failed"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert len(receiver.received) == 2


def test_a_dead_receiver_is_retried_as_a_connection_failure(jo, jpeg, committed, settings):
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    register(jo, "http://127.0.0.1:9/nobody-listens")
    finish_upload(jo, jpeg, committed)
    attempt = webhooks.webhook_delivery_attempt(WebhookDelivery.objects.get().pk)
    assert attempt.outcome == "retry"
    assert WebhookDelivery.objects.get().last_error.startswith("fetch_connection_failed")


def test_webhooks_of_a_revoked_token_get_nothing(jo, jpeg, committed, receiver) -> None:
    register(jo, receiver.url())
    ApiToken.objects.update(revoked_at=timezone.now() - timedelta(seconds=1))
    # A fresh token for the same user to submit with; the webhook's own token stays revoked.
    from authcheck.models import User
    from tests.factories import token_for

    jo.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(User.objects.get(username='jo'))}")
    finish_upload(jo, jpeg, committed)
    assert not WebhookDelivery.objects.exists()


def test_the_sweeper_resends_due_deliveries_only(jo, jpeg, committed, receiver, monkeypatch):
    register(jo, receiver.url())
    finish_upload(jo, jpeg, committed)
    delivery = WebhookDelivery.objects.get()
    sent: list[int] = []
    monkeypatch.setattr(webhooks, "webhook_send_later", sent.append)
    assert webhooks.webhook_deliveries_sweep() == []  # too fresh: its own message is on the way
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert webhooks.webhook_deliveries_sweep() == [delivery.pk] and sent == [delivery.pk]


def _make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
