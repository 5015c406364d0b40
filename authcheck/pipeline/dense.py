"""Dense frame sampling for source tracing: about one frame a second plus every scene change.

``pipeline.frames`` samples a clip sparsely (16 frames) for the detectors. Tracing a clip to a
stretch of reference footage needs frames densely enough to align two timelines, so this stage
decodes one time window of a video in a single ffmpeg run and keeps the frames that ``select``
passes: the first frame, then a frame whenever ``interval`` seconds went by since the last one
kept, or the scene score (ffmpeg's frame-difference measure, 0..1) exceeds ``SCENE_THRESHOLD``.

A long reference file is read one window at a time (``start``/``duration``), so memory stays
bounded by one window's small frames and an indexing run can resume at the next window. Frames are
downscaled so that the longest side is at most ``max_side`` (never upscaled); timestamps are
seconds from the start of the file.

ffmpeg runs only through ``sandbox.run_tool`` with ``hardened_input_args``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from authcheck.errors import MediaError
from authcheck.pipeline.frames import _frame_infos, _split_ppm
from authcheck.pipeline.sandbox import Limits, hardened_input_args, input_url, run_tool

SCENE_THRESHOLD = 0.3  # ffmpeg scene score above which a frame starts a new shot
DEFAULT_MAX_SIDE = 256  # enough for PDQ (it works on a 64 x 64 reduction) on tiles of half size


@dataclass(frozen=True)
class DenseFrame:
    """One densely sampled frame: when it is (seconds from the file's start) and its pixels."""

    timestamp: float
    rgb: np.ndarray


def sample_window(
    path: Path,
    *,
    start: float,
    duration: float,
    interval: float,
    limits: Limits,
    max_side: int = DEFAULT_MAX_SIDE,
) -> list[DenseFrame]:
    """Frames of ``[start, start + duration)`` (half open, so consecutive windows share no
    frame) about ``interval`` s apart, plus scene changes."""
    if duration <= 0 or interval <= 0:
        return []
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"]
    args += [*hardened_input_args(), "-ss", f"{start:.6f}", "-t", f"{duration:.6f}"]
    args += ["-i", input_url(path), "-map", "0:v:0", "-vf", _filter(interval, max_side)]
    args += ["-fps_mode", "passthrough", "-c:v", "ppm", "-f", "image2pipe", "pipe:1"]
    stdout, stderr = run_tool(args, limits)
    pictures = _split_ppm(stdout)
    infos = _frame_infos(stderr.decode("utf-8", "replace"))
    if len(infos) != len(pictures):
        raise MediaError("ffmpeg reported fewer frames than it wrote", code="media_malformed")
    frames = [
        DenseFrame(timestamp=round(start + max(0.0, at), 3), rgb=rgb)
        for (_, _, at, _), rgb in zip(infos, pictures, strict=True)
    ]
    # ``-t`` includes a frame exactly at the end; the next window starts with it.
    return [f for f in frames if f.timestamp < start + duration - 0.0005]


def _filter(interval: float, max_side: int) -> str:
    # prev_selected_t is NaN until a frame was kept: the first frame is always kept. The
    # millisecond of slack keeps a frame exactly one interval on (0.4 - 0.2 is 0.19999... in
    # floating point). Commas inside the expression are escaped for the filtergraph parser.
    keep = (
        f"isnan(prev_selected_t)+gte(t-prev_selected_t\\,{interval - 0.001:.3f})"
        f"+gt(scene\\,{SCENE_THRESHOLD})"
    )
    scale = (
        f"scale='min({max_side},iw)':'min({max_side},ih)'"
        ":force_original_aspect_ratio=decrease:flags=area,setsar=1,format=rgb24"
    )
    return f"select='{keep}',showinfo@s0,{scale}"
