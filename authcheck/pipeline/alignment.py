"""Time alignment of a query clip against a source, and the tile report's summary (pure).

Input: *votes* ``(query_time, source_time, distance)``, one per query frame hash that matched a
source frame hash. A copy of a stretch of the source played at speed ``scale`` puts its votes on
the line ``source_time = scale * query_time + offset``. The fit tries every scale from 0.75 to
1.25 in steps of 0.01 (a clip sped up or slowed down by up to 25 %); for each it slides a window
of ``2 * TOLERANCE`` seconds over the offsets ``source_time - scale * query_time`` and counts the
distinct query frames inside. The best (scale, offset) is refined by least squares on its inliers.
Sampling the source about once a second puts each vote up to half a second off the line, which
the tolerance absorbs and the least-squares refinement averages out.

A clip made of several excerpts gives several lines: after one alignment is found its query
frames are removed and the fit runs again, at most ``MAX_ALIGNMENTS`` times. An alignment needs
``MIN_FRAMES`` distinct query frames; a run of aligned frames with a gap above ``MAX_GAP`` seconds
is split into segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCALES = tuple(round(0.75 + 0.01 * k, 2) for k in range(51))
TOLERANCE = 1.0  # seconds a vote may sit off the line (source sampled about once a second)
MIN_FRAMES = 3
MAX_ALIGNMENTS = 3
MAX_GAP = 4.0
MIN_SCALE, MAX_SCALE = 0.7, 1.3

Vote = tuple[float, float, int]
DASH = "\u2013"  # en dash between the ends of a time range


@dataclass(frozen=True)
class Segment:
    """An aligned stretch: query seconds ``query_start``..``query_end`` show source seconds
    ``source_start``..``source_end``."""

    query_start: float
    query_end: float
    source_start: float
    source_end: float

    def to_dict(self) -> dict[str, float]:
        """JSON shape, rounded to tenths of a second."""
        return {
            "query_start": round(self.query_start, 1),
            "query_end": round(self.query_end, 1),
            "source_start": round(self.source_start, 1),
            "source_end": round(self.source_end, 1),
        }


@dataclass(frozen=True)
class Alignment:
    """``source_time = scale * query_time + offset`` for the query frames in ``frames``."""

    scale: float
    offset: float
    frames: tuple[float, ...]  # query times of the aligned frames, ascending
    segments: tuple[Segment, ...] = field(default=())

    def source_time(self, query_time: float) -> float:
        """Where a query time falls in the source under this alignment."""
        return self.scale * query_time + self.offset


def fit_alignments(votes: Iterable[Vote]) -> list[Alignment]:
    """Alignments explaining the votes, strongest first (empty when none has enough frames)."""
    remaining = [(float(q), float(s), int(d)) for q, s, d in votes]
    found: list[Alignment] = []
    while remaining and len(found) < MAX_ALIGNMENTS:
        alignment = _fit_one(remaining)
        if alignment is None:
            break
        found.append(alignment)
        taken = set(alignment.frames)
        remaining = [v for v in remaining if v[0] not in taken]
    return found


def _fit_one(votes: Sequence[Vote]) -> Alignment | None:
    query = np.array([v[0] for v in votes])
    source = np.array([v[1] for v in votes])
    best: tuple[int, float, float] | None = None
    for scale in SCALES:
        offsets = source - scale * query
        order = np.argsort(offsets)
        sorted_offsets = offsets[order]
        ends = np.searchsorted(sorted_offsets, sorted_offsets + 2 * TOLERANCE, side="right")
        for start in range(len(order)):
            inside = order[start : ends[start]]
            support = len(set(query[inside].tolist()))
            if best is None or support > best[0]:
                centre = float(np.median(sorted_offsets[start : ends[start]]))
                best = (support, scale, centre)
    if best is None or best[0] < MIN_FRAMES:
        return None
    _, scale, offset = best
    return refine(query, source, scale, offset)


def refine(query: np.ndarray, source: np.ndarray, scale: float, offset: float) -> Alignment:
    """Least squares on the inliers (one best vote per query frame); falls back to the grid
    estimate when the inliers span too little time to fix a slope."""
    inliers = np.abs(source - (scale * query + offset)) <= TOLERANCE
    per_frame: dict[float, float] = {}
    for q, s in zip(query[inliers].tolist(), source[inliers].tolist(), strict=True):
        predicted = scale * q + offset
        if q not in per_frame or abs(s - predicted) < abs(per_frame[q] - predicted):
            per_frame[q] = s
    xs = np.array(sorted(per_frame))
    ys = np.array([per_frame[x] for x in xs])
    if len(xs) >= MIN_FRAMES and xs[-1] - xs[0] >= 4 * TOLERANCE:
        slope, intercept = np.polyfit(xs, ys, 1)
        if MIN_SCALE <= slope <= MAX_SCALE:
            scale, offset = float(slope), float(intercept)
    frames = tuple(float(x) for x in xs)
    return Alignment(scale, offset, frames, segments_of(frames, scale, offset))


def segments_of(frames: Sequence[float], scale: float, offset: float) -> tuple[Segment, ...]:
    """Runs of aligned query times (split at gaps above ``MAX_GAP``) as segments."""
    runs: list[list[float]] = []
    for t in frames:
        if runs and t - runs[-1][-1] <= MAX_GAP:
            runs[-1].append(t)
        else:
            runs.append([t])
    return tuple(
        Segment(run[0], run[-1], scale * run[0] + offset, scale * run[-1] + offset) for run in runs
    )


# --- words ----------------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss`` from an hour on) of a non-negative time."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def trace_sentence(match: dict[str, Any]) -> str:
    """One sentence for a reference match (the ``services.trace`` JSON shape).

    A match shows which real footage the clip was made from; differing regions are named as
    evidence of alteration. Nothing here claims the clip is authentic.
    """
    parts = [
        f"frames {clock(s['query_start'])}{DASH}{clock(s['query_end'])} match "
        f"'{match['title']}' at {clock(s['source_start'])}{DASH}{clock(s['source_end'])}"
        for s in match["segments"]
    ]
    text = "; ".join(parts)
    if abs(float(match["scale"]) - 1.0) >= 0.03:
        text += f" (played at {match['scale']:.2f}x the source's speed)"
    differs = match.get("differs")
    if differs:
        text += (
            f"; {round(differs['area'] * 100)}% of the area differs in frames "
            f"{clock(differs['query_start'])}{DASH}{clock(differs['query_end'])}, "
            "evidence that real footage was altered"
        )
    return text


def with_trace(summary: str, matches: Sequence[dict[str, Any]]) -> str:
    """The verdict summary with a sentence on each reference match appended (unchanged when
    there is none). Appending never changes the label: a match is not a claim of authenticity."""
    if not matches:
        return summary
    sentences = "; ".join(trace_sentence(m) for m in matches)
    return (
        f"{summary} Source tracing: {sentences}. A match to reference footage shows what the "
        "clip was made from, not that it is unaltered."
    )
