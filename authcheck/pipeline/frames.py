"""Frame sampling: keyframes plus an even spread, downscaled, without decoding the whole video.

What a caller gets: at most ``max_frames`` frames in time order, each an RGB ``uint8`` array whose
longest side is at most ``max_side`` (aspect kept, never upscaled) and a JPEG thumbnail of at most
``THUMB_SIDE`` px. An image gives one frame (index 0, timestamp 0, keyframe). Audio gives none.

How (measured on a 60 s 1080p clip from ``tests.mediagen.make_video``, a keyframe every 10 s, on
2 cores): decoding the whole clip takes 5.2 s. Sixteen accurate seeks (``-ss`` before ``-i``,
one run each) took 6.9 s, more than the full decode, because each seek decodes from the previous
keyframe. ``-skip_frame nokey`` over the whole file took 0.26 s here but grows with every keyframe
of a long file. One ffmpeg run that seeks exactly onto six keyframes and takes three frames at
each took 0.40 s. So:

1. ffprobe finds the keyframe at or before each of ``n`` evenly spread target times
   (``-read_intervals T%+#1``: one seek and one packet per target, nothing decoded).
2. Every distinct keyframe found is a position (it costs one decoded frame). A target farther
   than half a spacing from its keyframe gets an accurate seek of its own, cheapest first, while
   the frames decoded for such seeks stay within ``DECODE_BUDGET`` of the clip's frame count: a
   clip with short GOPs gets an even spread of keyframes, a clip with long GOPs gets its
   keyframes and as much spread as the budget allows.
3. ffmpeg runs once per batch of ``BATCH_INPUTS`` positions: one hardened input per position
   (``-ss`` before ``-i``, ``-t`` just long enough), each trimmed, scaled and concatenated, PPM on
   stdout; ``showinfo`` reports each frame's time and key flag on stderr. Each decoder runs
   single-threaded and up to ``PARALLEL_RUNS`` batches run side by side (measured on the 4K
   clip of ``benchmarks/bench_analyze.py``: the same pictures for 20 % less CPU, and half the
   memory per run).

Consecutive frames for temporal detectors: at up to ``RUN_POSITIONS`` positions (keyframes
first, spread over the clip) ``RUN_LENGTH`` frames in a row are decoded instead of one.
``Frame.index`` is the frame number ``round(timestamp * fps)``, so two sampled frames are a
consecutive pair exactly when their indexes differ by 1 (their timestamps by one frame
duration); the first frame of a run is usually the keyframe (``keyframe=True``), the others not.
For variable-frame-rate video the index is an estimate from the average rate.

ffmpeg and ffprobe run only through ``sandbox.run_tool`` with ``hardened_input_args`` (file
protocol, demuxer whitelist, stream cap) on every input; images are decoded by Pillow with the
decompression-bomb warning turned into an error.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from authcheck.errors import MediaError, MediaTooLarge
from authcheck.pipeline.probe import PIL_FORMATS, finite_float
from authcheck.pipeline.sandbox import (
    Limits,
    hardened_input_args,
    input_url,
    run_tool,
    tool_pool,
)

__all__ = ["Frame", "sample_frames", "thumbnail_jpeg"]

THUMB_SIDE = 160
RUN_POSITIONS = 3
RUN_LENGTH = 3
BATCH_INPUTS = 4  # open inputs (each with its own decoder) per ffmpeg run: bounds memory
# ffmpeg runs side by side. Each decoder is single-threaded (``-threads 1``): the few frames a
# position takes gain nothing from frame threads, which cost 20 % more CPU and twice the memory
# (4K: 222 MB instead of 419 MB per run), so two runs together need what one did before.
PARALLEL_RUNS = 2
DECODE_BUDGET = 0.1  # share of the clip's frames that accurate seeks may decode
DEFAULT_FPS = 25.0
MAX_IMAGE_PIXELS = 50_000_000


@dataclass(frozen=True)
class Frame:
    """One sampled frame: a small RGB array (H x W x 3, uint8) and where it came from."""

    index: int
    timestamp: float
    keyframe: bool
    rgb: Any  # numpy.ndarray
    thumbnail_jpeg: bytes = b""


@dataclass(frozen=True)
class Position:
    """Where one input seeks (seconds from the start) and how many frames it takes there."""

    start: float
    count: int
    keyframe: bool


def sample_frames(
    path: Path,
    kind: str,
    probe: dict[str, Any],
    *,
    limits: Limits,
    max_frames: int = 16,
    max_side: int = 512,
) -> tuple[Frame, ...]:
    """Sampled frames of an image (one) or a video (up to ``max_frames``); audio gives none."""
    if kind == "image":
        return (_image_frame(Path(path), max_side),)
    if kind != "video" or max_frames <= 0:
        return ()
    deadline = time.monotonic() + limits.timeout_seconds
    duration = float(probe.get("duration") or 0.0)
    fps = float(probe.get("fps") or DEFAULT_FPS)
    targets = _targets(duration, max_frames)
    keyframes = _keyframes(Path(path), targets, _remaining(limits, deadline))
    positions = plan_positions(duration, fps, keyframes, max_frames)
    frames = _decode(Path(path), positions, fps, max_side, limits, deadline)
    return tuple(frames[:max_frames])


def thumbnail_jpeg(rgb: np.ndarray, side: int = THUMB_SIDE) -> bytes:
    """A small JPEG (longest side at most ``side``) of an RGB array, for the keyframe strip."""
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=75)
    return buffer.getvalue()


# --- planning ------------------------------------------------------------------------------------


def _targets(duration: float, max_frames: int) -> list[float]:
    """Evenly spread target times (centres of equal slices), leaving room for the runs."""
    count = max(1, max_frames - (RUN_LENGTH - 1) * RUN_POSITIONS)
    if duration <= 0:
        return [0.0]
    return [(k + 0.5) * duration / count for k in range(count)]


def plan_positions(
    duration: float, fps: float, keyframes: dict[float, float], max_frames: int
) -> list[Position]:
    """Seek positions: the keyframes found, accurate seeks within the budget, runs at a few.

    ``keyframes`` maps each target time to the keyframe time at or before it.
    """
    if duration <= 0 or not keyframes:
        return [Position(0.0, min(RUN_LENGTH, max_frames), True)]
    slots = max(1, max_frames - (RUN_LENGTH - 1) * RUN_POSITIONS)
    spacing = duration / slots
    chosen = {round(k, 6): True for k in sorted(set(keyframes.values()))[:slots]}
    budget = DECODE_BUDGET * duration * fps
    far = sorted((t - k, t) for t, k in keyframes.items() if t - k > spacing / 2)
    for gap, target in far:
        cost = gap * fps
        if len(chosen) >= slots or cost > budget:
            break
        chosen[round(target, 6)] = False
        budget -= cost
    return _with_runs(sorted(chosen.items()), max_frames)


def _with_runs(starts: list[tuple[float, bool]], max_frames: int) -> list[Position]:
    """Give ``RUN_LENGTH`` frames to up to ``RUN_POSITIONS`` spread positions (keyframes first)."""
    keyed = [i for i, (_, key) in enumerate(starts) if key] or list(range(len(starts)))
    wanted = min(RUN_POSITIONS, len(keyed))
    picks = {keyed[round(j * (len(keyed) - 1) / max(1, wanted - 1))] for j in range(wanted)}
    positions, left = [], max_frames
    for i, (start, key) in enumerate(starts):
        count = min(RUN_LENGTH if i in picks else 1, left)
        if count <= 0:
            break
        positions.append(Position(start, count, key))
        left -= count
    return positions


# --- ffprobe: keyframe times ---------------------------------------------------------------------


def _keyframes(path: Path, targets: list[float], limits: Limits) -> dict[float, float]:
    """Map each target to the keyframe at or before it (times from the start of the file).

    A file whose packets cannot be listed gets no keyframes (sampling falls back to the start).
    """
    # read_intervals takes absolute stream times while -ss counts from the file's start: with a
    # start offset (MPEG-TS) the targets land that much earlier, which only shifts the spread.
    intervals = ",".join(f"{t:.6f}%+#1" for t in targets)
    args = ["ffprobe", "-v", "error", "-hide_banner", *hardened_input_args()]
    args += ["-select_streams", "v:0", "-read_intervals", intervals, "-of", "json"]
    args += ["-show_entries", "packet=pts_time,flags:format=start_time", input_url(path)]
    try:
        stdout, _ = run_tool(args, limits)
        data = json.loads(stdout.decode("utf-8", "replace") or "{}")
    except (MediaError, ValueError):
        return {}
    start = finite_float((data.get("format") or {}).get("start_time")) or 0.0
    times = sorted(
        at - start
        for packet in data.get("packets") or []
        if isinstance(packet, dict) and "K" in str(packet.get("flags", ""))
        for at in [finite_float(packet.get("pts_time"))]
        if at is not None
    )
    found = {}
    for target in targets:
        before = [k for k in times if k <= target + 1e-6]
        if before:
            found[target] = max(0.0, before[-1])
    return found


# --- ffmpeg: decode the planned positions -------------------------------------------------------

_SHOWINFO = re.compile(
    r"\[showinfo@s(\d+) @ [^\]]*\] n:\s*(\d+) pts:\s*-?\d+ pts_time:(-?[\d.e+-]+).*?iskey:(\d)"
)
_PPM_HEADER = re.compile(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s")


def _decode(
    path: Path,
    positions: list[Position],
    fps: float,
    max_side: int,
    limits: Limits,
    deadline: float,
) -> list[Frame]:
    frames: dict[int, Frame] = {}
    error: MediaError | None = None
    batches = [
        positions[first : first + BATCH_INPUTS] for first in range(0, len(positions), BATCH_INPUTS)
    ]

    def decode(batch: list[Position]) -> list[Frame]:
        # The time left is taken when the run starts: all runs share the sampling's budget.
        return _decode_batch(path, batch, fps, max_side, _remaining(limits, deadline))

    with tool_pool(PARALLEL_RUNS, "frames") as pool:
        runs = [pool.submit(decode, batch) for batch in batches]
    for run in runs:  # in plan order, as one run after the other would give them
        try:
            decoded = run.result()
        except MediaError as exc:
            if exc.code in ("media_timeout", "media_resource_limit"):
                raise
            error = exc  # e.g. a corrupt stretch: keep the frames other batches give
            continue
        for frame in decoded:
            frames.setdefault(frame.index, frame)
    if not frames and error is not None:
        raise error
    return sorted(frames.values(), key=lambda f: (f.timestamp, f.index))


def _decode_batch(
    path: Path, batch: list[Position], fps: float, max_side: int, limits: Limits
) -> list[Frame]:
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"]
    for position in batch:
        span = (position.count + 1) / fps
        args += [*hardened_input_args(), "-threads", "1"]
        args += ["-ss", f"{position.start:.6f}", "-t", f"{span:.6f}", "-i", input_url(path)]
    args += ["-filter_complex", _filtergraph(batch, max_side), "-map", "[out]"]
    # passthrough: concatenated segments have irregular timestamps; no frame may be dropped.
    args += ["-fps_mode", "passthrough", "-c:v", "ppm", "-f", "image2pipe", "pipe:1"]
    stdout, stderr = run_tool(args, limits)
    pictures = _split_ppm(stdout)
    infos = _frame_infos(stderr.decode("utf-8", "replace"))
    return _frames_from(batch, pictures, infos, fps)


def _filtergraph(batch: list[Position], max_side: int) -> str:
    # min(side, iw) x min(side, ih) with "decrease" keeps the aspect and never upscales.
    scale = (
        f"scale='min({max_side},iw)':'min({max_side},ih)'"
        ":force_original_aspect_ratio=decrease:flags=area,setsar=1,format=rgb24"
    )
    chains = [
        f"[{i}:v:0]trim=end_frame={p.count},showinfo@s{i},{scale}[v{i}]"
        for i, p in enumerate(batch)
    ]
    inputs = "".join(f"[v{i}]" for i in range(len(batch)))
    return ";".join(chains) + f";{inputs}concat=n={len(batch)}:v=1:a=0[out]"


def _split_ppm(data: bytes) -> list[np.ndarray]:
    """The binary PPM pictures concatenated in ``data``, as H x W x 3 arrays."""
    pictures, offset = [], 0
    while offset < len(data):
        match = _PPM_HEADER.match(data, offset)
        if match is None or int(match.group(3)) != 255:
            raise MediaError("ffmpeg wrote an unexpected picture stream", code="media_malformed")
        width, height = int(match.group(1)), int(match.group(2))
        start, size = match.end(), width * height * 3
        if start + size > len(data):
            raise MediaError("ffmpeg wrote a truncated picture", code="media_malformed")
        raw = np.frombuffer(data, dtype=np.uint8, count=size, offset=start)
        pictures.append(raw.reshape(height, width, 3).copy())
        offset = start + size
    return pictures


def _frame_infos(stderr: str) -> list[tuple[int, int, float, bool]]:
    """(segment, n, pts_time relative to the seek, keyframe) per frame, in output order."""
    infos = {
        (int(m.group(1)), int(m.group(2))): (float(m.group(3)), m.group(4) == "1")
        for m in _SHOWINFO.finditer(stderr)
    }
    return [(s, n, at, key) for (s, n), (at, key) in sorted(infos.items())]


def _frames_from(
    batch: list[Position],
    pictures: list[np.ndarray],
    infos: list[tuple[int, int, float, bool]],
    fps: float,
) -> list[Frame]:
    if len(infos) != len(pictures):
        # showinfo lines missing (should not happen): assume each position gave its frames.
        infos = [
            (s, n, n / fps, n == 0 and p.keyframe)
            for s, p in enumerate(batch)
            for n in range(p.count)
        ][: len(pictures)]
    frames = []
    for (segment, _, at, key), rgb in zip(infos, pictures, strict=False):
        timestamp = round(batch[segment].start + max(0.0, at), 6)
        frames.append(
            Frame(
                index=round(timestamp * fps),
                timestamp=timestamp,
                keyframe=key,
                rgb=rgb,
                thumbnail_jpeg=thumbnail_jpeg(rgb),
            )
        )
    return frames


# --- images ---------------------------------------------------------------------------------------


def _image_frame(path: Path, max_side: int) -> Frame:
    """Decode an image with Pillow (bomb checks as errors), upright, downscaled, as one frame."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with open(path, "rb") as handle, Image.open(handle, formats=PIL_FORMATS) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise MediaTooLarge(f"image has more than {MAX_IMAGE_PIXELS} pixels")
                image.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
                upright = ImageOps.exif_transpose(image).convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise MediaTooLarge("image too large to decode") from exc
        except MediaError:
            raise
        except Exception as exc:  # Pillow raises many types on hostile files
            raise MediaError(f"unreadable image: {type(exc).__name__}") from exc
    upright.thumbnail((max_side, max_side), Image.Resampling.BOX)
    rgb = np.asarray(upright, dtype=np.uint8).copy()
    return Frame(index=0, timestamp=0.0, keyframe=True, rgb=rgb, thumbnail_jpeg=thumbnail_jpeg(rgb))


# --- helpers -------------------------------------------------------------------------------------


def _remaining(limits: Limits, deadline: float) -> Limits:
    # One sampling shares one time budget across its ffprobe and ffmpeg runs.
    left = deadline - time.monotonic()
    if left <= 0:
        raise MediaError("frame sampling ran out of time", code="media_timeout")
    return dataclasses.replace(limits, timeout_seconds=left)
