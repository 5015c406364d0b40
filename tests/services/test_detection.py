"""Detectors on stored media: once per version, crash-proof, fanned out and collected once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from authcheck.models import Check, DetectorRun, Signal, User, Verdict
from authcheck.services import checks, detection, processing
from tests.mediagen import make_audio
from tests.services import fake_detectors

pytestmark = pytest.mark.django_db

LOUD = "tests.services.fake_detectors.LoudnessDetector"
CRASH = "tests.services.fake_detectors.CrashingDetector"


@pytest.fixture
def submit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("authcheck.services.dispatch.enqueue_check", lambda check_id: None)
    fake_detectors.CALLS.clear()
    user = User.objects.create(username="jo", role="journalist")
    audio = make_audio(tmp_path / "a.wav").read_bytes()

    def _submit() -> checks.Submission:
        return checks.check_create(user=user, upload=io.BytesIO(audio), filename="a.wav")

    return _submit


def test_a_crashing_detector_records_an_error_and_the_check_still_finishes(
    submit, settings
) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD, CRASH]
    check = submit().check
    assert processing.check_process(check.pk) == "done"
    signals = {s.detector: s for s in Signal.objects.all()}
    assert signals["crashing"].label == "error" and "boom" in signals["crashing"].error
    assert signals["loudness"].label == "indicator_low"
    assert "\x00" not in signals["loudness"].evidence["note"]
    verdict = Verdict.objects.get(check_ref=check)
    assert verdict.label == "no_provenance"
    assert verdict.versions["detectors"] == {"loudness": "1", "crashing": "1"}


def test_signals_are_computed_once_per_detector_version(submit, settings) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD]
    processing.check_process(submit().check.pk)
    again = submit()
    assert again.known and again.check.status == "done"
    assert len(fake_detectors.CALLS) == 1
    settings.AUTHCHECK_DETECTORS = ["tests.services.fake_detectors.LoudnessDetectorV2"]
    newer = submit()
    assert not newer.known
    processing.check_process(newer.check.pk)
    assert len(fake_detectors.CALLS) == 2
    assert set(Signal.objects.values_list("version", flat=True)) == {"1", "2"}


def test_an_unsigned_declaration_from_a_detector_gives_declared_synthetic(submit, settings):
    settings.AUTHCHECK_DETECTORS = ["tests.services.fake_detectors.DeclaringDetector"]
    check = submit().check
    processing.check_process(check.pk)
    verdict = Verdict.objects.get(check_ref=check)
    assert verdict.label == "declared_synthetic" and "suno" in verdict.summary


def test_a_detector_that_keeps_killing_its_worker_is_set_aside(submit, settings) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD]
    check = submit().check
    media = check.media
    detector = detection.detector_get("loudness")
    assert detection.detector_run_begin(media, detector)  # attempt 1 "dies"
    assert detection.detector_run_begin(media, detector)  # attempt 2 "dies"
    assert detection.detector_run_begin(media, detector) is None
    signal = Signal.objects.get(media=media, detector="loudness")
    assert signal.label == "error" and "set aside" in signal.error
    run = DetectorRun.objects.get(media=media, detector="loudness")
    assert run.state == "error" and run.attempts == 2 and run.signal_id == signal.pk
    assert fake_detectors.CALLS == []


def test_fan_out_sends_one_task_per_detector_and_finishes_the_check_once(
    submit, settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    settings.AUTHCHECK_DETECTORS = [LOUD, CRASH]
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "authcheck.services.publish.detector_publish", lambda c, d: sent.append((c, d))
    )
    check = submit().check
    with django_capture_on_commit_callbacks(execute=True):
        assert processing.check_process(check.pk, inline=False) == "waiting"
    assert sorted(sent) == [(check.pk, "crashing"), (check.pk, "loudness")]
    assert Check.objects.get(pk=check.pk).status == "running"
    detection.detector_task_run(check.pk, "loudness")
    assert processing.check_collect(check.pk) == "waiting"
    detection.detector_task_run(check.pk, "crashing")
    assert processing.check_collect(check.pk) == "done"
    assert processing.check_collect(check.pk) == "waiting"  # already closed: nothing twice
    assert Verdict.objects.filter(check_ref=check).count() == 1
    stages = dict(Check.objects.get(pk=check.pk).stages.values_list("name", "state"))
    assert stages["detectors"] == "done" and stages["verdict"] == "done"


def test_metadata_is_parsed_once_per_media_and_reaches_every_detector_of_a_fan_out(
    submit, settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    from authcheck.pipeline import metadata as metadata_stage

    settings.AUTHCHECK_DETECTORS = [LOUD, CRASH]
    reads: list[Path] = []
    real = metadata_stage.read_embedded

    def counting(path: Path) -> metadata_stage.EmbeddedMetadata:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(metadata_stage, "read_embedded", counting)
    seen: list[bool] = []
    real_build = detection.context_build

    def build(media):  # type: ignore[no-untyped-def]
        ctx = real_build(media)
        seen.append(ctx.metadata.readable)  # NOT_READ (the default) is not readable
        return ctx

    monkeypatch.setattr(detection, "context_build", build)
    monkeypatch.setattr("authcheck.services.publish.detector_publish", lambda c, d: None)
    check = submit().check
    with django_capture_on_commit_callbacks(execute=True):
        assert processing.check_process(check.pk, inline=False) == "waiting"
    detection.detector_task_run(check.pk, "loudness")
    detection.detector_task_run(check.pk, "crashing")
    assert processing.check_collect(check.pk) == "done"
    assert len(reads) == 1  # the metadata stage, not once per detector task
    assert seen == [True, True]  # the stage's result reached both detector tasks


def test_each_stage_times_itself_and_the_detectors_stage_spans_the_fan_out(
    submit, settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    from authcheck.models import CheckStage

    settings.AUTHCHECK_DETECTORS = [LOUD, CRASH]
    monkeypatch.setattr("authcheck.services.publish.detector_publish", lambda c, d: None)
    check = submit().check
    with django_capture_on_commit_callbacks(execute=True):
        processing.check_process(check.pk, inline=False)
    waiting = CheckStage.objects.get(check_ref=check, name="detectors")
    assert waiting.state == "running" and waiting.finished_at is None  # open across the fan-out
    detection.detector_task_run(check.pk, "loudness")
    detection.detector_task_run(check.pk, "crashing")
    processing.check_collect(check.pk)
    stages = {s.name: s for s in CheckStage.objects.filter(check_ref=check)}
    runs = DetectorRun.objects.filter(media=check.media)
    detectors = stages["detectors"]
    assert detectors.started_at == waiting.started_at
    assert all(detectors.started_at <= r.started_at for r in runs)
    assert all(r.finished_at <= detectors.finished_at for r in runs)
    for stage in stages.values():
        assert stage.state == "done", stage
        own = (stage.finished_at - stage.started_at).total_seconds() * 1000
        assert stage.duration_ms == pytest.approx(own, abs=0.01), stage.name
    assert stages["hash"].error == "hashed while the upload was stored"
