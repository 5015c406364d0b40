""" "Why no Content Credentials?": the ordered account on real checks and on its pure builder.

A signed photo is checked, then a re-encoded copy without its manifest: the copy's account names
the signer of the original through the frame index. A JPEG that only points at a remote manifest
shows the reference; an unrelated unsigned photo finds nothing; a signed one gets no account.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from authcheck import presenters
from authcheck.models import Check, User
from authcheck.pipeline import absence
from authcheck.services import checks, processing
from tests.c2pa_fixtures import manifest, remote_only_jpeg, sign
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db

ORDER = [
    "embedded_manifest",
    "remote_reference",
    "near_duplicate_signed",
    "unsigned_ai_labels",
    "detectors",
    "stripping_clues",
]


@pytest.fixture
def analyse(enqueued: list[int], settings):  # type: ignore[no-untyped-def]
    settings.AUTHCHECK_DETECTORS = [
        "authcheck.detectors.ai_labels.AiLabelsDetector",
        "authcheck.detectors.near_duplicate.NearDuplicateDetector",
    ]
    user = User.objects.create(username="jo", role="journalist")

    def _analyse(path: Path) -> dict:
        upload = io.BytesIO(path.read_bytes())
        check = checks.check_create(user=user, upload=upload, filename=path.name).check
        assert processing.check_process(check.pk) == "done"
        return presenters.check_to_dict(Check.objects.get(pk=check.pk))

    return _analyse


def _steps(result: dict) -> dict[str, dict]:
    account = result["no_credentials"]
    assert [s["step"] for s in account["tried"]] == ORDER
    return {s["step"]: s for s in account["tried"]}


def _photo(path: Path) -> Path:
    # Smooth bright texture: PDQ needs structure, and no dark edge the letterbox cropper trims.
    rng = np.random.default_rng(7)
    small = Image.fromarray(rng.integers(60, 220, (12, 16, 3), dtype=np.uint8), "RGB")
    small.resize((256, 192), Image.Resampling.BICUBIC).save(path, format="JPEG", quality=92)
    return path


def test_a_stripped_copy_of_signed_media_names_the_original_signer(analyse, tmp_path: Path) -> None:
    original = tmp_path / "signed.jpg"
    sign(_photo(tmp_path / "photo.jpg"), original, "image/jpeg", manifest("signed.jpg"))
    first = analyse(original)
    assert first["provenance"]["state"] == "valid"
    assert first["no_credentials"] is None
    copy = tmp_path / "copy.jpg"
    with Image.open(original) as image:
        image.resize((240, 180)).save(copy, format="JPEG", quality=70)  # manifest gone
    second = analyse(copy)
    assert second["similar"], second["signals"]
    steps = _steps(second)
    assert steps["embedded_manifest"]["found"] is False
    match = steps["near_duplicate_signed"]
    assert match["found"] is True
    assert "signed by authcheck Test Signer" in match["detail"]
    assert match["matches"][0]["check_id"] == first["id"]


def test_a_remote_only_manifest_shows_its_reference(analyse, tmp_path: Path) -> None:
    url = "https://credentials.example.org/manifests/abc.c2pa"
    steps = _steps(analyse(remote_only_jpeg(tmp_path / "remote.jpg", url)))
    assert steps["remote_reference"]["found"] is True
    assert url in steps["remote_reference"]["urls"]


def test_an_unrelated_unsigned_photo_finds_nothing(analyse, tmp_path: Path) -> None:
    result = analyse(make_image(tmp_path / "plain.jpg", size=(128, 96), fmt="JPEG"))
    steps = _steps(result)
    assert not any(s["found"] for s in steps.values())
    assert result["no_credentials"]["summary"] == "Nothing else was found about its origin."


def test_stripping_clues_name_platform_and_encoder_strings() -> None:
    account = absence.explain(
        {"state": "absent"},
        probe={"tags": {"encoder": "Lavf60.16.100"}, "streams": []},
        fields=[("exif", "Software", "Instagram 312.0")],
        signals=[{"detector": "ai_labels", "label": "ai_declared", "evidence": {"producer": "X"}}],
        matches=[],
        fired=frozenset({"indicator_high"}),
    )
    steps = {s["step"]: s for s in account["tried"]}
    assert steps["stripping_clues"]["platforms"] == ["Instagram"]
    assert steps["stripping_clues"]["encoders"] == ["FFmpeg (libavformat) muxer"]
    assert steps["unsigned_ai_labels"]["found"] is True
    assert steps["detectors"]["found"] is False
    assert "Instagram" in account["summary"]
