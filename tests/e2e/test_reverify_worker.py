"""End to end through a real Celery worker, Redis and PostgreSQL: disabling a trust anchor
re-verifies stored media in the background and produces exactly one new verdict row, one audit
event and one signed webhook delivery (checked by a receiver on 127.0.0.1) per affected check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction

from authcheck.celery import app
from authcheck.models import AuditEvent, Check, Role, User, Verdict, WebhookDelivery
from authcheck.services.checks import check_create
from authcheck.services.trust import trust_cache_clear
from authcheck.services.trust_anchors import trust_anchor_add, trust_anchor_disable
from authcheck.services.webhooks import webhook_create
from tests.c2pa_fixtures import signed_jpeg, test_ca
from tests.e2e.conftest import Worker, wait_until
from tests.mediagen import make_image
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker_env(settings) -> dict[str, str]:
    # The webhook secret is derived from SECRET_KEY: web and worker must share it (as they do
    # in a deployment); the worker's own data directory would otherwise generate another.
    return {
        "AUTHCHECK_DETECTORS": "authcheck.detectors.ai_labels.AiLabelsDetector",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
    }


def _submit(user: User, path: Path) -> int:
    with open(path, "rb") as handle:
        return check_create(user=user, upload=handle, filename=path.name).check.pk


def _finished(ids: list[int]) -> bool:
    return Check.objects.filter(pk__in=ids, status="done").count() == len(ids)


def test_disabling_an_anchor_reverifies_in_the_background_through_the_worker(
    celery_worker: Worker, receiver: Receiver, tmp_path: Path, settings
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    trust_cache_clear()
    anchor = trust_anchor_add(pem=test_ca().root_pem, name="Test newsroom CA", user=None)
    jo = User.objects.create(username="jo", role=Role.JOURNALIST)
    secret = webhook_create(user=jo, url=receiver.url(), events=["verdict.changed"])[1]
    signed = _submit(jo, signed_jpeg(tmp_path / "signed.jpg"))
    plain = _submit(jo, make_image(tmp_path / "plain.jpg", size=(40, 30)))
    wait_until(lambda: _finished([signed, plain]), timeout=120, what="both checks to finish")
    assert Verdict.objects.get(check_ref_id=signed).label == "provenance_verified"

    trust_anchor_disable(sha256=anchor.sha256, user=None)
    with transaction.atomic():  # as celery beat sends it: by name, to its route
        transaction.on_commit(lambda: app.send_task("authcheck.tasks.reverify_task"))
    wait_until(lambda: receiver.received, timeout=120, what="the signed webhook delivery")

    [delivery] = receiver.verified(secret)
    body = json.loads(delivery.body)
    assert body["event"] == "verdict.changed" and body["data"]["check_id"] == signed
    assert body["data"]["verdict"]["label"] == "provenance_untrusted"
    labels = list(
        Verdict.objects.filter(check_ref_id=signed).order_by("pk").values_list("label", flat=True)
    )
    assert labels == ["provenance_verified", "provenance_untrusted"]
    assert Verdict.objects.filter(check_ref_id=plain).count() == 1
    changed = AuditEvent.objects.filter(action="verdict.changed")
    assert [e.check_id for e in changed] == [signed]
    wait_until(
        lambda: WebhookDelivery.objects.filter(state="delivered").count() == 1,
        what="the delivery to be logged",
    )
    # A second pass in the background finds nothing left to do.
    app.send_task("authcheck.tasks.reverify_task")
    celery_worker.wait_for("reverify_task", count=4, timeout=60)  # received + succeeded, twice
    assert Verdict.objects.filter(check_ref_id=signed).count() == 2
    assert len(receiver.received) == 1 and WebhookDelivery.objects.count() == 1
