"""Media in S3-compatible storage, against moto's S3 server over HTTP on 127.0.0.1:
upload, analyze, serve, retention, and a tampered object refused."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from authcheck import storage
from authcheck.errors import MediaError
from authcheck.models import AuditEvent, Check, Media, Role, User, Verdict
from authcheck.services import processing
from authcheck.services.audit import audit_verify
from authcheck.services.tokens import token_create
from tests.commands.helpers import run_command
from tests.deploy.s3server import S3
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(enqueued: list[int]) -> APIClient:
    user = User.objects.create(username="s3user", role=Role.JOURNALIST)
    _, raw = token_create(user=user, name="s3")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def image(tmp_path: Path) -> bytes:
    return make_image(tmp_path / "src.jpg", size=(96, 64)).read_bytes()


def _upload(api: APIClient, data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "upload.jpg"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        response = api.post("/api/v1/checks", {"file": handle}, format="multipart")
    assert response.status_code in {200, 202}, response.content  # 200: known media
    return int(response.json()["id"])


def test_an_upload_is_stored_in_the_bucket_and_not_on_local_disk(
    s3: S3, api: APIClient, image: bytes, tmp_path: Path, settings
) -> None:
    check_id = _upload(api, image, tmp_path)
    media = Check.objects.get(pk=check_id).media
    assert media is not None
    assert s3.keys() == [f"media/{media.storage_name[:2]}/{media.storage_name}"]
    body = s3.client().get_object(Bucket=s3.bucket, Key=s3.keys()[0])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == media.sha256
    local = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert local == []
    assert not any(Path(settings.UPLOAD_TMP_DIR).iterdir())


def test_a_worker_analyzes_media_read_back_from_the_bucket(
    s3: S3, api: APIClient, image: bytes, tmp_path: Path, settings
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    check_id = _upload(api, image, tmp_path)
    assert processing.check_process(check_id) == "done"
    check = Check.objects.get(pk=check_id)
    assert check.verdicts.get().label == "no_provenance"
    assert check.media is not None and check.media.probe["width"] == 96
    cached = storage.media_local_path(check.media)
    assert cached.is_relative_to(Path(settings.MEDIA_ROOT) / "cache")
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == check.media.sha256


def test_media_is_served_by_a_short_lived_presigned_url_only(
    s3: S3, api: APIClient, image: bytes, tmp_path: Path
) -> None:
    media = Check.objects.get(pk=_upload(api, image, tmp_path)).media
    assert media is not None
    url = storage.media_url(media)
    assert url is not None
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["300"]
    assert httpx.get(url).content == image
    unsigned = url.split("?", 1)[0]
    assert httpx.get(unsigned).status_code == 403  # private objects: no anonymous reads
    assert b"".join(storage.media_chunks(media)) == image


def test_an_object_changed_in_the_bucket_is_refused(
    s3: S3, api: APIClient, image: bytes, tmp_path: Path
) -> None:
    media = Check.objects.get(pk=_upload(api, image, tmp_path)).media
    assert media is not None
    s3.client().put_object(Bucket=s3.bucket, Key=s3.keys()[0], Body=image[:-1] + b"\x00")
    with pytest.raises(MediaError) as info:
        storage.media_local_path(media)
    assert info.value.code == "storage_mismatch"
    assert not storage._cache_path(media.storage_name).exists()


def test_readyz_checks_the_bucket(s3: S3, settings) -> None:
    settings.CELERY_BROKER_URL = ""
    assert Client().get("/readyz").json()["checks"]["media"] == "ok"
    s3.client().delete_bucket(Bucket=s3.bucket)
    response = Client().get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["media"]


def test_retention_removes_the_object_and_keeps_hash_report_verdict_and_audit(
    s3: S3, api: APIClient, image: bytes, tmp_path: Path, settings, capsys
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    check_id = _upload(api, image, tmp_path)
    processing.check_process(check_id)
    media = Media.objects.get(checks__pk=check_id)
    cached = storage.media_local_path(media)
    Check.objects.filter(pk=check_id).update(created_at=timezone.now() - timedelta(days=31))

    code, out, _ = run_command(capsys, "media_retention", "--days", "30")

    assert code == 0 and media.sha256 in out
    assert s3.keys() == [] and not cached.exists()
    media.refresh_from_db()
    assert media.purged_at is not None and media.sha256 == hashlib.sha256(image).hexdigest()
    assert Verdict.objects.get(check_ref_id=check_id).label == "no_provenance"
    assert media.provenance_reports.exists() and media.signals.exists()
    event = AuditEvent.objects.get(action="media.purged")
    assert event.actor == "cli:media_retention" and media.sha256 in event.body
    assert audit_verify().ok

    # The same bytes submitted again are stored again under the same record.
    _upload(api, image, tmp_path)
    media.refresh_from_db()
    assert media.purged_at is None and len(s3.keys()) == 1
