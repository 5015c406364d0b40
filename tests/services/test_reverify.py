"""Re-verification: disabling a trust anchor re-examines stored media in the background and
records exactly one new verdict row, one audit event and one signed webhook delivery per
affected check; an editor's decision is never overwritten, the check is flagged instead."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from authcheck import tasks
from authcheck.models import AuditEvent, Check, User, Verdict, WebhookDelivery
from authcheck.services import processing, webhooks
from authcheck.services.checks import check_create
from authcheck.services.reverify import reverify_pass
from authcheck.services.reviews import review_record
from authcheck.services.trust import trust_cache_clear
from authcheck.services.trust_anchors import trust_anchor_add, trust_anchor_disable
from tests.c2pa_fixtures import signed_jpeg, test_ca
from tests.commands.helpers import run_command
from tests.factories import UserFactory, token_for
from tests.mediagen import make_image
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    trust_cache_clear()


@pytest.fixture
def deliver_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliveries sent after commit are attempted at once in this thread (the test's
    transaction is invisible to the in-process pool's own connections)."""
    monkeypatch.setattr(
        webhooks, "webhook_send_later", lambda pk: webhooks.webhook_delivery_attempt(pk)
    )


def _submit(user: User, path: Path) -> int:
    with open(path, "rb") as handle:
        check = check_create(user=user, upload=handle, filename=path.name).check
    assert processing.check_process(check.pk) == "done"
    return check.pk


def _register(user: User, receiver: Receiver, events: list[str]) -> str:
    return webhooks.webhook_create(user=user, url=receiver.url(), events=events)[1]


def _automated(check_id: int) -> list[Verdict]:
    return list(Verdict.objects.filter(check_ref_id=check_id, author__isnull=True).order_by("pk"))


@pytest.fixture
def world(tmp_path: Path, receiver: Receiver) -> dict[str, Any]:
    """Two signed photos and one unsigned, examined while the test CA is a trust anchor."""
    anchor = trust_anchor_add(pem=test_ca().root_pem, name="Test newsroom CA", user=None)
    jo = UserFactory(username="jo")
    signed = [
        _submit(jo, signed_jpeg(tmp_path / "a.jpg")),
        _submit(jo, signed_jpeg(tmp_path / "b.jpg")),
    ]
    plain = _submit(jo, make_image(tmp_path / "plain.jpg", size=(40, 30)))
    assert {_automated(pk)[0].label for pk in signed} == {"provenance_verified"}
    secret = _register(jo, receiver, ["verdict.changed"])
    return {"anchor": anchor, "jo": jo, "signed": signed, "plain": plain, "secret": secret}


def test_disabling_an_anchor_gives_one_verdict_one_event_one_delivery_per_affected_check(
    world: dict[str, Any],
    receiver: Receiver,
    deliver_now: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    before = reverify_pass(limit=100)  # stored checks are current: nothing changes
    assert (before.examined, before.changed) == (3, 0)
    trust_anchor_disable(sha256=world["anchor"].sha256, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.reverify_task()  # the periodic task, as celery beat runs it
    for pk in world["signed"]:
        old, new = _automated(pk)
        assert (old.label, new.label) == ("provenance_verified", "provenance_untrusted")
        assert new.replaces_id == old.pk and new.versions["trust"] != old.versions["trust"]
        assert set(new.cause["changed"]) == {"trust"}
        assert new.cause["provenance_state"] == {"from": "trusted", "to": "valid"}
        assert "trust configuration changed" in new.cause["reason"]
    assert len(_automated(world["plain"])) == 1
    changed = AuditEvent.objects.filter(action="verdict.changed")
    assert sorted(e.check_id for e in changed) == sorted(world["signed"])
    signed_ok = receiver.verified(world["secret"])
    assert len(signed_ok) == len(receiver.received) == 2
    bodies = [json.loads(r.body) for r in signed_ok]
    assert sorted(b["data"]["check_id"] for b in bodies) == sorted(world["signed"])
    assert {b["event"] for b in bodies} == {"verdict.changed"}
    assert {b["data"]["verdict"]["label"] for b in bodies} == {"provenance_untrusted"}
    # Idempotent: a second pass (and a second task run) changes nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.reverify_task()
    assert reverify_pass(limit=100).examined == 0
    assert Verdict.objects.filter(author__isnull=True).count() == 5
    assert AuditEvent.objects.filter(action="verdict.changed").count() == 2
    assert WebhookDelivery.objects.count() == 2 and len(receiver.received) == 2


def _client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


def test_the_check_json_shows_the_new_verdict_with_its_cause(world) -> None:
    trust_anchor_disable(sha256=world["anchor"].sha256, user=None)
    reverify_pass()
    body = _client(world["jo"]).get(f"/api/v1/checks/{world['signed'][0]}").json()
    assert body["verdict"]["label"] == "provenance_untrusted" and body["verdict"]["cause"]
    assert body["verdict"]["replaces"] == body["verdict_history"][0]["id"]
    assert body["provenance"]["state"] == "valid"  # the evidence of the new verdict
    assert body["review_needed"] is False


def test_a_flip_under_a_review_is_flagged_never_overwritten(world, receiver) -> None:
    editor = UserFactory(username="ed", role="editor")
    reviewed = world["signed"][0]
    check = Check.objects.get(pk=reviewed)
    review = review_record(check=check, user=editor, decision="authentic", note="called them")
    _register(editor, receiver, ["verdict.changed"])
    trust_anchor_disable(sha256=world["anchor"].sha256, user=None)
    result = reverify_pass()
    assert (result.changed, result.flagged) == (2, 1)
    body = _client(world["jo"]).get(f"/api/v1/checks/{reviewed}").json()
    assert body["verdict"]["id"] == review.pk and body["verdict"]["decision"] == "authentic"
    assert body["review_needed"] is True and body["review_needed_since"]
    assert [v["label"] for v in body["verdict_history"] if v["kind"] == "automated"] == [
        "provenance_untrusted",
        "provenance_verified",
    ]
    # Both the submitter and the reviewer are told; the event says an editor must look.
    deliveries = WebhookDelivery.objects.filter(check_id=reviewed)
    assert {d.webhook.owner.username for d in deliveries} == {"jo", "ed"}
    assert all(json.loads(d.body)["data"]["review_needed"] for d in deliveries)
    review_record(check=check, user=editor, decision="inconclusive", note="signer not trusted")
    assert Check.objects.get(pk=reviewed).review_needed_at is None


def test_manage_py_reverify_prints_how_many_verdicts_changed(world, capsys) -> None:
    trust_anchor_disable(sha256=world["anchor"].sha256, user=None)
    code, out, _ = run_command(capsys, "reverify")
    assert code == 0
    assert (
        out.strip() == "re-verified 3 checks: 2 verdicts changed, 0 of them flagged for an editor"
    )
    code, out, _ = run_command(capsys, "reverify")
    assert out.strip().startswith("re-verified 0 checks: 0 verdicts changed")


def test_a_pass_is_bounded_and_resumes_where_it_stopped(world) -> None:
    trust_anchor_disable(sha256=world["anchor"].sha256, user=None)
    first = reverify_pass(limit=2)
    assert (first.examined, first.more) == (2, True)
    second = reverify_pass(limit=2)
    assert (second.examined, second.more) == (1, False)
    assert first.changed + second.changed == 2


def test_a_check_that_fails_to_reverify_does_not_stall_the_queue(world, monkeypatch) -> None:
    trust_anchor_disable(sha256=world["anchor"].sha256, user=None)
    from authcheck.services import reverify

    real = reverify.check_reverify
    first = world["signed"][0]

    def broken(check_id: int, *args: Any) -> str:
        if check_id == first:
            raise RuntimeError("media file missing")
        return real(check_id, *args)

    monkeypatch.setattr(reverify, "check_reverify", broken)
    result = reverify_pass(limit=100)
    assert (result.examined, result.changed) == (3, 1)
    assert reverify_pass(limit=100).examined == 0
