"""Submitting and processing checks: storage, dedupe, claims, retries, failures, the audit trail."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from authcheck.errors import AuthcheckError, TransientFetchError, UnsupportedMedia
from authcheck.models import AuditEvent, Check, Media, Role, User, Verdict
from authcheck.services import checks, processing
from authcheck.services.audit import audit_verify
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def journalist() -> User:
    return User.objects.create(username="jo", role=Role.JOURNALIST)


@pytest.fixture
def jpeg_bytes(tmp_path: Path) -> bytes:
    return make_image(tmp_path / "photo.jpg", size=(96, 64)).read_bytes()


def submit(user: User, data: bytes, name: str = "photo.jpg", **kw: object) -> checks.Submission:
    return checks.check_create(user=user, upload=io.BytesIO(data), filename=name, **kw)


def test_upload_is_stored_once_under_a_random_extensionless_name(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int], settings
) -> None:
    first = submit(journalist, jpeg_bytes, name="%d.jpg")
    second = submit(journalist, jpeg_bytes, name="concat:a|b.jpg")
    assert Media.objects.count() == 1
    media = Media.objects.get()
    assert first.check.media_id == second.check.media_id == media.pk
    assert "." not in media.storage_name and "jpg" not in media.storage_name
    stored = list(Path(settings.MEDIA_ROOT).rglob("*"))
    assert [p.name for p in stored if p.is_file()] == [media.storage_name]
    assert first.check.original_filename == "%d.jpg"


def test_it_refuses_non_media_and_keeps_nothing(journalist: User, settings) -> None:
    with pytest.raises(UnsupportedMedia):
        submit(journalist, b"<script>alert(1)</script>", name="x.jpg")
    assert Media.objects.count() == 0 and Check.objects.count() == 0
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))
    assert not any(Path(settings.UPLOAD_TMP_DIR).iterdir())


@pytest.mark.parametrize("data", [b"", b"\xff", os.urandom(4096)])
def test_empty_and_random_bytes_are_unsupported_media(journalist: User, data: bytes) -> None:
    with pytest.raises(UnsupportedMedia) as info:
        submit(journalist, data)
    assert info.value.code == "unsupported_media"


def test_it_enqueues_only_after_commit(
    journalist: User,
    jpeg_bytes: bytes,
    enqueued: list[int],
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sub = submit(journalist, jpeg_bytes)
        assert enqueued == []
    assert enqueued == [sub.check.pk]


def test_a_rolled_back_submission_publishes_nothing(
    journalist: User,
    jpeg_bytes: bytes,
    enqueued: list[int],
    django_capture_on_commit_callbacks,
) -> None:
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            submit(journalist, jpeg_bytes)
            raise RuntimeError("rollback")
    assert callbacks == [] and enqueued == []
    assert Check.objects.count() == 0


def test_processing_an_unsigned_image_gives_no_provenance(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int]
) -> None:
    check = submit(journalist, jpeg_bytes).check
    assert processing.check_process(check.pk) == "done"
    check.refresh_from_db()
    verdict = Verdict.objects.get(check_ref=check)
    assert check.status == "done" and verdict.label == "no_provenance"
    assert verdict.versions["c2pa_sdk"] and verdict.versions["trust"]
    states = dict(check.stages.values_list("name", "state"))
    assert states["provenance"] == "done" and states["probe"] == "done"
    assert check.media.probe["width"] == 96


def test_known_media_is_answered_at_once_without_queueing(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int]
) -> None:
    first = submit(journalist, jpeg_bytes).check
    processing.check_process(first.pk)
    enqueued.clear()
    again = submit(journalist, jpeg_bytes)
    assert again.known and again.check.status == "done"
    assert Verdict.objects.get(check_ref=again.check).label == "no_provenance"
    assert enqueued == []


def test_processing_twice_yields_one_verdict(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int]
) -> None:
    check = submit(journalist, jpeg_bytes).check
    assert processing.check_process(check.pk) == "done"
    assert processing.check_process(check.pk) == "not_claimed"
    assert Verdict.objects.filter(check_ref=check).count() == 1
    assert AuditEvent.objects.filter(check_id=check.pk, action="verdict.issued").count() == 1


def test_a_claim_is_exclusive_while_its_lease_lasts(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int]
) -> None:
    check = submit(journalist, jpeg_bytes).check
    assert checks.check_claim(check.pk) is not None
    assert checks.check_claim(check.pk) is None
    Check.objects.filter(pk=check.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert checks.check_claim(check.pk) is not None


def test_the_claim_of_a_dead_worker_on_this_host_is_taken_over(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int]
) -> None:
    import socket
    import subprocess

    check = submit(journalist, jpeg_bytes).check
    dead = subprocess.Popen(["true"])
    dead.wait()
    Check.objects.filter(pk=check.pk).update(
        status="running",
        claimed_by=f"{socket.gethostname()}:{dead.pid}",
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(hours=1),
    )
    assert processing.check_process(check.pk) == "done"
    check.refresh_from_db()
    assert check.attempts == 2 and check.status == "done"


def test_poison_input_fails_after_the_attempts_run_out(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int], settings
) -> None:
    settings.AUTHCHECK_MAX_ATTEMPTS = 3
    check = submit(journalist, jpeg_bytes).check
    Check.objects.filter(pk=check.pk).update(attempts=3)
    assert processing.check_process(check.pk) == "failed"
    check.refresh_from_db()
    assert (check.status, check.error_code) == ("failed", "poison_input")
    assert Verdict.objects.get(check_ref=check).label == "error"


def test_a_transient_fetch_error_releases_the_claim_then_fails_as_fetch_failed(
    journalist: User, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: object, **kwargs: object) -> None:
        raise TransientFetchError("connection timed out", code="deadline")

    monkeypatch.setattr("authcheck.pipeline.fetch.fetch", unreachable)
    check = checks.check_create(user=journalist, url="https://example.org/a.jpg").check
    with pytest.raises(TransientFetchError):
        processing.check_process(check.pk)
    check.refresh_from_db()
    assert (check.status, check.attempts) == ("queued", 0)
    assert processing.check_process(check.pk, retry_transient=False) == "failed"
    check.refresh_from_db()
    assert (check.status, check.error_code) == ("failed", "fetch_failed")


def test_a_permanent_fetch_error_becomes_an_error_verdict_with_its_code(
    journalist: User, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from authcheck.errors import FetchError

    def blocked(*args: object, **kwargs: object) -> None:
        raise FetchError("the address 10.0.0.5 is not public", code="url_blocked")

    monkeypatch.setattr("authcheck.pipeline.fetch.fetch", blocked)
    check = checks.check_create(user=journalist, url="https://example.org/a.jpg").check
    assert processing.check_process(check.pk) == "failed"
    check.refresh_from_db()
    verdict = Verdict.objects.get(check_ref=check)
    assert (check.error_code, verdict.label, verdict.rule) == (
        "url_blocked",
        "error",
        "error.url_blocked",
    )
    stages = dict(check.stages.values_list("name", "state"))
    assert stages["fetch"] == "failed" and stages["provenance"] == "skipped"


def test_a_truncated_image_gets_an_error_verdict_not_a_crash(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int]
) -> None:
    check = submit(journalist, jpeg_bytes[:40]).check
    assert processing.check_process(check.pk) == "failed"
    check.refresh_from_db()
    assert check.error_code.startswith("media_")
    assert Verdict.objects.get(check_ref=check).label == "error"


def test_the_sweeper_requeues_lost_and_expired_work_but_not_fresh_work(
    journalist: User,
    jpeg_bytes: bytes,
    tmp_path: Path,
    enqueued: list[int],
    django_capture_on_commit_callbacks,
) -> None:
    lost = submit(journalist, jpeg_bytes).check
    other = make_image(tmp_path / "other.png", size=(40, 40), color=(1, 2, 3))
    expired = submit(journalist, other.read_bytes(), name="other.png").check
    fresh = submit(journalist, make_image(tmp_path / "f.png", color=(9, 9, 9)).read_bytes()).check
    long_ago = timezone.now() - timedelta(minutes=10)
    Check.objects.filter(pk=lost.pk).update(last_enqueued_at=long_ago)
    Check.objects.filter(pk=expired.pk).update(status="running", lease_expires_at=long_ago)
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        swept = checks.checks_sweep()
    assert sorted(swept) == sorted([lost.pk, expired.pk]) == sorted(enqueued)
    assert fresh.pk not in swept


def test_every_state_change_is_audited_and_the_chain_holds(
    journalist: User, jpeg_bytes: bytes, enqueued: list[int]
) -> None:
    check = submit(journalist, jpeg_bytes).check
    processing.check_process(check.pk)
    actions = list(AuditEvent.objects.filter(check_id=check.pk).values_list("action", flat=True))
    assert actions == ["check.created", "media.attached", "check.started", "verdict.issued"]
    assert audit_verify().ok


def test_a_url_and_a_file_together_are_refused(journalist: User) -> None:
    with pytest.raises(AuthcheckError) as info:
        checks.check_create(user=journalist, url="https://e.org/x", upload=io.BytesIO(b"x"))
    assert info.value.code == "invalid_request"
