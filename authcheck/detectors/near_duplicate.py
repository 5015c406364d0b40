"""``near_duplicate``: PDQ hashes of sampled frames for source tracing (SPEC section 4, item 6).

For every sampled frame the detector removes black borders (letterbox and pillarbox bars: runs
of near-black, near-uniform rows or columns at the edges), then computes the PDQ hash (256 bits,
robust to re-encoding and rescaling) of the frame and, for a few frames, of centre crops that
mimic common re-framings: ``center80`` (a mild zoom) and ``square`` (the centre square, as in a
vertical or square re-upload). Consecutive frames of a sampled run hash alike; a hash within
``DEDUPE_DISTANCE`` bits of one already kept for the same variant adds nothing and is dropped.

The detector never touches the database: it emits the hashes in its evidence and
``services/similar.py`` stores them and searches earlier media (``authcheck.similarity``, which
documents the matching threshold of 31 bits).

Label and score: this is a tracing tool, not a synthetic-media indicator, so it never scores.
The label is ``hashed`` with ``score=None`` (an explicit non-indicator: nothing about the media
itself is claimed), or ``low_quality`` when every hash has a PDQ quality below ``MIN_QUALITY``
(flat, dark or featureless frames: such hashes match unrelated pictures and are not searched).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pdqhash
from numpy.typing import NDArray

from authcheck.detectors.base import DetectorContext, Frame, SignalResult, abstain

MIN_QUALITY = 50  # PDQ's reference cut-off: below it a hash says little about the picture
DEDUPE_DISTANCE = 8
CROP_FRAMES = 4  # frames that also get centre-crop variants (bounds the lookup cost)
BORDER_LUMA = 24.0  # mean luma (0-255) under which a row/column may be a black bar
BORDER_STD = 12.0  # ... and its spread, so dark but detailed picture rows are kept
MAX_BORDER_SHARE = 0.4  # never crop more than this share of a side from one edge
MIN_SIDE = 16
NOTE = (
    "Source tracing, not a synthetic-media indicator: frame hashes are matched against media "
    "checked earlier; a match shows shared picture content, not who made it first."
)


class NearDuplicateDetector:
    """PDQ frame hashes (letterbox removed, plus centre crops) for the similarity index."""

    name: ClassVar[str] = "near_duplicate"
    version: ClassVar[str] = "1"
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image", "video"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        """Hash the sampled frames; label ``hashed`` (no score) or ``low_quality``."""
        frames = [f for f in ctx.frames if _usable(f)]
        if not frames:
            return abstain("no decodable frames to hash")
        hashes, borders = frame_hashes(frames)
        good = sum(h["quality"] >= MIN_QUALITY for h in hashes)
        evidence: dict[str, Any] = {
            "hashes": hashes,
            "frames_hashed": len({h["frame_index"] for h in hashes}),
            "searchable_hashes": good,
            "min_quality": MIN_QUALITY,
            "borders_removed": borders,
            "note": NOTE,
        }
        return SignalResult(
            label="hashed" if good else "low_quality", score=None, evidence=evidence
        )


def frame_hashes(frames: list[Frame]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deduplicated hash entries of ``frames`` and the borders removed from each frame."""
    croppers = _crop_frames(frames)
    kept: dict[str, list[int]] = {}
    hashes, borders = [], []
    for frame in frames:
        rgb = np.asarray(frame.rgb, dtype=np.uint8)
        top, bottom, left, right = black_borders(rgb)
        if top or bottom or left or right:
            borders.append({"frame_index": frame.index, "crop": [top, bottom, left, right]})
        content = rgb[top : rgb.shape[0] - bottom, left : rgb.shape[1] - right]
        variants = _variants(content) if frame.index in croppers else {"full": content}
        for variant, picture in variants.items():
            value, quality = pdq(picture)
            near = kept.setdefault(variant, [])
            if any((value ^ other).bit_count() <= DEDUPE_DISTANCE for other in near):
                continue
            near.append(value)
            hashes.append(_entry(frame, variant, value, quality))
    return hashes, borders


def pdq(rgb: NDArray[np.uint8]) -> tuple[int, int]:
    """PDQ hash of an RGB array as a 256-bit integer, and its quality (0-100)."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    value = int.from_bytes(np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes(), "big")
    return value, int(quality)


def black_borders(rgb: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """Rows/columns of black bars at (top, bottom, left, right); zeros for a frame without."""
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    dark_rows = (luma.mean(axis=1) < BORDER_LUMA) & (luma.std(axis=1) < BORDER_STD)
    dark_cols = (luma.mean(axis=0) < BORDER_LUMA) & (luma.std(axis=0) < BORDER_STD)
    if dark_rows.all() or dark_cols.all():
        return 0, 0, 0, 0  # a black frame has no bars, it is all bar
    return (
        _run(dark_rows),
        _run(dark_rows[::-1]),
        _run(dark_cols),
        _run(dark_cols[::-1]),
    )


def _run(dark: NDArray[np.bool_]) -> int:
    """Length of the leading run of dark lines, capped at ``MAX_BORDER_SHARE`` of the side."""
    limit = int(len(dark) * MAX_BORDER_SHARE)
    length = int(np.argmin(dark)) if not dark.all() else len(dark)
    return min(length, limit)


def _variants(content: NDArray[np.uint8]) -> dict[str, NDArray[np.uint8]]:
    height, width = content.shape[:2]
    side = min(height, width)
    out = {"full": content, "center80": _centre(content, int(height * 0.8), int(width * 0.8))}
    if abs(height - width) > side * 0.1:  # a square crop of a (nearly) square frame adds nothing
        out["square"] = _centre(content, side, side)
    return out


def _centre(rgb: NDArray[np.uint8], height: int, width: int) -> NDArray[np.uint8]:
    top = (rgb.shape[0] - height) // 2
    left = (rgb.shape[1] - width) // 2
    return rgb[top : top + height, left : left + width]


def _crop_frames(frames: list[Frame]) -> set[int]:
    """Indexes of up to ``CROP_FRAMES`` frames spread over the clip, keyframes preferred."""
    pool = [f for f in frames if f.keyframe] or frames
    if len(pool) <= CROP_FRAMES:
        return {f.index for f in pool}
    step = (len(pool) - 1) / (CROP_FRAMES - 1)
    return {pool[round(i * step)].index for i in range(CROP_FRAMES)}


def _usable(frame: Frame) -> bool:
    shape: tuple[int, ...] = getattr(frame.rgb, "shape", ())
    return len(shape) == 3 and shape[2] == 3 and min(shape[:2]) >= MIN_SIDE


def _entry(frame: Frame, variant: str, value: int, quality: int) -> dict[str, Any]:
    return {
        "frame_index": frame.index,
        "timestamp": round(float(frame.timestamp), 3),
        "variant": variant,
        "quality": quality,
        "hash": f"{value:064x}",
    }
