"""``spectral_artifacts``: periodic spectral peaks left by upsampling (SPEC section 4, item 4).

Generators build pixels by upsampling (nearest, bilinear, transposed convolutions in VAE decoders
and super-resolution stages). Upsampling by k makes the local pixel statistics periodic with period
k, which shows as peaks at multiples of 1/k cycles per pixel. In the plain image spectrum those
peaks can cancel (a nearest-neighbour 2x upsample has a zero exactly at 1/2), so we look at the
spectrum of high-pass *residual magnitudes*, the classic resampling-detection trick: the absolute
first differences (exactly zero between duplicated pixels) and second differences (zero at
linearly interpolated pixels), horizontal plus vertical.

Statistic, per picture: grayscale; residual magnitude map; Welch average of Hann-windowed
128x128 tile spectra (up to 4x4 tiles, overlapping by up to half on small pictures); log
magnitude; at every candidate position (u, v) with u, v in {0, 1/8, 1/4, 1/3, 3/8, 1/2}
cycles/px, the peak (max over 3x3 bins) minus the median of the surrounding ring (11x11 minus 5x5
bins). The statistic is the largest such log peak-to-neighbourhood ratio over candidates and
both residuals; the evidence names its position (and so its period).

Images are analysed at native resolution from the original file (capped at 50 MP): the pipeline's
<=512 px frames are themselves resampled, which moves or erases the peaks. Videos use the sampled
frames (median over frames). The score is the percentile against real reference material
(``reference.py``); the label is ``indicator_high`` at or above the 99th percentile.

Known failure modes: JPEG's 8x8 blocking raises the 1/8 and 1/4 peaks, so heavily compressed real
photos and video can score high; real photos that were upscaled (by a phone's digital zoom, an
editor or a platform) score high; generated media that was downscaled or re-encoded loses its peaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from authcheck.detectors import reference
from authcheck.detectors.base import DetectorContext, SignalResult, abstain
from authcheck.detectors.common import load_original, to_gray
from authcheck.errors import MediaError

TILE = 128
TILES_PER_SIDE = 4
FREQUENCIES = (0.0, 1 / 8, 1 / 4, 1 / 3, 3 / 8, 1 / 2)
THRESHOLD = 0.99
FAILURE_MODES = (
    "JPEG 8x8 blocking raises the 1/8 and 1/4 peaks: heavily compressed real photos and video "
    "can score high.",
    "Real media that was upscaled (digital zoom, editing, platform resizing) scores high.",
    "Generated media that was downscaled, cropped and re-encoded loses its peaks (low score).",
    "Video frames are analysed after the pipeline's downscaling to <=512 px, which moves peaks.",
)
_WINDOW = np.outer(np.hanning(TILE), np.hanning(TILE))
_RING = np.ones((11, 11), dtype=bool)
_RING[3:8, 3:8] = False


@dataclass(frozen=True)
class SpectralPeak:
    """The strongest periodic peak found in one picture."""

    ratio: float  # natural-log peak-to-neighbourhood ratio
    frequency: tuple[float, float]  # (vertical, horizontal) cycles per pixel
    residual: str  # "first_difference" or "second_difference"


def _residuals(gray: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    d1 = np.abs(np.diff(gray, axis=1))[:-1, :] + np.abs(np.diff(gray, axis=0))[:, :-1]
    c = gray[1:-1, 1:-1]
    d2 = np.abs(gray[1:-1, :-2] - 2 * c + gray[1:-1, 2:]) + np.abs(
        gray[:-2, 1:-1] - 2 * c + gray[2:, 1:-1]
    )
    return {"first_difference": d1, "second_difference": d2}


def _tile_starts(size: int) -> NDArray[np.intp]:
    # Tiles may overlap by half, so small pictures still average several spectra (less noise).
    count = min(TILES_PER_SIDE, 1 + math.ceil(2 * (size - TILE) / TILE))
    return np.linspace(0, size - TILE, count).astype(int)


def _welch_log_spectrum(residual: NDArray[np.float64]) -> NDArray[np.float64]:
    ys, xs = _tile_starts(residual.shape[0]), _tile_starts(residual.shape[1])
    acc = np.zeros((TILE, TILE))
    for y in ys:
        for x in xs:
            tile = residual[y : y + TILE, x : x + TILE]
            acc += np.abs(np.fft.fft2((tile - tile.mean()) * _WINDOW))
    return np.log(acc / (len(ys) * len(xs)) + 1e-9)


def _candidates() -> list[tuple[float, float]]:
    out = []
    for fv in FREQUENCIES:
        for fu in FREQUENCIES:
            if fu == 0.0 and fv == 0.0:
                continue
            out.append((fv, fu))
            if 0.0 < fu < 0.5 and 0.0 < fv < 0.5:
                out.append((fv, -fu))  # the mirrored diagonal is a distinct position
    return out


CANDIDATES = tuple(_candidates())


def _peak_ratio(log_spec: NDArray[np.float64], fv: float, fu: float) -> float:
    offsets = np.arange(-5, 6)
    rows = (round(fv * TILE) + offsets) % TILE
    cols = (round(fu * TILE) + offsets) % TILE
    patch = log_spec[np.ix_(rows, cols)]
    return float(patch[4:7, 4:7].max() - np.median(patch[_RING]))


def strongest_peak(rgb: NDArray[Any]) -> SpectralPeak | None:
    """The strongest candidate peak of a picture (None if smaller than one tile)."""
    gray = to_gray(rgb)
    if min(gray.shape) < TILE + 2:
        return None
    best: SpectralPeak | None = None
    for name, residual in _residuals(gray).items():
        log_spec = _welch_log_spectrum(residual)
        for fv, fu in CANDIDATES:
            ratio = _peak_ratio(log_spec, fv, fu)
            if best is None or ratio > best.ratio:
                best = SpectralPeak(ratio, (fv, fu), name)
    return best


def _period(frequency: tuple[float, float]) -> str:
    parts = [f"{1 / abs(f):.3g} px" for f in frequency if f]
    return " x ".join(parts)


class SpectralArtifactsDetector:
    """Upsampling peaks in residual spectra, reported as a percentile of real reference media."""

    name: ClassVar[str] = "spectral_artifacts"
    version: ClassVar[str] = "1"
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image", "video"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        """Image: native-resolution original; video: the sampled frames."""
        if ctx.kind == "image":
            try:
                pictures = [load_original(ctx.path)]
            except MediaError as exc:
                return abstain(exc.message, code=exc.code)
        else:
            pictures = [np.asarray(f.rgb) for f in ctx.frames]
        peaks = [p for p in (strongest_peak(pic) for pic in pictures) if p is not None]
        if not peaks:
            return abstain(f"picture smaller than one {TILE}x{TILE} analysis tile")
        return spectral_result(ctx.kind, peaks)


def spectral_result(kind: str, peaks: list[SpectralPeak]) -> SignalResult:
    """Turn per-picture peaks into a percentile signal with its evidence."""
    stat = float(np.median([p.ratio for p in peaks]))
    table = reference.table(f"spectral_artifacts.{kind if kind == 'image' else 'video'}")
    score = table.percentile(stat)
    strongest = max(peaks, key=lambda p: p.ratio)
    evidence = {
        "statistic": round(stat, 4),
        "statistic_meaning": "log peak-to-neighbourhood ratio at upsampling frequencies "
        "(median over pictures)",
        "percentile": round(score, 4),
        "threshold_percentile": THRESHOLD,
        "strongest_peak": {
            "ratio": round(strongest.ratio, 4),
            "frequency_cycles_per_px": [round(f, 4) for f in strongest.frequency],
            "period": _period(strongest.frequency),
            "residual": strongest.residual,
        },
        "pictures_examined": len(peaks),
        "reference": table.describe(),
        "failure_modes": list(FAILURE_MODES),
        "note": "An indicator, not a probability: the percentile says how unusual this is among "
        "real reference media.",
    }
    label = "indicator_high" if score >= THRESHOLD else "indicator_low"
    return SignalResult(label=label, score=score, evidence=evidence)
