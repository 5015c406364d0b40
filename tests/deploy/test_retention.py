"""media_retention on local disk: old bytes and frames go, records stay, unfinished work is kept."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from authcheck import storage
from authcheck.models import AuditEvent, Check, CheckStatus, Media, Role, User
from authcheck.services import checks, processing
from authcheck.services.retention import media_retention_run
from authcheck.storage import frames_path
from tests.commands.helpers import run_command
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def user() -> User:
    return User.objects.create(username="r", role=Role.JOURNALIST)


def _checked(user: User, tmp_path: Path, seed: int, *, age_days: int, run: bool = True) -> Media:
    data = make_image(tmp_path / f"{seed}.jpg", size=(64 + seed, 48)).read_bytes()
    check = checks.check_create(user=user, upload=io.BytesIO(data), filename="x.jpg").check
    if run:
        processing.check_process(check.pk)
    Check.objects.filter(pk=check.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    media = Media.objects.get(pk=check.media_id)
    return media


def test_only_media_unused_for_n_days_loses_its_bytes_and_frames(
    user: User, tmp_path: Path, enqueued: list[int], settings
) -> None:
    settings.AUTHCHECK_DETECTORS = [
        "authcheck.detectors.spectral_artifacts.SpectralArtifactsDetector"
    ]
    old = _checked(user, tmp_path, 1, age_days=40)
    recent = _checked(user, tmp_path, 2, age_days=3)
    assert frames_path(old).exists()

    result = media_retention_run(days=30)

    assert result.purged == (old.sha256,)
    assert not storage.media_local_path(old).exists() and not frames_path(old).exists()
    assert storage.media_local_path(recent).exists()
    assert AuditEvent.objects.filter(action="media.purged").count() == 1
    assert media_retention_run(days=30).purged == ()  # a second run finds nothing to do


def test_a_dry_run_lists_and_removes_nothing(
    user: User, tmp_path: Path, enqueued: list[int], capsys
) -> None:
    old = _checked(user, tmp_path, 1, age_days=40)
    code, out, _ = run_command(capsys, "media_retention", "--days", "30", "--dry-run", "--json")
    assert code == 0
    assert json.loads(out)["purged"] == [old.sha256] and json.loads(out)["dry_run"] is True
    assert storage.media_local_path(old).exists()
    assert not AuditEvent.objects.filter(action="media.purged").exists()


def test_media_with_an_unfinished_check_is_kept(
    user: User, tmp_path: Path, enqueued: list[int]
) -> None:
    media = _checked(user, tmp_path, 1, age_days=40, run=False)
    assert Check.objects.get(media=media).status == CheckStatus.QUEUED
    assert media_retention_run(days=30).purged == ()
    assert storage.media_local_path(media).exists()


def test_zero_days_is_bad_usage(capsys) -> None:
    code, _, err = run_command(capsys, "media_retention", "--days", "0")
    assert code == 2 and "at least 1" in err
