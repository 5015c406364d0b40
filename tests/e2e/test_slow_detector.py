"""A detector that overruns its time limit on the detectors queue records an error signal; the
other detectors' signals and the verdict are still issued (issue 3, fan-out)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from authcheck.models import Role, Signal, User, Verdict
from authcheck.services import checks
from tests.e2e.conftest import Worker, wait_until
from tests.e2e.test_worker import _done
from tests.mediagen import make_audio

pytestmark = pytest.mark.e2e

LOUD = "tests.services.fake_detectors.LoudnessDetector"
SLEEPING = "tests.services.fake_detectors.SleepingDetector"


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {
        "AUTHCHECK_DETECTORS": f"{LOUD},{SLEEPING}",
        "AUTHCHECK_DETECTOR_SOFT_TIME_LIMIT": "2",
        "AUTHCHECK_DETECTOR_TIME_LIMIT": "10",
    }


def test_a_detector_past_its_time_limit_records_an_error_and_the_check_finishes(
    celery_worker: Worker, settings, tmp_path: Path
) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD, SLEEPING]
    user = User.objects.create(username="slow", role=Role.JOURNALIST)
    audio = make_audio(tmp_path / "tone.wav").read_bytes()
    check = checks.check_create(user=user, upload=io.BytesIO(audio), filename="tone.wav").check

    finished = wait_until(lambda: _done(check.pk), timeout=90, what="the check to finish")

    assert finished.status == "done"
    signals = {s.detector: s for s in Signal.objects.filter(media=finished.media)}
    assert signals["loudness"].label == "indicator_low" and not signals["loudness"].error
    assert signals["sleeping"].label == "error"
    assert "time limit" in signals["sleeping"].error
    assert Verdict.objects.get(check_ref=check).label == "no_provenance"
