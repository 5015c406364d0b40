"""Real findings through the whole pipeline (submit, process, present), not detector by detector:
a labelled clip is declared and an unlabelled one is not; a letterboxed, re-encoded copy is traced
to the check of its original; an unrelated clip is not."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from authcheck import presenters
from authcheck.models import Check, User
from authcheck.services import checks, processing
from tests.mediagen import letterboxed_copy, make_lavfi_clip, make_photo_video, make_video

pytestmark = pytest.mark.django_db

KLING = {"Label": "1", "ContentProducer": "kling", "ProduceID": "KLingMuse_0a1b2c"}


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


def test_a_tc260_labelled_clip_is_declared_unsigned_and_an_unlabelled_one_is_not(
    analyse, tmp_path: Path
) -> None:
    labelled = make_video(
        tmp_path / "kling.mp4",
        seconds=1,
        metadata={"AIGC": json.dumps(KLING)},
        extra=("-movflags", "use_metadata_tags"),
    )
    plain = make_video(tmp_path / "plain.mp4", seconds=1)

    declared = analyse(labelled)["verdict"]
    assert declared["label"] == "declared_synthetic"
    assert declared["rule"] == "unsigned_label.ai_labels"
    assert "kling" in declared["summary"] and "unsigned" in declared["summary"]
    assert analyse(plain)["verdict"]["label"] == "no_provenance"


def test_a_letterboxed_reencoded_copy_is_traced_to_the_check_of_its_original(
    analyse, tmp_path: Path
) -> None:
    original = make_photo_video(tmp_path / "original.mp4", seconds=3, size="640x360")
    copy = letterboxed_copy(original, tmp_path / "copy.mp4", width=512, crf=33)
    life = "life=size=640x360:rate=25:seed=7:mold=10"
    unrelated = make_lavfi_clip(tmp_path / "life.mp4", life, seconds=3)

    first = analyse(original)
    traced = analyse(copy)
    other = analyse(unrelated)

    assert first["similar"] == []
    (match,) = traced["similar"]
    assert match["check_id"] == first["id"]
    assert match["sha256"] == first["media"]["sha256"]
    assert 0 <= match["distance"] <= 31 and match["matched_frames"]
    assert other["similar"] == []
