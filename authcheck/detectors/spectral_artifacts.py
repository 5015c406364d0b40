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
<=512 px frames are themselves resampled, which moves or erases the peaks. Video would use the
sampled frames (median over frames), but abstains for now (see the guard). The score is the
percentile against real reference material (``reference.py``). The label is ``indicator_high``
when the statistic is above the threshold set on separate real calibration photographs for at
most 1% false positives, one threshold per condition (lossless image, JPEG image), and the
evidence says ``strength: strict`` when it is above every real sample measured (the verdict needs
that, or a second indicator).

Uniform borders (letterbox or pillarbox bars) are trimmed before analysis: the bar's edge is a
step that raised real photos' statistic (13 of 40 letterboxed real copies fired on the held-out
set before the trim).

Applicability guard: the detector abstains, with the reason, where its threshold does not hold:
video frames (calibrated on only 40 real clips, and 7 of 48 real pan/zoom clips of the held-out set
were above it: far from 1%),
JPEGs below quality 70 (estimated from the quantisation table: heavy recompression makes 8x8
blocking peaks that drown the upsampling peaks) and lossy formats other than JPEG (WebP, AVIF,
HEIF), whose real false positive rate was never measured.

Known failure modes: JPEG's 8x8 blocking raises the 1/8 and 1/4 peaks, so heavily compressed real
photos and video can score high; real photos that were upscaled (by a phone's digital zoom, an
editor or a platform) score high; generated media that was downscaled or re-encoded loses its peaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from authcheck.detectors import reference
from authcheck.detectors.base import DetectorContext, SignalResult, abstain
from authcheck.detectors.common import load_original, to_gray
from authcheck.errors import MediaError

TILE = 128
TILES_PER_SIDE = 4
FREQUENCIES = (0.0, 1 / 8, 1 / 4, 1 / 3, 3 / 8, 1 / 2)
MIN_JPEG_QUALITY = 70  # the calibration re-encodes at q70-95; below that nothing was measured
LOSSLESS_FORMATS = frozenset({"PNG", "TIFF", "BMP", "PPM", "GIF", "TGA"})
JPEG_FORMATS = frozenset({"JPEG", "MPO"})
CANNOT_TELL = (
    "Upsampling peaks also appear in real photos that were upscaled or heavily compressed, and "
    "vanish from generated images that were downscaled or re-encoded: this neither proves nor "
    "rules out generation."
)
# IJG standard luminance quantisation table (JPEG Annex K), to estimate a JPEG's quality.
_IJG_LUMA_SUM = sum(
    (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
)  # fmt: skip
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


VIDEO_REASON = (
    "video frames: the threshold did not hold on held-out real clips (7 of 48 pan/zoom clips "
    "above it, calibrated on 40), so no false positive rate can be stated"
)
BORDER_STD = 2.0  # a row or column this flat (8-bit levels) is a bar, not picture


def trim_borders(rgb: NDArray[Any]) -> NDArray[Any]:
    """Drop uniform bars (letterbox, pillarbox) on each side; the picture inside is analysed."""
    gray = to_gray(rgb)
    rows = np.where(gray.std(axis=1) > BORDER_STD)[0]
    cols = np.where(gray.std(axis=0) > BORDER_STD)[0]
    if rows.size == 0 or cols.size == 0:
        return rgb
    return rgb[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def jpeg_quality(quantization: dict[int, list[int]]) -> int:
    """The IJG quality (1-100) whose luminance table is closest in sum to the file's."""
    table = quantization.get(0) or next(iter(quantization.values()))
    scale = 100.0 * sum(table) / _IJG_LUMA_SUM
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return int(min(max(round(quality), 1), 100))


@dataclass(frozen=True)
class Applicability:
    """Which calibrated threshold applies to an image, or why none does."""

    condition: str  # "lossless" or "jpeg"; "" when the detector must abstain
    reason: str = ""
    jpeg_quality: int | None = None
    code: str = "outside_calibration"


def applicability(path: Path) -> Applicability:
    """The applicability guard: a calibrated condition for this file, or a reason to abstain."""
    try:
        with Image.open(path) as img:
            fmt = (img.format or "").upper()
            quant = getattr(img, "quantization", None) or {}
    except (OSError, ValueError, SyntaxError) as exc:
        return Applicability("", f"image could not be decoded: {exc}", code="media_malformed")
    if fmt in LOSSLESS_FORMATS:
        return Applicability("lossless")
    if fmt in JPEG_FORMATS and quant:
        quality = jpeg_quality(quant)
        if quality < MIN_JPEG_QUALITY:
            return Applicability(
                "",
                f"JPEG quality about {quality}, below {MIN_JPEG_QUALITY}: heavy compression makes "
                "8x8 blocking peaks, and no false positive rate was measured at this quality",
                quality,
            )
        return Applicability("jpeg", jpeg_quality=quality)
    return Applicability(
        "", f"{fmt or 'this'} format has no calibrated threshold (false positive rate unmeasured)"
    )


class SpectralArtifactsDetector:
    """Upsampling peaks in residual spectra, reported as a percentile of real reference media."""

    name: ClassVar[str] = "spectral_artifacts"
    version: ClassVar[str] = "2"
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image", "video"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        """The native-resolution original, borders trimmed, if the guard allows; video abstains."""
        if ctx.kind != "image":
            return abstain(VIDEO_REASON, code="outside_calibration")
        guard = applicability(ctx.path)
        if not guard.condition:
            return abstain(
                guard.reason,
                code=guard.code,
                applicability="outside_calibration",
                jpeg_quality=guard.jpeg_quality,
            )
        try:
            pictures = [trim_borders(load_original(ctx.path))]
        except MediaError as exc:
            return abstain(exc.message, code=exc.code)
        condition = guard.condition
        peaks = [p for p in (strongest_peak(pic) for pic in pictures) if p is not None]
        if not peaks:
            return abstain(f"picture smaller than one {TILE}x{TILE} analysis tile")
        return spectral_result(ctx.kind, peaks, condition)


def _threshold_name(kind: str, condition: str) -> str:
    return (
        "spectral_artifacts.video" if kind != "image" else f"spectral_artifacts.image.{condition}"
    )


def spectral_result(
    kind: str, peaks: list[SpectralPeak], condition: str = "lossless"
) -> SignalResult:
    """Turn per-picture peaks into a percentile signal with its evidence."""
    stat = float(np.median([p.ratio for p in peaks]))
    table = reference.table(f"spectral_artifacts.{kind if kind == 'image' else 'video'}")
    limit = reference.threshold(_threshold_name(kind, condition))
    score = table.percentile(stat)
    strongest = max(peaks, key=lambda p: p.ratio)
    high = stat > limit.statistic
    # A strict threshold equal to the standard one (too few samples) is no stricter: not "strict".
    strict = limit.strict > limit.statistic and stat > limit.strict
    strength = ("strict" if strict else "standard") if high else "below"
    evidence = {
        "statistic": round(stat, 4),
        "statistic_meaning": "log peak-to-neighbourhood ratio at upsampling frequencies "
        "(median over pictures)",
        "percentile": round(score, 4),
        "condition": condition if kind == "image" else "video",
        "threshold": limit.describe(),
        "strength": strength,
        "false_positive_rate": limit.false_positive_rate if strength != "strict" else 0.0,
        "false_positive_interval": list(limit.interval),
        "cannot_tell": CANNOT_TELL,
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
        "real reference media; the threshold was set on other real photographs.",
    }
    label = "indicator_high" if high else "indicator_low"
    return SignalResult(label=label, score=score, evidence=evidence)
