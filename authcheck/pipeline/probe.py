"""Probe a stored media file: container, duration, size, codecs, tags and GOP structure.

Video and audio go through ffprobe inside the sandbox (``sandbox.run_tool`` with the hardened
input options); images go through Pillow's header parser only, with the decompression-bomb
limits turned into errors. Nothing here decodes a whole file. Every failure is a ``MediaError``
with a stable code.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
import warnings
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import Image, UnidentifiedImageError

from authcheck.errors import MediaError, MediaTooLarge, UnsupportedMedia
from authcheck.jsonsafe import clean_text, json_safe
from authcheck.pipeline.sandbox import (
    Limits,
    ToolPool,
    hardened_input_args,
    input_url,
    run_tool,
    tool_pool,
)

__all__ = ["Limits", "ProbeResult", "probe"]

KINDS = ("image", "video", "audio")
DEFAULT_LIMITS = Limits()
GOP_SECONDS = 30  # keyframes are counted from packets (no decoding) over this span
GOP_TYPED_FRAMES = 100  # frame types need decoding: only this many frames (about 0.5 s of CPU)
MAX_TAGS = 64
MAX_TAG_CHARS = 2048
MAX_IMAGE_TEXT_CHARS = 256
# Pillow plugins allowed to parse a header: the image formats the sniffer accepts, nothing else
# (EPS would hand the file to Ghostscript on load, and most others are never uploaded).
# HEIF (iPhone HEIC) is read by pillow-heif's plugin, registered here once per process.
PIL_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF", "HEIF")
pillow_heif.register_heif_opener()
_EXIF_TAGS = {0x0131: "Software", 0x010F: "Make", 0x0110: "Model"}
_STREAM_KEYS = (
    "index",
    "codec_type",
    "codec_name",
    "profile",
    "width",
    "height",
    "pix_fmt",
    "r_frame_rate",
    "avg_frame_rate",
    "nb_frames",
    "bit_rate",
    "duration",
    "sample_rate",
    "channels",
    "has_b_frames",
)
# Pillow reads its pixel limit from a module global; the lock keeps concurrent probes with
# different limits from seeing each other's value.
_PIXEL_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProbeResult:
    """What a probe learned about one media file (see ``to_dict`` for the stored form)."""

    container: str
    duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    audio_codec: str | None
    bit_rate: int | None
    tags: dict[str, str]
    streams: tuple[dict[str, Any], ...]
    gop: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NUL and control characters stripped from every string)."""
        return json_safe(dataclasses.asdict(self))


def probe(
    path: Path, kind: str, limits: Limits = DEFAULT_LIMITS, max_pixels: int = 50_000_000
) -> ProbeResult:
    """Probe ``path`` of the sniffed ``kind`` ("image", "video" or "audio") under ``limits``."""
    if kind == "document":
        raise UnsupportedMedia(
            "documents (PDF, office files, EPUB) are checked for Content Credentials only; "
            "no detector runs on them"
        )
    if kind not in KINDS:
        raise UnsupportedMedia(f"cannot probe media of kind {kind!r}")
    if kind == "image":
        return _probe_image(Path(path), max_pixels)
    return _probe_av(Path(path), kind, limits)


# --- video and audio ---------------------------------------------------------------------------


def _probe_av(path: Path, kind: str, limits: Limits) -> ProbeResult:
    deadline = time.monotonic() + limits.timeout_seconds
    with tool_pool(3, "probe") as pool:
        # The three ffprobe runs are independent: side by side, a probe waits for the slowest
        # (the typed frames) instead of the sum. The GOP result is used only for a video stream.
        gop_runs = _gop_start(pool, path, limits, deadline) if kind == "video" else None
        data = _ffprobe_json(path, ["-show_format", "-show_streams"], limits)
        return _av_result(data, gop_runs)


def _av_result(data: dict[str, Any], gop_runs: _GopRuns | None) -> ProbeResult:
    fmt, raw_streams = data.get("format"), data.get("streams")
    if not isinstance(fmt, dict) or not isinstance(raw_streams, list) or not raw_streams:
        raise MediaError("ffprobe found no streams", code="media_malformed")
    streams = [s for s in raw_streams if isinstance(s, dict)]
    video = _first_stream(streams, "video")
    audio = _first_stream(streams, "audio")
    if video is None and audio is None:
        # e.g. JPEG magic followed by junk: ffprobe reports a 0x0 image stream and exits 0.
        raise MediaError("no usable video or audio stream", code="media_malformed")
    gop = None
    if gop_runs is not None and video is not None:
        gop = _gop(gop_runs)
    duration = finite_float(fmt.get("duration"))
    return ProbeResult(
        container=clean_text(str(fmt.get("format_name") or "unknown")),
        duration=duration
        if duration is not None
        else finite_float((video or audio or {}).get("duration")),
        width=_int((video or {}).get("width")),
        height=_int((video or {}).get("height")),
        fps=_fps(video),
        video_codec=_str((video or {}).get("codec_name")),
        audio_codec=_str((audio or {}).get("codec_name")),
        bit_rate=_int(fmt.get("bit_rate")),
        tags=_tags(fmt.get("tags")),
        streams=tuple(_stream_summary(s) for s in streams),
        gop=gop,
    )


def _ffprobe_json(path: Path, options: list[str], limits: Limits) -> dict[str, Any]:
    """Run ffprobe with JSON output on ``path`` and parse it."""
    args = ["ffprobe", "-v", "error", "-hide_banner", *hardened_input_args()]
    args += ["-print_format", "json", *options, input_url(path)]
    stdout, _ = run_tool(args, limits)
    try:
        data = json.loads(stdout.decode("utf-8", "replace") or "{}")
    except ValueError as exc:
        raise MediaError("ffprobe returned unreadable output", code="media_malformed") from exc
    if not isinstance(data, dict):
        raise MediaError("ffprobe returned unexpected output", code="media_malformed")
    return data


def _remaining(limits: Limits, deadline: float) -> Limits:
    # One probe shares one time budget across its ffprobe runs.
    left = deadline - time.monotonic()
    if left <= 0:
        raise MediaError("probe ran out of time", code="media_timeout")
    return dataclasses.replace(limits, timeout_seconds=left)


def _first_stream(streams: list[dict[str, Any]], codec_type: str) -> dict[str, Any] | None:
    """The first usable stream of a type: video with real dimensions (no cover art), audio."""
    for stream in streams:
        if stream.get("codec_type") != codec_type or not stream.get("codec_name"):
            continue
        if codec_type == "audio":
            return stream
        disposition = stream.get("disposition")
        cover_art = isinstance(disposition, dict) and disposition.get("attached_pic") == 1
        width, height = _int(stream.get("width")) or 0, _int(stream.get("height")) or 0
        if not cover_art and width > 0 and height > 0:
            return stream
    return None


def _stream_summary(stream: dict[str, Any]) -> dict[str, Any]:
    summary = {key: stream[key] for key in _STREAM_KEYS if key in stream}
    summary["tags"] = _tags(stream.get("tags"))
    return summary


def _tags(raw: Any) -> dict[str, str]:
    """Container or stream tags, cleaned and capped (count and length)."""
    if not isinstance(raw, dict):
        return {}
    items = list(raw.items())[:MAX_TAGS]
    return {clean_text(str(k))[:200]: clean_text(str(v))[:MAX_TAG_CHARS] for k, v in items}


# --- GOP structure -----------------------------------------------------------------------------


_GopRuns = tuple[Future[dict[str, Any]], Future[dict[str, Any]]]


def _gop_start(pool: ToolPool, path: Path, limits: Limits, deadline: float) -> _GopRuns:
    """Start the two GOP scans (packets, typed frames) under the probe's time budget."""
    left = _remaining(limits, deadline)
    return (
        pool.submit(_ffprobe_json, path, _gop_packet_options(), left),
        pool.submit(_ffprobe_json, path, _gop_frame_options(), left),
    )


def _gop(runs: _GopRuns) -> dict[str, Any] | None:
    """Keyframe spacing over the first ``GOP_SECONDS`` and frame types of the first frames.

    A malformed tail is no reason to fail the probe (``None``); a timeout or resource limit is.
    """
    try:
        packets, frames = runs[0].result(), runs[1].result()
    except MediaError as exc:
        if exc.code in ("media_timeout", "media_resource_limit"):
            raise
        return None
    return gop_summary(packets.get("packets"), frames.get("frames"))


def _gop_packet_options() -> list[str]:
    entries = "packet=pts_time,dts_time,flags"
    return [
        "-select_streams",
        "v:0",
        "-show_entries",
        entries,
        "-read_intervals",
        f"%+{GOP_SECONDS}",
    ]


def _gop_frame_options() -> list[str]:
    interval = f"%+#{GOP_TYPED_FRAMES}"
    return [
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=pict_type",
        "-read_intervals",
        interval,
    ]


def gop_summary(packets: Any, frames: Any) -> dict[str, Any] | None:
    """Summarise ffprobe packet entries (keyframe flag ``K``) and frame ``pict_type`` entries.

    ``None`` when there are no timed packets to summarise.
    """
    times, keyframes = _packet_times(packets)
    if not times:
        return None
    intervals = [b - a for a, b in itertools.pairwise(sorted(keyframes))]
    frames = frames if isinstance(frames, list) else []
    return {
        "keyframes": len(keyframes),
        "sampled_seconds": round(max(times) - min(times), 3),
        "mean_interval_s": round(sum(intervals) / len(intervals), 3) if intervals else None,
        "max_interval_s": round(max(intervals), 3) if intervals else None,
        "frame_types": _frame_types(frames),
        "typed_frames": sum(isinstance(f, dict) and "pict_type" in f for f in frames),
    }


def _packet_times(packets: Any) -> tuple[list[float], list[float]]:
    """Presentation times of all packets and of keyframe packets (dts when pts is missing)."""
    times: list[float] = []
    keyframes: list[float] = []
    for packet in packets if isinstance(packets, list) else []:
        if not isinstance(packet, dict):
            continue
        at = finite_float(packet.get("pts_time"))
        at = at if at is not None else finite_float(packet.get("dts_time"))
        if at is not None:
            times.append(at)
            if "K" in str(packet.get("flags", "")):
                keyframes.append(at)
    return times, keyframes


def _frame_types(frames: list[Any]) -> dict[str, int]:
    counts = {"I": 0, "P": 0, "B": 0}
    for frame in frames:
        kind = frame.get("pict_type") if isinstance(frame, dict) else None
        if kind in counts:
            counts[kind] += 1
    return counts


# --- images ------------------------------------------------------------------------------------


def _probe_image(path: Path, max_pixels: int) -> ProbeResult:
    """Read the image header with Pillow; refuse anything above ``max_pixels`` before decoding."""
    with _PIXEL_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            # Our own handle: Pillow leaves its file open when the bomb check raises in open().
            with open(path, "rb") as handle, Image.open(handle, formats=PIL_FORMATS) as image:
                return _image_result(image, max_pixels)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise MediaTooLarge(f"image has more than {max_pixels} pixels") from exc
        except MediaError:
            raise
        except UnidentifiedImageError as exc:
            raise _unidentified(path) from exc
        except Exception as exc:  # Pillow raises many types on hostile headers
            raise MediaError(f"unreadable image: {type(exc).__name__}") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _image_result(image: Image.Image, max_pixels: int) -> ProbeResult:
    width, height = image.size
    if width * height > max_pixels:  # also covers a limit changed by another thread
        raise MediaTooLarge(f"image has {width}x{height} pixels, more than {max_pixels}")
    if width <= 0 or height <= 0:
        raise MediaError("image has no pixels")
    return ProbeResult(
        container=(image.format or "unknown").lower(),
        duration=None,
        width=width,
        height=height,
        fps=None,
        video_codec=None,
        audio_codec=None,
        bit_rate=None,
        tags=_image_tags(image),
        streams=(),
        gop=None,
    )


def _unidentified(path: Path) -> MediaError:
    with open(path, "rb") as handle:
        head = handle.read(12)
    if head[4:8] == b"ftyp":  # an AVIF/HEIF variant neither Pillow nor pillow-heif reads
        return UnsupportedMedia("this HEIF/AVIF image variant is not supported")
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")):
        return UnsupportedMedia(
            "JPEG XL: its Content Credentials are verified, but the image stack has no JPEG XL "
            "decoder, so no detector runs"
        )
    return MediaError("unreadable image: not a format authcheck reads")


def _image_tags(image: Image.Image) -> dict[str, str]:
    """EXIF Software/Make/Model and PNG text chunk keys with short values, from the header only."""
    tags = dict(_exif_items(image))
    if image.format == "PNG":
        # tEXt/zTXt/iTXt chunks before the image data are in ``info`` (``image.text`` would
        # decode the whole image to reach chunks after it).
        texts = [(str(k), v) for k, v in image.info.items() if isinstance(v, str)]
        for key, text in texts[:MAX_TAGS]:
            tags[clean_text(key)[:200]] = clean_text(text)[:MAX_IMAGE_TEXT_CHARS]
    return tags


def _exif_items(image: Image.Image) -> list[tuple[str, str]]:
    raw = image.info.get("exif")
    try:
        if isinstance(raw, bytes):
            exif: Any = Image.Exif()
            exif.load(raw)
        elif hasattr(image, "tag_v2"):  # TIFF keeps its tags in the header it already parsed
            exif = image.tag_v2
        else:
            return []
        found = [(name, exif.get(tag)) for tag, name in _EXIF_TAGS.items()]
    except Exception:  # a broken EXIF block is no reason to fail the probe
        return []
    return [(n, clean_text(str(v)).strip()[:MAX_IMAGE_TEXT_CHARS]) for n, v in found if v]


# --- value helpers -------------------------------------------------------------------------------


def finite_float(value: Any) -> float | None:
    """``value`` as a finite float, or None (ffprobe prints "N/A", "nan", ...)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) and value else None


def _fps(stream: dict[str, Any] | None) -> float | None:
    if stream is None:
        return None
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(stream.get(key, "")).partition("/")
        numerator, denominator = finite_float(num), finite_float(den or "1")
        if numerator and denominator:
            return round(numerator / denominator, 3)
    return None
