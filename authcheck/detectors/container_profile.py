"""``container_profile``: weak context from how the file was written (SPEC section 4, item 2).

Every observation carries a signed weight: positive = "looks like a generator's output or a
software pipeline", negative = "looks like a camera original". The score is
``clamp(0.5 + sum(weights), 0.05, 0.95)``; it never reaches 0 or 1 because none of this is proof.

Labels (first that applies):

- ``reencoded``: camera hints *and* a software encoder/editor (a camera file that went through a
  transcoder or editor; the camera hints then say little about the pixels);
- ``generator_like_profile``: score >= 0.7;
- ``camera_original_hints``: score <= 0.3 with camera hints present;
- ``reencoded``: a software encoder/editor without camera hints, score in between;
- ``inconclusive``: anything else.

Failure modes (why this is an *indicator*, uncalibrated, never a probability):

- All tags are unsigned: ``com.apple.quicktime.make`` can be written by ``ffmpeg -metadata``, and
  platforms strip every tag on upload, so a stripped camera video looks "generator-like".
- Generators' delivery pipelines use ffmpeg (Lavf/x264) like every editor and platform does, so
  the encoder observations mostly separate "camera original" from "processed by software".
- Durations and sizes of the table below are also common for edits, stock clips and screen
  recordings; each weighs little, and only their conjunction moves the score far.

Weights (camera hints together are floored at -0.45, so forged tags cannot dominate):

- camera: Apple make/model keys -0.3 (other ``com.apple.quicktime.*`` only -0.1), ``com.android.*``
  -0.25, generic make/model -0.2, location -0.05, AVFoundation/MediaRecorder handler -0.1,
  variable frame rate -0.05; images: EXIF/XMP Make+Model -0.3, DateTimeOriginal, GPS, lens -0.05;
- encoder: Lavf muxer +0.1, software encoder (Lavc, x264/x265 settings SEI) +0.05, HandBrake or
  an editor (Photoshop, Lightroom, GIMP ...) 0 but marks re-encoding;
- profile: generator duration +0.1 (longer than 30 s -0.1), generator size +0.1 (HD +0.03),
  24 fps +0.05, 16 fps +0.1, 4k+1 frame count +0.1, no audio +0.05; images: PNG +0.1, WebP
  +0.03, no EXIF/XMP +0.05, generator size +0.15 (multiples of 64 +0.05);
- structure: one keyframe in >= 3 s +0.03, regular keyframes <= 2.1 s apart -0.05, no B-frames 0.

The verdict rules do not count any of these labels as an indicator that fired.

Table of generator-typical output (product documentation and sample files as of 2024-2025; to be
re-checked as products change):

=================  ============================================  ===========================
what               values                                        why
=================  ============================================  ===========================
duration (s)       4, 5, 6, 8, 10, 12 (+-0.12 s)                 Kling/Runway/Luma/Pika 5 or
                                                                 10 s, Hailuo 6/10 s, Veo
                                                                 8 s, Sora 2 4/8/12 s
frame count        49, 81, 97, 121, 129, 161                     latent video models with 4x
                                                                 temporal compression emit
                                                                 4k+1 frames (CogVideoX 49,
                                                                 Wan 81, LTX 97/121, Hunyuan
                                                                 129)
frame rate         24 (most closed generators), 16 (Wan)         phones record 30/60 and VFR
size (video)       1280x768, 832x480, 848x480, 960x960,          Runway Gen-3, Wan 480p,
                   720x720, 1080x1080, 1584x672, 1104x832 and    square and 21:9/4:3 modes;
                   their portrait forms                          odd for cameras
size (video, HD)   1280x720, 1920x1080 and 9:16 forms            also phones: tiny weight
size (image)       1024x1024, 1024x1792, 1536x1024, SDXL         DALL-E/gpt-image/SDXL
                   buckets (832x1216, 896x1152, 1344x768 ...),   /Midjourney defaults;
                   1456x816, 2048x2048; else multiples of 64     latent sizes are /64
=================  ============================================  ===========================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any, ClassVar

from authcheck.detectors.base import DetectorContext, SignalResult, abstain
from authcheck.detectors.common import generator_named
from authcheck.pipeline.metadata import EmbeddedMetadata, truncate

BASE = 0.5
GENERATOR_LIKE_AT = 0.7
CAMERA_HINTS_AT = 0.3
CAMERA_WEIGHT_FLOOR = -0.45  # many camera tags together still only say "camera-like metadata"
NOTE = (
    "Weak context from container metadata, not a detector of synthetic content: tags are "
    "unsigned and easily forged or stripped, and generator pipelines use the same encoders as "
    "editors and platforms. Not calibrated; never read as a probability."
)

GENERATOR_DURATIONS = (4.0, 5.0, 6.0, 8.0, 10.0, 12.0)
DURATION_TOLERANCE = 0.12
LATENT_FRAME_COUNTS = frozenset({49, 81, 97, 121, 129, 161})
_ODD_VIDEO = {(1280, 768), (832, 480), (848, 480), (960, 960), (720, 720), (1080, 1080)}
_ODD_VIDEO |= {(1584, 672), (1104, 832)}
GENERATOR_VIDEO_SIZES = frozenset(_ODD_VIDEO | {(h, w) for w, h in _ODD_VIDEO})
HD_SIZES = frozenset({(1280, 720), (720, 1280), (1920, 1080), (1080, 1920)})
_IMAGE = {(1024, 1024), (512, 512), (768, 768), (2048, 2048), (1792, 1024), (1536, 1024)}
_IMAGE |= {(1216, 832), (1152, 896), (1344, 768), (1536, 640), (1456, 816), (1232, 928)}
GENERATOR_IMAGE_SIZES = frozenset(_IMAGE | {(h, w) for w, h in _IMAGE})
EDITORS = ("photoshop", "lightroom", "gimp", "snapseed", "affinity", "pixelmator", "capture one")
CAMERA_HANDLERS = {
    "core media video": ("apple_avfoundation_handler", -0.1),
    "videohandle": ("android_mediarecorder_handler", -0.1),
}
REENCODE_MARKERS = frozenset({"software_encoder", "handbrake", "edited_with"})


@dataclass(frozen=True)
class Observation:
    """One thing noticed, its signed weight, and a human-readable detail."""

    name: str
    weight: float
    detail: str
    group: str  # camera, encoder, profile, structure


class ContainerProfileDetector:
    """Scores container metadata as weak context: camera-original hints vs generator-like."""

    name: ClassVar[str] = "container_profile"
    version: ClassVar[str] = "1"
    media_kinds: ClassVar[frozenset[str]] = frozenset({"video", "image"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        """Collect observations, sum their weights around 0.5, and label the profile."""
        probe = ctx.probe if isinstance(ctx.probe, dict) else {}
        meta = ctx.metadata
        if not probe and not meta.readable:
            return abstain("no probe data and the file is unreadable", warnings=list(meta.notes))
        found = observations(ctx.kind, probe, meta)
        return profile_result(found, meta.notes)


def observations(kind: str, probe: dict[str, Any], meta: EmbeddedMetadata) -> list[Observation]:
    """Every observation for a video or image, from its probe dict and embedded metadata."""
    if kind == "image":
        found = _image_camera(meta) + _image_profile(probe, meta)
    else:
        tags = _merged_tags(probe, meta)
        raw = probe.get("streams")
        streams = [s for s in raw[:64] if isinstance(s, dict)] if isinstance(raw, list) else []
        found = _video_camera(tags, streams) + _video_encoder(tags, streams, meta)
        found += _video_profile(probe, streams) + _gop(probe)
    return found


def profile_result(found: list[Observation], notes: tuple[str, ...] = ()) -> SignalResult:
    """The signal for a list of observations: score, label and every observation as evidence."""
    camera = sum(o.weight for o in found if o.group == "camera")
    total = max(camera, CAMERA_WEIGHT_FLOOR) + sum(o.weight for o in found if o.group != "camera")
    score = round(min(max(BASE + total, 0.05), 0.95), 3)
    evidence: dict[str, Any] = {
        "observations": [asdict(o) for o in found],
        "score_base": BASE,
        "thresholds": {
            "generator_like_profile": GENERATOR_LIKE_AT,
            "camera_original_hints": CAMERA_HINTS_AT,
        },
        "note": NOTE,
    }
    if notes:
        evidence["warnings"] = list(notes)
    return SignalResult(_label(found, score, camera < 0), score, evidence)


def _label(found: list[Observation], score: float, camera: bool) -> str:
    reencoded = any(o.name in REENCODE_MARKERS for o in found)
    if camera and reencoded:
        return "reencoded"
    if score >= GENERATOR_LIKE_AT:
        return "generator_like_profile"
    if camera and score <= CAMERA_HINTS_AT:
        return "camera_original_hints"
    return "reencoded" if reencoded else "inconclusive"


# --- video -------------------------------------------------------------------------------------


def _merged_tags(probe: dict[str, Any], meta: EmbeddedMetadata) -> dict[str, str]:
    # ffprobe's container tags first; our own MP4 reader fills in what it missed.
    tags = _dict(probe.get("tags"))
    merged = {str(k).lower(): str(v) for k, v in tags.items()}
    for f in meta.fields:
        if f.source in ("mp4_keys", "mp4_udta"):
            merged.setdefault(f.key.lower(), f.value)
    return merged


def _video_camera(tags: dict[str, str], streams: list[dict[str, Any]]) -> list[Observation]:
    found: list[Observation] = []
    apple = sorted(k for k in tags if k.startswith("com.apple.quicktime."))
    if apple:
        device = any(k.endswith((".make", ".model")) for k in apple)
        detail = ", ".join(f"{k}={truncate(tags[k], 40)}" for k in apple[:6])
        name, weight = ("apple_camera_keys", -0.3) if device else ("apple_quicktime_keys", -0.1)
        found.append(Observation(name, weight, detail, "camera"))
    android = sorted(k for k in tags if k.startswith("com.android."))
    if android:
        found.append(Observation("android_camera_keys", -0.25, ", ".join(android[:6]), "camera"))
    if not apple and not android and ("make" in tags or "model" in tags):
        detail = f"{truncate(tags.get('make', ''), 40)} {truncate(tags.get('model', ''), 40)}"
        found.append(Observation("device_make_model", -0.2, detail.strip(), "camera"))
    if any(k.startswith("location") or k.endswith("location.iso6709") for k in tags):
        found.append(Observation("location_tag", -0.05, "a capture location is tagged", "camera"))
    handlers = {_stream_tag(s, "handler_name").lower() for s in streams}
    for handler, (name, weight) in CAMERA_HANDLERS.items():
        if handler in handlers:
            found.append(Observation(name, weight, f"stream handler '{handler}'", "camera"))
    return found


def _video_encoder(
    tags: dict[str, str], streams: list[dict[str, Any]], meta: EmbeddedMetadata
) -> list[Observation]:
    found: list[Observation] = []
    muxer = tags.get("encoder", "")
    if muxer.startswith("Lavf"):
        detail = f"container written by FFmpeg ({truncate(muxer, 40)}); cameras do not write Lavf"
        found.append(Observation("ffmpeg_muxer", 0.1, detail, "encoder"))
    elif muxer:
        found.append(Observation("encoder_string", 0.0, truncate(muxer, 120), "encoder"))
    stream_encoders = [_stream_tag(s, "encoder") for s in streams]
    settings = meta.values("encoder_settings", frozenset({"bitstream"}))
    software = [e for e in stream_encoders if e.startswith("Lavc")] + settings
    if any("handbrake" in s.lower() for s in [*settings, muxer]):
        found.append(Observation("handbrake", 0.0, "HandBrake transcode", "encoder"))
    if software:
        detail = f"software encoder: {truncate(software[0], 160)}"
        found.append(Observation("software_encoder", 0.05, detail, "encoder"))
    return found


def _video_profile(probe: dict[str, Any], streams: list[dict[str, Any]]) -> list[Observation]:
    found = _duration(_number(probe.get("duration")))
    found += _video_size(_int(probe.get("width")), _int(probe.get("height")))
    video = next((s for s in streams if s.get("codec_type") == "video"), {})
    found += _frame_rate(_number(probe.get("fps")), video)
    frames = _int(video.get("nb_frames"))
    if frames in LATENT_FRAME_COUNTS:
        detail = f"{frames} frames = 4k+1, the output length of latent video models"
        found.append(Observation("latent_video_frame_count", 0.1, detail, "profile"))
    if streams and not any(s.get("codec_type") == "audio" for s in streams):
        detail = "no audio track: usual for generators, rare for camera originals"
        found.append(Observation("no_audio", 0.05, detail, "profile"))
    return found


def _duration(seconds: float | None) -> list[Observation]:
    if seconds is None:
        return []
    near = [d for d in GENERATOR_DURATIONS if abs(seconds - d) <= DURATION_TOLERANCE]
    if near:
        detail = f"{seconds:.2f} s, a generator clip length ({near[0]:g} s)"
        return [Observation("generator_typical_duration", 0.1, detail, "profile")]
    if seconds > 30:
        detail = f"{seconds:.0f} s, longer than generators produce in one clip"
        return [Observation("long_duration", -0.1, detail, "profile")]
    return [Observation("duration", 0.0, f"{seconds:.2f} s", "profile")]


def _video_size(width: int | None, height: int | None) -> list[Observation]:
    if not width or not height:
        return []
    size = f"{width}x{height}"
    if (width, height) in GENERATOR_VIDEO_SIZES:
        return [Observation("generator_typical_size", 0.1, f"{size}, a generator mode", "profile")]
    if (width, height) in HD_SIZES:
        detail = f"{size}, standard HD (generators and phones alike)"
        return [Observation("standard_hd_size", 0.03, detail, "profile")]
    return [Observation("frame_size", 0.0, size, "profile")]


def _frame_rate(fps: float | None, video: dict[str, Any]) -> list[Observation]:
    found: list[Observation] = []
    real, average = _fraction(video.get("r_frame_rate")), _fraction(video.get("avg_frame_rate"))
    fps = fps or average or real
    if real and average and abs(real - average) / real > 0.01:
        detail = f"r_frame_rate {real:.3f} vs average {average:.3f}: phones record VFR"
        found.append(Observation("variable_frame_rate", -0.05, detail, "camera"))
    if fps and abs(fps - 24.0) < 0.001:
        found.append(Observation("fps_24", 0.05, "exactly 24 fps, generators' default", "profile"))
    elif fps and abs(fps - 16.0) < 0.001:
        found.append(Observation("fps_16", 0.1, "16 fps, Wan-family output", "profile"))
    elif fps:
        found.append(Observation("frame_rate", 0.0, f"{fps:.3f} fps", "profile"))
    return found


def _gop(probe: dict[str, Any]) -> list[Observation]:
    gop = probe.get("gop")
    if not isinstance(gop, dict):
        return []
    keyframes, mean = _int(gop.get("keyframes")), _number(gop.get("mean_interval_s"))
    largest, sampled = _number(gop.get("max_interval_s")), _number(gop.get("sampled_seconds"))
    types = _dict(gop.get("frame_types"))
    found: list[Observation] = []
    if keyframes == 1 and sampled and sampled >= 3:
        detail = f"one keyframe in {sampled:.1f} s: a software encoder's long default GOP"
        found.append(Observation("single_gop", 0.03, detail, "structure"))
    elif (
        keyframes and keyframes >= 3 and mean and mean <= 2.1 and largest and largest <= mean * 1.5
    ):
        detail = f"regular keyframes every {mean:.2f} s: typical of camera hardware encoders"
        found.append(Observation("regular_short_gop", -0.05, detail, "structure"))
    b_frames, p_frames = _int(types.get("B")) or 0, _int(types.get("P")) or 0
    if p_frames and not b_frames:
        detail = "no B-frames: phone encoders and fast x264 presets alike (recorded, not scored)"
        found.append(Observation("no_b_frames", 0.0, detail, "structure"))
    return found


# --- image -------------------------------------------------------------------------------------


def _image_camera(meta: EmbeddedMetadata) -> list[Observation]:
    exif = frozenset({"exif", "xmp"})
    found: list[Observation] = []
    device = " ".join(meta.values("Make", exif)[:1] + meta.values("Model", exif)[:1])
    if device:
        found.append(Observation("camera_make_model", -0.3, truncate(device, 80), "camera"))
    for key, name in (("DateTimeOriginal", "capture_time"), ("GPSInfo", "gps")):
        if meta.values(key, exif):
            found.append(Observation(name, -0.05, f"EXIF {key} present", "camera"))
    lens = meta.values("LensModel", exif) or meta.values("LensMake", exif)
    if lens:
        found.append(Observation("lens", -0.05, truncate(lens[0], 80), "camera"))
    return found


def _image_profile(probe: dict[str, Any], meta: EmbeddedMetadata) -> list[Observation]:
    found: list[Observation] = []
    container = meta.container
    if container == "png":
        detail = "PNG: cameras never write it; generators and screenshots do"
        found.append(Observation("png_container", 0.1, detail, "profile"))
    elif container == "webp":
        found.append(Observation("webp_container", 0.03, "WebP: web export", "profile"))
    if not any(f.source in ("exif", "xmp") for f in meta.fields):
        detail = "no EXIF or XMP: never written, or stripped by a platform"
        found.append(Observation("no_camera_metadata", 0.05, detail, "profile"))
    for software in meta.values("Software", frozenset({"exif", "xmp", "png_text"}))[:1]:
        if any(editor in software.lower() for editor in EDITORS):
            found.append(Observation("edited_with", 0.0, truncate(software, 80), "encoder"))
        elif not generator_named(software):  # generator names are ai_labels' business
            found.append(Observation("software", 0.0, truncate(software, 80), "encoder"))
    return found + _image_size(_int(probe.get("width")), _int(probe.get("height")))


def _image_size(width: int | None, height: int | None) -> list[Observation]:
    if not width or not height:
        return []
    size = f"{width}x{height}"
    if (width, height) in GENERATOR_IMAGE_SIZES:
        detail = f"{size}, a default size of image generators"
        return [Observation("generator_typical_size", 0.15, detail, "profile")]
    if width % 64 == 0 and height % 64 == 0 and 250_000 <= width * height <= 4_500_000:
        detail = f"{size}: both sides multiples of 64, like latent diffusion output"
        return [Observation("multiple_of_64_size", 0.05, detail, "profile")]
    return [Observation("image_size", 0.0, size, "profile")]


# --- parsing helpers ---------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _stream_tag(stream: dict[str, Any], key: str) -> str:
    tags = stream.get("tags")
    return str(tags.get(key, ""))[:200] if isinstance(tags, dict) else ""


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number < 2**53 else None


def _fraction(value: Any) -> float | None:
    try:
        ratio = Fraction(str(value)[:32])
    except (ValueError, ZeroDivisionError):
        return None
    return float(ratio) if 0 < ratio < 100_000 else None
