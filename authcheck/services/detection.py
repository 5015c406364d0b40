"""Detectors on stored media: frames sampled once, one run and one signal per detector version.

Frames are sampled once per media and cached next to it, so the detector tasks of a fan-out do
not each decode the video again. The work of a detector is a ``DetectorRun`` (pending, running,
done, error; attempts and timings); what it found is a ``Signal``, written when the run ends. A
detector whose run keeps killing its worker is set aside as an error after two attempts instead
of being redelivered forever.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, transaction
from django.utils import timezone

from authcheck.detectors.base import Detector, DetectorContext, Frame, SignalResult
from authcheck.detectors.runner import run_detector
from authcheck.jsonsafe import json_safe
from authcheck.limits import ffmpeg_limits
from authcheck.models import DetectorRun, Media, RunState, Signal
from authcheck.pipeline import frames as frames_stage
from authcheck.pipeline import metadata as metadata_stage
from authcheck.pipeline.metadata import EmbeddedMetadata
from authcheck.registry import detector_get, detectors_for
from authcheck.services.lifecycle import check_lease_heartbeat
from authcheck.services.media import media_path
from authcheck.storage import frames_path, metadata_path
from authcheck.telemetry import detector_report

MAX_DETECTOR_ATTEMPTS = 2
FINISHED = (RunState.DONE, RunState.ERROR)


def _frames_save(path: Path, frames: tuple[Frame, ...]) -> None:
    arrays: dict[str, Any] = {f"rgb{i}": f.rgb for i, f in enumerate(frames)}
    arrays.update(
        {f"thumb{i}": np.frombuffer(f.thumbnail_jpeg, dtype=np.uint8) for i, f in enumerate(frames)}
    )
    meta = [{"index": f.index, "timestamp": f.timestamp, "keyframe": f.keyframe} for f in frames]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _private_write(path, buffer.getvalue())


def _private_write(path: Path, data: bytes) -> None:
    """Write a cache file next to the media, 0600 like the originals, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, 0o600)  # an older .tmp left by a killed worker keeps its mode otherwise
    tmp.replace(path)


def _frames_load(path: Path) -> tuple[Frame, ...]:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
        return tuple(
            Frame(
                index=m["index"],
                timestamp=m["timestamp"],
                keyframe=m["keyframe"],
                rgb=data[f"rgb{i}"],
                thumbnail_jpeg=data[f"thumb{i}"].tobytes(),
            )
            for i, m in enumerate(meta)
        )


def frames_ensure(media: Media) -> tuple[Frame, ...]:
    """The media's sampled frames, sampled at most once and cached on disk."""
    path = frames_path(media)
    if path.exists():
        return _frames_load(path)
    frames = frames_stage.sample_frames(
        media_path(media), media.kind, media.probe or {}, limits=ffmpeg_limits()
    )
    _frames_save(path, frames)
    return frames


def metadata_ensure(media: Media) -> EmbeddedMetadata:
    """The media's embedded metadata, parsed at most once (the metadata stage) and cached."""
    path = metadata_path(media)
    if path.exists():
        return EmbeddedMetadata.from_dict(json.loads(path.read_text()))
    found = metadata_stage.read(media_path(media), ffmpeg_limits())
    _private_write(path, json.dumps(found.to_dict()).encode())
    return found


def context_build(media: Media, frames: tuple[Frame, ...] | None = None) -> DetectorContext:
    """Everything a detector may look at for this media: probe, frames and metadata, each
    computed once by its stage (``frames``: the ones just sampled, not read back)."""
    if frames is None:
        frames = frames_ensure(media) if media.kind in {"image", "video"} else ()
    return DetectorContext(
        path=media_path(media),
        sha256=media.sha256,
        mime=media.mime,
        kind=media.kind,
        probe=media.probe or {},
        frames=frames,
        metadata=metadata_ensure(media),
    )


def detectors_pending(media: Media) -> list[Detector]:
    """Applicable detectors whose current version has no finished run for this media."""
    finished = set(
        DetectorRun.objects.filter(media=media, state__in=FINISHED).values_list(
            "detector", "version"
        )
    )
    return [d for d in detectors_for(media.kind) if (d.name, d.version) not in finished]


def detector_runs_queue(media: Media, detectors: list[Detector]) -> None:
    """Record the runs a fan-out is about to send, as ``pending``, so they show as progress."""
    for detector in detectors:
        DetectorRun.objects.get_or_create(
            media=media, detector=detector.name, version=detector.version
        )


def _run_finish(run: DetectorRun, result: SignalResult) -> Signal:
    """Store what the detector found and close its run, in one transaction."""
    values = {
        "score": result.score,
        "label": result.label[:60],
        "evidence": json_safe(result.evidence),
        "runtime_ms": result.runtime_ms,
        "error": json_safe(result.error),
    }
    with transaction.atomic():
        signal, _ = Signal.objects.update_or_create(
            media_id=run.media_id, detector=run.detector, version=run.version, defaults=values
        )
        DetectorRun.objects.filter(pk=run.pk).update(
            state=RunState.ERROR if result.error else RunState.DONE,
            finished_at=timezone.now(),
            duration_ms=result.runtime_ms,
            error=values["error"],
            signal=signal,
        )
    return signal


def _set_aside(run: DetectorRun, error: str) -> Signal:
    return _run_finish(run, SignalResult(label="error", score=None, evidence={}, error=error))


def detector_run_begin(media: Media, detector: Detector) -> DetectorRun | None:
    """Claim a detector run (an attempt); None when it is finished or has used its attempts."""
    key = {"media": media, "detector": detector.name, "version": detector.version}
    with transaction.atomic():
        try:
            with transaction.atomic():
                DetectorRun.objects.create(**key)
        except IntegrityError:
            pass  # queued by the fan-out, or started before by a worker that died
        run = DetectorRun.objects.select_for_update().get(**key)
        if run.state in FINISHED:
            return None
        if run.attempts >= MAX_DETECTOR_ATTEMPTS:
            _set_aside(
                run, f"the detector stopped its worker {run.attempts} times; it was set aside"
            )
            return None
        run.state = RunState.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.save(update_fields=["state", "attempts", "started_at"])
        return run


def detector_run(media: Media, name: str, ctx: DetectorContext | None = None) -> None:
    """Run one named detector on a media unless its current run is finished already."""
    detector = detector_get(name)
    run = detector_run_begin(media, detector)
    if run is None:
        return
    # A soft time limit belongs to the task, which records it as such (tasks.detector_task).
    result = run_detector(detector, ctx or context_build(media), reraise=(SoftTimeLimitExceeded,))
    detector_report(
        detector.name, media.sha256, result.runtime_ms / 1000, error=result.label == "error"
    )
    _run_finish(run, result)


def detectors_run_inline(
    media: Media, pending: list[Detector], frames: tuple[Frame, ...] | None = None
) -> None:
    """Run pending detectors one after another in this process (CLI, embedded default)."""
    if not pending:
        return
    ctx = context_build(media, frames)
    for detector in pending:
        detector_run(media, detector.name, ctx)


def detector_task_run(check_id: int, name: str) -> None:
    """Run one detector for the media of a check (the body of a fan-out task)."""
    media = Media.objects.filter(checks__pk=check_id).first()
    if media is not None:
        # The check waits on this run: its lease lives while this detector's worker does.
        with check_lease_heartbeat(check_id):
            detector_run(media, name)


def detector_timed_out(check_id: int, name: str) -> None:
    """Record that a detector ran past its time limit: an error, so the check goes on."""
    media = Media.objects.filter(checks__pk=check_id).first()
    if media is None:
        return
    detector = detector_get(name)
    run, _ = DetectorRun.objects.get_or_create(
        media=media, detector=detector.name, version=detector.version
    )
    _set_aside(run, "the detector exceeded its time limit")
