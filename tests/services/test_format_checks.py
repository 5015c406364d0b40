"""Whole checks of the new formats: an iPhone HEIC runs every image detector like a JPEG, and a
signed PDF is concluded from its Content Credentials with the detectors skipped for a reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from authcheck import presenters
from authcheck.models import Check, User
from authcheck.services import checks, processing
from tests.c2pa_fixtures import manifest, sign
from tests.mediagen import make_image
from tests.pipeline.test_formats import _pdf, iphone_heic

pytestmark = pytest.mark.django_db

IMAGE_DETECTORS = [
    "authcheck.detectors.ai_labels.AiLabelsDetector",
    "authcheck.detectors.container_profile.ContainerProfileDetector",
    "authcheck.detectors.spectral_artifacts.SpectralArtifactsDetector",
    "authcheck.detectors.invisible_watermark.InvisibleWatermarkDetector",
]


@pytest.fixture
def analyse(enqueued: list[int], settings):  # type: ignore[no-untyped-def]
    settings.AUTHCHECK_DETECTORS = IMAGE_DETECTORS
    user = User.objects.create(username="jo", role="journalist")

    def _analyse(path: Path) -> dict:
        upload = io.BytesIO(path.read_bytes())
        check = checks.check_create(user=user, upload=upload, filename=path.name).check
        assert processing.check_process(check.pk) == "done"
        return presenters.check_to_dict(Check.objects.get(pk=check.pk))

    return _analyse


def _detectors(result: dict) -> dict[str, str]:
    return {s["detector"]: s["error"] or "" for s in result["signals"]}


def test_an_iphone_heic_runs_the_same_detectors_as_a_jpeg(analyse, tmp_path: Path) -> None:
    heic = analyse(iphone_heic(tmp_path / "IMG_0001.HEIC", size=(256, 192)))
    jpeg = analyse(make_image(tmp_path / "photo.jpg", size=(256, 192), fmt="JPEG"))
    assert heic["media"]["mime"] == "image/heic" and heic["media"]["kind"] == "image"
    assert set(_detectors(heic)) == set(_detectors(jpeg)) and len(_detectors(heic)) == 4
    assert all(error == "" for error in _detectors(heic).values()), _detectors(heic)
    assert heic["verdict"]["label"] != "error"


def test_a_signed_pdf_is_verified_and_the_detectors_say_why_they_did_not_run(
    analyse, tmp_path: Path
) -> None:
    signed = tmp_path / "statement.pdf"
    sign(_pdf(tmp_path / "src.pdf"), signed, "application/pdf", manifest("statement.pdf"))
    result = analyse(signed)
    assert result["media"]["kind"] == "document"
    assert result["provenance"]["state"] == "valid"
    assert result["verdict"]["label"] == "provenance_untrusted"
    stages = {s["name"]: s for s in result["stages"]}
    assert "Content Credentials only" in str(stages["detectors"])
