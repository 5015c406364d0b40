"""``temporal_consistency``: flicker, warp error and duplicated frames (SPEC section 4, item 5).

Generated video often drifts in brightness from frame to frame, morphs content in ways no camera
motion explains, or repeats frames (frame-rate padding). Across the sampled frames, in time order,
and on consecutive pairs:

- **flicker**: the per-frame mean luminance; its frame-to-frame changes with the linear trend
  removed (fades and exposure ramps are trends); the statistic is their standard deviation, in
  8-bit luminance levels.
- **warp error**: each pair is aligned with one global shift found by phase correlation; the
  residual is the mean absolute difference of the overlap (each side's mean removed, so flicker is
  not counted twice) divided by (1 + mean gradient magnitude), so textured scenes do not dominate.
  The statistic is the median over pairs (a scene cut is one pair and does not dominate).
- **duplicated frames**: consecutive frames whose mean squared difference is below
  ``DUPLICATE_MSE``; reported in the evidence only, since static real shots also repeat.

Flicker and warp error are each placed as a percentile against real reference clips
(``reference.py``); the score is the larger of the two. The label is ``indicator_high`` when either
statistic is above its threshold, each set on separate real calibration clips for at most 0.5%
false positives (so the two together stay within 1%); ``strength: strict`` when one is above every
real clip measured (the verdict needs that, or a second indicator).

Known failure modes: the reference clips are pans and zooms over still photographs (no moving
subjects, no sensor noise), so real footage with fast motion, parallax, handheld shake, strobe or
LED lighting, auto-exposure or cuts between sampled frames can score high; sampled frames are far
apart, so only slow, global inconsistencies are visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from authcheck.detectors import reference
from authcheck.detectors.base import DetectorContext, Frame, SignalResult, abstain
from authcheck.detectors.common import to_gray

MIN_FRAMES = 3
MIN_SIDE = 32
DUPLICATE_MSE = 1.0
CANNOT_TELL = (
    "Flicker and warp also come from real lighting, motion and editing, and a generator with "
    "steady frames leaves neither: this neither proves nor rules out generation."
)
FAILURE_MODES = (
    "The reference clips are pans and zooms over still photographs: real footage with fast "
    "motion, parallax or handheld shake can show a high warp error.",
    "Strobe or LED lighting, auto-exposure and fades with cuts raise flicker in real footage.",
    "Sampled frames are far apart in time, so only slow, global inconsistencies are visible.",
    "Static real shots contain near-identical frames; duplicates are context, not a finding.",
)


@dataclass(frozen=True)
class PairMeasure:
    """What one consecutive pair of sampled frames shows."""

    first: int
    second: int
    shift: tuple[int, int]
    warp_error: float
    mse: float


@dataclass(frozen=True)
class TemporalStats:
    """The clip-level statistics."""

    flicker: float
    warp_error: float
    pairs: tuple[PairMeasure, ...]

    @property
    def duplicates(self) -> tuple[PairMeasure, ...]:
        """Pairs of near-identical consecutive frames."""
        return tuple(p for p in self.pairs if p.mse < DUPLICATE_MSE)


def flicker(means: NDArray[np.float64]) -> float:
    """Std of frame-to-frame mean-luminance changes after removing their linear trend."""
    changes = np.diff(means)
    if changes.size >= 4:
        t = np.arange(changes.size, dtype=np.float64)
        changes = changes - np.polyval(np.polyfit(t, changes, 1), t)
    else:
        changes = changes - changes.mean()
    return float(np.std(changes))


def phase_shift(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[int, int]:
    """Integer (dy, dx) such that ``b[y, x]`` is close to ``a[y - dy, x - dx]``."""
    window = _window(a.shape)
    return _shift_of(_spectrum(a, window), _spectrum(b, window))


def _window(shape: tuple[int, ...]) -> NDArray[np.float64]:
    return np.outer(np.hanning(shape[0]), np.hanning(shape[1]))


def _spectrum(gray: NDArray[np.float64], window: NDArray[np.float64]) -> NDArray[np.complex128]:
    """The windowed spectrum of one frame; every frame but the ends is in two pairs, so
    ``temporal_stats`` computes it once per frame (the same numbers as per pair)."""
    return np.fft.fft2((gray - gray.mean()) * window)


def _shift_of(fa: NDArray[np.complex128], fb: NDArray[np.complex128]) -> tuple[int, int]:
    cross = fb * np.conj(fa)
    corr = np.real(np.fft.ifft2(cross / (np.abs(cross) + 1e-9)))
    dy, dx = np.unravel_index(int(np.argmax(corr)), corr.shape)
    h, w = fa.shape
    return (int(dy - h if dy > h // 2 else dy), int(dx - w if dx > w // 2 else dx))


def warp_error(a: NDArray[np.float64], b: NDArray[np.float64], shift: tuple[int, int]) -> float:
    """Mean absolute residual of the overlap after the shift, relative to 1 + mean gradient."""
    dy, dx = shift
    h, w = a.shape
    if abs(dy) >= h // 2 or abs(dx) >= w // 2:
        dy, dx = 0, 0  # an implausible shift (a cut): compare in place
    a_o = a[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    b_o = b[max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)]
    residual = np.mean(np.abs((a_o - a_o.mean()) - (b_o - b_o.mean())))
    gradient = 0.5 * (np.mean(np.abs(np.diff(a_o, axis=0))) + np.mean(np.abs(np.diff(a_o, axis=1))))
    return float(residual / (1.0 + gradient))


def _common_crop(grays: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    h = min(g.shape[0] for g in grays)
    w = min(g.shape[1] for g in grays)
    return [g[:h, :w] for g in grays]


def temporal_stats(frames: list[Frame] | tuple[Frame, ...]) -> TemporalStats:
    """Flicker, warp error and per-pair measures of frames (sorted by timestamp here)."""
    ordered = sorted(frames, key=lambda f: (f.timestamp, f.index))
    grays = _common_crop([to_gray(f.rgb) for f in ordered])
    window = _window(grays[0].shape)
    spectrum = _spectrum(grays[0], window)
    pairs = []
    for i in range(len(grays) - 1):
        fa, fb, a, b = ordered[i], ordered[i + 1], grays[i], grays[i + 1]
        following = _spectrum(b, window)
        shift = _shift_of(spectrum, following)
        spectrum = following
        pairs.append(
            PairMeasure(
                fa.index, fb.index, shift, warp_error(a, b, shift), float(np.mean((a - b) ** 2))
            )
        )
    means = np.array([g.mean() for g in grays])
    return TemporalStats(
        flicker(means), float(np.median([p.warp_error for p in pairs])), tuple(pairs)
    )


class TemporalConsistencyDetector:
    """Frame-to-frame consistency of sampled video frames against real reference clips."""

    name: ClassVar[str] = "temporal_consistency"
    version: ClassVar[str] = "2"
    media_kinds: ClassVar[frozenset[str]] = frozenset({"video"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        """Abstain under three frames; otherwise score flicker and warp error."""
        if len(ctx.frames) < MIN_FRAMES:
            return abstain(f"needs at least {MIN_FRAMES} sampled frames", frames=len(ctx.frames))
        if min(min(np.asarray(f.rgb).shape[:2]) for f in ctx.frames) < MIN_SIDE:
            return abstain(f"frames smaller than {MIN_SIDE} px")
        return temporal_result(temporal_stats(ctx.frames))


def temporal_result(stats: TemporalStats) -> SignalResult:
    """The signal for clip statistics: either statistic above its calibrated threshold fires."""
    flicker_table = reference.table("temporal_consistency.flicker")
    warp_table = reference.table("temporal_consistency.warp_error")
    flicker_limit = reference.threshold("temporal_consistency.flicker")
    warp_limit = reference.threshold("temporal_consistency.warp_error")
    p_flicker = flicker_table.percentile(stats.flicker)
    p_warp = warp_table.percentile(stats.warp_error)
    score = max(p_flicker, p_warp)
    high = stats.flicker > flicker_limit.statistic or stats.warp_error > warp_limit.statistic
    # A strict threshold equal to the standard one (too few samples) is no stricter: not "strict".
    strict = any(
        limit.strict > limit.statistic and value > limit.strict
        for value, limit in ((stats.flicker, flicker_limit), (stats.warp_error, warp_limit))
    )
    strength = ("strict" if strict else "standard") if high else "below"
    fpr = flicker_limit.false_positive_rate + warp_limit.false_positive_rate
    evidence: dict[str, Any] = {
        "flicker": {"statistic": round(stats.flicker, 4), "percentile": round(p_flicker, 4)},
        "warp_error": {"statistic": round(stats.warp_error, 4), "percentile": round(p_warp, 4)},
        "threshold": [flicker_limit.describe(), warp_limit.describe()],
        "strength": strength,
        # The union of two thresholds: at most the sum of their calibration rates.
        "false_positive_rate": round(fpr, 4) if strength != "strict" else 0.0,
        "false_positive_interval": [
            round(flicker_limit.interval[0], 4),
            round(flicker_limit.interval[1] + warp_limit.interval[1], 4),
        ],
        "cannot_tell": CANNOT_TELL,
        "score_rule": "larger of the flicker and warp-error percentiles",
        "duplicated_frames": [
            {"frames": [p.first, p.second], "mse": round(p.mse, 4)} for p in stats.duplicates
        ],
        "duplicate_pairs": len(stats.duplicates),
        "pairs_examined": len(stats.pairs),
        "shifts": [list(p.shift) for p in stats.pairs],
        "reference": [flicker_table.describe(), warp_table.describe()],
        "failure_modes": list(FAILURE_MODES),
        "note": "An indicator, not a probability: percentiles say how unusual this clip is among "
        "real reference clips; the thresholds were set on other real clips.",
    }
    label = "indicator_high" if high else "indicator_low"
    return SignalResult(label=label, score=score, evidence=evidence)
