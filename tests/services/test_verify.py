"""Synchronous verification of uploads and local files, and the current trust configuration."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest

from authcheck.errors import MediaTooLarge
from authcheck.models import TrustAnchor
from authcheck.services.trust import trust_cache_clear, trust_config_current
from authcheck.services.verify import verify_path, verify_upload
from tests.c2pa_fixtures import corpus, new_ca, test_ca

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_configured_trust(settings) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = []
    settings.AUTHCHECK_TRUST_ALLOWED_LIST = []
    trust_cache_clear()


def _anchor(pem: str, name: str = "test root", enabled: bool = True) -> TrustAnchor:
    return TrustAnchor.objects.create(
        name=name, pem=pem, sha256=hashlib.sha256(pem.encode()).hexdigest(), enabled=enabled
    )


def _tmp_files(settings) -> list[str]:
    return os.listdir(settings.UPLOAD_TMP_DIR)


def test_an_upload_is_hashed_verified_and_deleted(settings) -> None:
    data = corpus().intact_jpeg.read_bytes()
    report = verify_upload(io.BytesIO(data), "photo.jpg")
    assert report["file"] == "photo.jpg"
    assert report["sha256"] == hashlib.sha256(data).hexdigest()
    assert (report["size"], report["mime"]) == (len(data), "image/jpeg")
    assert report["state"] == "valid"  # nobody configured the test CA
    assert [f["code"] for f in report["failures"]] == ["signingCredential.untrusted"]
    assert report["active_manifest"]["signer"]["common_name"] == "authcheck Test Signer"
    assert _tmp_files(settings) == []
    json.dumps(report)


def test_an_anchor_added_in_the_dashboard_makes_the_signer_trusted() -> None:
    path = corpus().intact_jpeg
    before = verify_path(path)
    _anchor(test_ca().root_pem)
    after = verify_path(path)
    assert (before["state"], after["state"]) == ("valid", "trusted")
    assert before["trust_version"] != after["trust_version"]


def test_a_disabled_anchor_is_not_trusted() -> None:
    _anchor(test_ca().root_pem, enabled=False)
    assert verify_path(corpus().intact_jpeg)["state"] == "valid"


def test_anchor_files_from_settings_are_read_and_reread_when_changed(
    settings, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(new_ca("Unrelated").root_pem)
    settings.AUTHCHECK_TRUST_ANCHORS = [str(anchors)]
    first = trust_config_current()
    assert verify_path(corpus().intact_jpeg)["state"] == "valid"
    anchors.write_text(new_ca("Unrelated").root_pem + test_ca().root_pem)
    os.utime(anchors, ns=(os.stat(anchors).st_atime_ns, os.stat(anchors).st_mtime_ns + 10**9))
    assert trust_config_current().version != first.version
    assert verify_path(corpus().intact_jpeg)["state"] == "trusted"


def test_the_trust_config_is_cached_until_something_changes(settings, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed.pem"
    allowed.write_text(test_ca().root_pem)
    settings.AUTHCHECK_TRUST_ALLOWED_LIST = [str(allowed)]
    first = trust_config_current()
    assert trust_config_current() is first
    assert first.allowed_pem.strip() == test_ca().root_pem.strip()
    _anchor(test_ca().root_pem)
    assert trust_config_current() is not first


def test_a_missing_anchor_file_fails_towards_untrusted(settings, tmp_path: Path, caplog) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = [str(tmp_path / "gone.pem")]
    assert dict(trust_config_current().lists)["newsroom"] == ""  # shipped C2PA lists stay
    assert verify_path(corpus().intact_jpeg)["state"] == "valid"
    assert "gone.pem" in caplog.text


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff", os.urandom(4096), b"<!doctype html><script>alert(1)</script>", b"#EXTM3U\n"],
    ids=["empty", "one-byte", "random", "html", "playlist"],
)
def test_non_media_is_unsupported_with_a_code(settings, data: bytes) -> None:
    report = verify_upload(io.BytesIO(data), "x.jpg")
    assert (report["state"], report["error_code"]) == ("unsupported", "unsupported_media")
    assert report["mime"] is None and report["error"]["message"]
    assert report["sha256"] == hashlib.sha256(data).hexdigest()
    assert _tmp_files(settings) == []


def test_a_jpeg_named_png_is_read_by_its_bytes(tmp_path: Path) -> None:
    misnamed = tmp_path / "photo.png"
    misnamed.write_bytes(corpus().unsigned_jpeg.read_bytes())
    report = verify_path(misnamed)
    assert (report["mime"], report["state"], report["error"]) == ("image/jpeg", "absent", None)


def test_an_upload_over_the_cap_is_refused_and_removed(settings) -> None:
    settings.AUTHCHECK_MAX_UPLOAD_BYTES = 100
    with pytest.raises(MediaTooLarge):
        verify_upload(io.BytesIO(b"\xff\xd8\xff" + b"\0" * 200), "big.jpg")
    assert _tmp_files(settings) == []


def test_the_temp_file_is_removed_when_verification_fails(settings, monkeypatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("authcheck.services.verify.provenance.read", boom)
    with pytest.raises(RuntimeError):
        verify_upload(io.BytesIO(corpus().intact_jpeg.read_bytes()), "x.jpg")
    assert _tmp_files(settings) == []


def test_a_control_character_file_name_is_cleaned() -> None:
    report = verify_upload(io.BytesIO(corpus().unsigned_jpeg.read_bytes()), "a\x00b\u202e.jpg")
    assert report["file"] == "ab\u202e.jpg"
