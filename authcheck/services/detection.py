"""Detectors on stored media: frames sampled once, one signal per (media, detector, version).

Frames are sampled once per media and cached next to it, so the detector tasks of a fan-out do
not each decode the video again. A signal row is written ``pending`` before its detector runs;
a detector whose run keeps killing its worker is recorded as an error after two attempts instead
of being redelivered forever.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction

from authcheck.detectors.base import Detector, DetectorContext, Frame, SignalResult
from authcheck.detectors.registry import detector_get, detectors_for
from authcheck.detectors.runner import run_detector
from authcheck.jsonsafe import json_safe
from authcheck.models import Media, Signal
from authcheck.pipeline import frames as frames_stage
from authcheck.pipeline.sandbox import Limits
from authcheck.services.media import media_path

PENDING = "pending"
MAX_DETECTOR_ATTEMPTS = 2


def frames_path(media: Media) -> Path:
    """Where the sampled frames of a media are cached."""
    return (
        Path(settings.MEDIA_ROOT) / "frames" / media.storage_name[:2] / f"{media.storage_name}.npz"
    )


def _frames_save(path: Path, frames: tuple[Frame, ...]) -> None:
    arrays: dict[str, Any] = {f"rgb{i}": f.rgb for i, f in enumerate(frames)}
    arrays.update(
        {f"thumb{i}": np.frombuffer(f.thumbnail_jpeg, dtype=np.uint8) for i, f in enumerate(frames)}
    )
    meta = [{"index": f.index, "timestamp": f.timestamp, "keyframe": f.keyframe} for f in frames]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
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
    limits = Limits(
        timeout_seconds=settings.AUTHCHECK_FFMPEG_TIMEOUT_SECONDS,
        memory_bytes=settings.AUTHCHECK_FFMPEG_MEMORY_BYTES,
    )
    frames = frames_stage.sample_frames(
        media_path(media), media.kind, media.probe or {}, limits=limits
    )
    _frames_save(path, frames)
    return frames


def context_build(media: Media) -> DetectorContext:
    """Everything a detector may look at for this media."""
    frames = frames_ensure(media) if media.kind in {"image", "video"} else ()
    return DetectorContext(
        path=media_path(media),
        sha256=media.sha256,
        mime=media.mime,
        kind=media.kind,
        probe=media.probe or {},
        frames=frames,
    )


def detectors_pending(media: Media) -> list[Detector]:
    """Applicable detectors that have no finished signal for their current version."""
    done = set(
        Signal.objects.filter(media=media).exclude(label=PENDING).values_list("detector", "version")
    )
    return [d for d in detectors_for(media.kind) if (d.name, d.version) not in done]


def signal_store(media: Media, detector: Detector, result: SignalResult) -> Signal:
    """Store (or complete the pending row of) a detector's signal."""
    values = {
        "score": result.score,
        "label": result.label[:60],
        "evidence": json_safe(result.evidence),
        "runtime_ms": result.runtime_ms,
        "error": json_safe(result.error),
    }
    signal, _ = Signal.objects.update_or_create(
        media=media, detector=detector.name, version=detector.version, defaults=values
    )
    return signal


def signal_begin(media: Media, detector: Detector) -> bool:
    """Mark a detector run as started; False when it is finished or has used its attempts."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                Signal.objects.create(
                    media=media,
                    detector=detector.name,
                    version=detector.version,
                    label=PENDING,
                    evidence={"attempts": 1},
                )
            return True
        except IntegrityError:
            pass
        signal = Signal.objects.select_for_update().get(
            media=media, detector=detector.name, version=detector.version
        )
        if signal.label != PENDING:
            return False
        attempts = int(signal.evidence.get("attempts", 0))
        if attempts >= MAX_DETECTOR_ATTEMPTS:
            signal_store(
                media,
                detector,
                SignalResult(
                    label="error",
                    score=None,
                    evidence={},
                    error=f"the detector stopped its worker {attempts} times; it was set aside",
                ),
            )
            return False
        signal.evidence = {"attempts": attempts + 1}
        signal.save(update_fields=["evidence"])
        return True


def detector_run(media: Media, name: str, ctx: DetectorContext | None = None) -> None:
    """Run one named detector on a media unless its current signal exists already."""
    detector = detector_get(name)
    if not signal_begin(media, detector):
        return
    # A soft time limit belongs to the task, which records it as such (tasks.detector_task).
    result = run_detector(detector, ctx or context_build(media), reraise=(SoftTimeLimitExceeded,))
    signal_store(media, detector, result)


def detectors_run_inline(media: Media, pending: list[Detector]) -> None:
    """Run pending detectors one after another in this process (CLI, embedded default)."""
    if not pending:
        return
    ctx = context_build(media)
    for detector in pending:
        detector_run(media, detector.name, ctx)


def signals_current(media: Media) -> list[dict[str, Any]]:
    """The finished signals of the configured detector versions, as dicts for the rules."""
    wanted = {(d.name, d.version) for d in detectors_for(media.kind)}
    rows = Signal.objects.filter(media=media).exclude(label=PENDING)
    return [
        {
            "detector": s.detector,
            "version": s.version,
            "label": s.label,
            "score": s.score,
            "evidence": s.evidence,
            "error": s.error,
        }
        for s in rows
        if (s.detector, s.version) in wanted
    ]


def detector_task_run(check_id: int, name: str) -> None:
    """Run one detector for the media of a check (the body of a fan-out task)."""
    media = Media.objects.filter(checks__pk=check_id).first()
    if media is not None:
        detector_run(media, name)


def detector_timed_out(check_id: int, name: str) -> None:
    """Record that a detector ran past its time limit: an error signal, so the check goes on."""
    media = Media.objects.filter(checks__pk=check_id).first()
    if media is not None:
        signal_store(
            media,
            detector_get(name),
            SignalResult(
                label="error", score=None, evidence={}, error="the detector exceeded its time limit"
            ),
        )
