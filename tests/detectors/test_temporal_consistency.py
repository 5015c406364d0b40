"""temporal_consistency: flicker and duplicated frames stand out against smooth real motion."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from authcheck.detectors.base import DetectorContext, Frame, SignalResult
from authcheck.detectors.temporal_consistency import (
    TemporalConsistencyDetector,
    phase_shift,
    temporal_stats,
)
from tests.detectors.test_spectral_artifacts import natural_image

SCENE = natural_image(21, 360, 640)


def pan_frames(count: int = 8, step: int = 6, brightness: list[float] | None = None) -> list[Frame]:
    """Frames of a camera panning right over a scene, with optional per-frame brightness offsets."""
    frames = []
    for i in range(count):
        crop = SCENE[40:280, i * step : i * step + 320].astype(np.float64)
        if brightness:
            crop = crop + brightness[i]
        frames.append(Frame(i, i * 0.5, i == 0, np.clip(crop, 0, 255).astype(np.uint8)))
    return frames


def _detect(frames: list[Frame]) -> SignalResult:
    ctx = DetectorContext(
        Path("/nonexistent.mp4"), "0" * 64, "video/mp4", "video", frames=tuple(frames)
    )
    return TemporalConsistencyDetector().detect(ctx)


def test_injected_flicker_scores_higher_than_a_smooth_pan():
    smooth = _detect(pan_frames())
    flicker = _detect(pan_frames(brightness=[12.0 * (-1) ** i for i in range(8)]))

    assert smooth.label == "indicator_low"
    assert flicker.label == "indicator_high"
    assert flicker.score is not None and smooth.score is not None and flicker.score > smooth.score
    assert flicker.evidence["flicker"]["statistic"] > 10 * smooth.evidence["flicker"]["statistic"]


def test_a_fade_is_a_trend_not_flicker():
    fade = _detect(pan_frames(brightness=[-4.0 * i for i in range(8)]))

    assert fade.evidence["flicker"]["statistic"] < 0.5
    assert fade.label == "indicator_low"


def test_duplicated_frames_are_reported_in_the_evidence():
    frames = pan_frames(6)
    dup = [frames[0], frames[1], frames[1], frames[2], frames[3], frames[3], frames[4]]
    dup = [Frame(i, i * 0.5, False, f.rgb) for i, f in enumerate(dup)]

    result = _detect(dup)

    assert result.evidence["duplicate_pairs"] == 2
    assert [d["frames"] for d in result.evidence["duplicated_frames"]] == [[1, 2], [4, 5]]
    assert _detect(frames).evidence["duplicate_pairs"] == 0


def test_the_pan_is_recovered_as_a_global_shift():
    result = _detect(pan_frames(4, step=6))

    assert result.evidence["shifts"] == [[0, -6]] * 3


def test_frames_are_taken_in_time_order():
    frames = pan_frames(6, brightness=[10.0 * (-1) ** i for i in range(6)])
    shuffled = [frames[i] for i in (3, 0, 5, 1, 4, 2)]

    assert temporal_stats(shuffled) == temporal_stats(frames)


def test_scrambled_content_raises_the_warp_error():
    rng = np.random.default_rng(5)
    frames = [
        Frame(i, i * 0.5, False, natural_image(int(rng.integers(1000)), 240, 320)) for i in range(6)
    ]

    scrambled = _detect(frames)
    smooth = _detect(pan_frames(6))

    assert (
        scrambled.evidence["warp_error"]["statistic"] > smooth.evidence["warp_error"]["statistic"]
    )
    assert scrambled.label == "indicator_high"


def test_it_abstains_with_fewer_than_three_frames():
    result = _detect(pan_frames(2))

    assert result.label == "abstain" and result.score is None


def test_phase_correlation_finds_vertical_and_horizontal_shifts():
    a = SCENE[100:260, 100:300, 1].astype(np.float64)
    b = SCENE[100 - 7 : 260 - 7, 100 + 4 : 300 + 4, 1].astype(np.float64)

    assert phase_shift(a, b) == (7, -4)


def test_evidence_names_reference_threshold_and_failure_modes():
    evidence = _detect(pan_frames()).evidence

    assert [t["threshold"] for t in evidence["threshold"]] == [
        "temporal_consistency.flicker",
        "temporal_consistency.warp_error",
    ]
    assert evidence["strength"] in {"below", "standard", "strict"} and evidence["cannot_tell"]
    assert [r["table"] for r in evidence["reference"]] == [
        "temporal_consistency.flicker",
        "temporal_consistency.warp_error",
    ]
    assert evidence["failure_modes"] and "not a probability" in evidence["note"]


def test_the_shifts_of_the_clip_are_those_of_phase_shift_on_each_pair():
    # temporal_stats reuses each frame's spectrum for its two pairs: the same shifts (and
    # warp errors) as phase correlation computed pair by pair.
    frames = pan_frames(count=6, step=9)
    stats = temporal_stats(frames)
    grays = [f.rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) for f in frames]
    assert [p.shift for p in stats.pairs] == [
        phase_shift(a, b) for a, b in itertools.pairwise(grays)
    ]
