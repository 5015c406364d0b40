"""Build a labelled evaluation set for ``python manage.py evaluate_detectors DIR``.

Usage: ``python scripts/build_evalset.py OUT_DIR [--seed N] [--count N] [--quick] [--jobs N]``.

Nothing is downloaded and no generator model is run. Both classes start from the *evaluation*
split of ``scripts/real_sources.py``: photographs (and one camera clip) from wheels and Debian
packages that neither the reference tables nor the threshold calibration of
``scripts/build_reference.py`` ever saw (split by scene, never by crop; a test asserts it).

- ``real/photos``, ``real/clips``: crops saved as JPEG or PNG, and pan/zoom clips encoded with
  ffmpeg/libx264. ``real/camera_footage``: 3-6 s cuts of OpenCV's ``vtest.avi`` (a real
  surveillance camera) re-encoded with libx264. ``real/simulated_camera``: crops and clips plus
  camera tags *we wrote* (EXIF Make/Model, ``com.apple.quicktime.make``/``model``); they are
  simulated, not camera originals.
- ``synthetic/labelled``: the same kind of media carrying AI declarations (XMP IPTC
  DigitalSourceType, PNG ``parameters``, EXIF Software "Midjourney", TC260 ``AIGC`` in PNG and MP4).
- ``synthetic/watermarked``: lossless PNGs stamped with a Stable Diffusion DWT payload.
- ``synthetic/c2pa``: JPEG/MP4 signed with a throw-away CA, declaring trainedAlgorithmicMedia.
- ``synthetic/upsampled``: 2x nearest/bilinear upsampling of downscaled crops (a PROXY for the
  upsampling artefacts of generators, not generator output).
- ``synthetic/temporal``: pan/zoom clips with per-frame brightness flicker or rotation jitter (a
  PROXY for temporal inconsistency, not generator output).

Every original (both classes) gets five transformed copies named ``<name>__<transform>.<ext>``
(the contract of ``evaluate_detectors``): ``reencode`` (JPEG q70-95 / x264 CRF 28), ``resize``
(0.5x), ``crop`` (centre 80%), ``letterbox`` (black pad to 16:9) and ``strip`` (metadata
removed, pixels untouched). Re-encode and geometric copies keep the metadata the target format
can carry.
``views/<category>/{real,synthetic}`` are symlinks so one category can be evaluated against all of
``real/``. ``manifest.json`` lists every file. Deterministic for a seed (single-threaded x264),
except the C2PA signatures, which use a fresh throw-away key.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import real_sources  # noqa: E402

from authcheck.detectors.invisible_watermark import PAYLOADS, encode  # noqa: E402

DEFAULT_SEED = 20250917  # build_reference.py uses 20240601: different crops and clips
TRANSFORMS = ("reencode", "resize", "crop", "letterbox", "strip")
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# Share of originals per category (each class sums to 1).
REAL_MIX = (("photos", 0.45), ("clips", 0.2), ("camera_footage", 0.1), ("simulated_camera", 0.25))
SYNTHETIC_MIX = (
    ("labelled", 0.35),
    ("watermarked", 0.15),
    ("c2pa", 0.1),
    ("upsampled", 0.2),
    ("temporal", 0.2),
)
A1111 = (
    "a lighthouse at dusk, photorealistic\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M "
    "Karras, CFG scale: 7, Seed: {seed}, Size: {w}x{h}, Model: sd_xl_base_1.0"
)
XMP_TEMPLATE = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
    'Iptc4xmpExt:DigitalSourceType="{iptc}trainedAlgorithmicMedia"/></rdf:RDF></x:xmpmeta>'
    '<?xpacket end="w"?>'
)


@dataclass(frozen=True)
class Task:
    """One original to build (and transform): its class, category, index and seed."""

    label: str  # "real" or "synthetic"
    category: str
    index: int
    seed: int


@dataclass
class Item:
    """One written file, as listed in manifest.json."""

    path: str
    label: str
    category: str
    kind: str
    transform: str
    source_photo: str
    how: str
    notes: list[str] = field(default_factory=list)


# --- tools -------------------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly (single-threaded, so output is deterministic); raise if it fails."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=300,
    )


X264 = ("-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-x264-params", "threads=1")
KEEP_TAGS = ("-map_metadata", "0", "-movflags", "+use_metadata_tags")


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


# --- images --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageMeta:
    """Metadata carried from one image file to its transformed copies."""

    exif: bytes = b""
    xmp: bytes = b""
    text: tuple[tuple[str, str], ...] = ()


def read_image(path: Path) -> tuple[np.ndarray, ImageMeta]:
    """RGB pixels and the metadata Pillow exposes (EXIF, XMP, PNG text chunks)."""
    with Image.open(path) as img:
        img.load()
        rgb = np.asarray(img.convert("RGB"))
        info = dict(img.info)
        chunks = getattr(img, "text", {})
        text = tuple((k, v) for k, v in chunks.items() if k != "XML:com.adobe.xmp")
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp") or b""
    xmp = xmp.encode() if isinstance(xmp, str) else xmp
    return rgb, ImageMeta(info.get("exif") or b"", xmp, text)


def save_image(path: Path, rgb: np.ndarray, meta: ImageMeta, quality: int = 92) -> None:
    """Save as JPEG or PNG (by suffix) with whatever of ``meta`` that format carries."""
    img = Image.fromarray(rgb)
    kwargs: dict[str, Any] = {"exif": meta.exif} if meta.exif else {}
    if path.suffix == ".png":
        info = PngImagePlugin.PngInfo()
        for key, value in meta.text:
            info.add_text(key, value)
        if meta.xmp:
            info.add_itxt("XML:com.adobe.xmp", meta.xmp.decode("utf-8", "replace"))
        img.save(path, "PNG", pnginfo=info, **kwargs)
        return
    # PNG text chunks have no JPEG equivalent: they are lost, as in any real conversion.
    img.save(path, "JPEG", quality=quality, xmp=meta.xmp or None, **kwargs)


def _exif(**tags: str) -> bytes:
    numbers = {"Make": 0x010F, "Model": 0x0110, "Software": 0x0131, "DateTime": 0x0132}
    exif = Image.Exif()
    for name, value in tags.items():
        exif[numbers[name]] = value
    return exif.tobytes()


def crop_of(rgb: np.ndarray, rng: np.random.Generator, low: int = 256) -> np.ndarray:
    """A random crop at least ``low`` pixels on each side (the whole photo if it is smaller)."""
    h, w = rgb.shape[:2]
    ch, cw = int(rng.integers(min(low, h), h + 1)), int(rng.integers(min(low, w), w + 1))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


def _resize(rgb: np.ndarray, size: tuple[int, int], method: Image.Resampling) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize(size, method))


def letterbox_size(w: int, h: int, even: bool = False) -> tuple[int, int]:
    """The smallest 16:9 canvas holding a w x h picture (even sides for yuv420p video)."""
    out_w, out_h = max(w, -(-h * 16 // 9)), max(h, -(-w * 9 // 16))
    return (out_w + out_w % 2, out_h + out_h % 2) if even else (out_w, out_h)


def transform_image(rgb: np.ndarray, transform: str) -> np.ndarray:
    """Pixels after a geometric transform (``reencode`` and ``strip`` keep them)."""
    h, w = rgb.shape[:2]
    if transform == "resize":
        return _resize(rgb, (max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS)
    if transform == "crop":
        ch, cw = round(h * 0.8), round(w * 0.8)
        y, x = (h - ch) // 2, (w - cw) // 2
        return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])
    if transform == "letterbox":
        out_w, out_h = letterbox_size(w, h)
        canvas = np.zeros((out_h, out_w, 3), np.uint8)
        y, x = (out_h - h) // 2, (out_w - w) // 2
        canvas[y : y + h, x : x + w] = rgb
        return canvas
    return rgb


def strip_jpeg(src: Path, dst: Path) -> None:
    """Copy a JPEG without APP1-APP15 and COM segments (EXIF, XMP, C2PA): pixels untouched."""
    data = src.read_bytes()
    out, pos = bytearray(data[:2]), 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += data[pos : pos + 2 + length]
        pos += 2 + length
    dst.write_bytes(bytes(out + data[pos:]))


def image_copy(src: Path, transform: str) -> Path:
    """Write the ``transform`` copy of image ``src`` beside it and return its path."""
    suffix = ".jpg" if transform == "reencode" else src.suffix
    dst = src.with_name(f"{src.stem}__{transform}{suffix}")
    if transform == "strip":
        if src.suffix == ".jpg":
            strip_jpeg(src, dst)
        else:
            Image.fromarray(read_image(src)[0]).save(dst, "PNG")  # a re-save without info
        return dst
    rgb, meta = read_image(src)
    save_image(
        dst,
        transform_image(rgb, transform),
        meta,
        reencode_quality(src) if transform == "reencode" else 92,
    )
    return dst


def reencode_quality(src: Path) -> int:
    """JPEG quality 70-95 of a re-encoded copy, as editors and platforms export (fixed per file)."""
    return 70 + hashlib.sha256(src.stem.encode()).digest()[0] % 26


# --- video ---------------------------------------------------------------------------------------


def motion_filter(w: int, h: int, rng: np.random.Generator, seconds: float, fps: int) -> str:
    """An ffmpeg filter panning over or zooming out of a still photo (never upscaling it)."""
    if rng.random() < 0.5:
        ow, oh = _even(min(w * rng.uniform(0.5, 0.75), 480)), _even(min(h * 0.6, 360))
        vx, vy = rng.uniform(-40, 40), rng.uniform(-20, 20)
        x0, y0 = rng.uniform(0, w - ow), rng.uniform(0, h - oh)
        return (
            f"crop={ow}:{oh}:x='clip({x0:.1f}+({vx:.2f})*t,0,iw-ow)'"
            f":y='clip({y0:.1f}+({vy:.2f})*t,0,ih-oh)'"
        )
    zmax = rng.uniform(1.05, 1.35)
    ow, oh = _even(min(w / (zmax * 1.1), 480)), _even(min(h / (zmax * 1.1), 360))
    frames = round(seconds * fps)
    return (
        f"zoompan=z='1+{zmax - 1:.3f}*on/{frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
        f":d=1:s={ow}x{oh}:fps={fps}"
    )


def inconsistency_filter(rng: np.random.Generator, index: int) -> tuple[str, str]:
    """A per-frame brightness flicker or rotation jitter (sums of incommensurate sines)."""
    p, q = rng.uniform(0, 6.28, 2)
    if index % 2 == 0:
        amp = 10 ** rng.uniform(-3.0, -1.5)  # log-uniform, of the full range: 0.25-8 luma levels
        wave = f"{amp:.4f}*(sin(n*2.3+{p:.2f})+0.6*sin(n*5.1+{q:.2f}))"
        return "flicker", f"eq=brightness='{wave}':eval=frame"
    angle = 10 ** rng.uniform(-2.7, -1.4)  # 0.002-0.04 rad: sub-pixel to ~8 px at the edge
    jitter = f"rotate='{angle:.4f}*(sin(n*1.9+{p:.2f})+0.5*sin(n*4.7+{q:.2f}))':c=black"
    return "rotation_jitter", f"{jitter},crop=trunc(iw*0.45)*2:trunc(ih*0.45)*2"


def encode_clip(still: Path, dst: Path, vf: str, seconds: float, fps: int, crf: int,
                tags: dict[str, str]) -> None:  # fmt: skip
    """Encode a clip of ``still`` through filter ``vf`` with libx264, writing ``tags``."""
    meta = [a for k, v in tags.items() for a in ("-metadata", f"{k}={v}")]
    movflags = ["-movflags", "+use_metadata_tags"] if tags else []
    ffmpeg("-loop", "1", "-framerate", str(fps), "-i", str(still), "-t", f"{seconds:.2f}",
           "-filter_threads", "1", "-vf", vf + ",format=yuv420p", *X264, "-crf", str(crf),
           *meta, *movflags, str(dst))  # fmt: skip


VIDEO_FILTERS = {
    "resize": "scale=trunc(iw/4)*2:trunc(ih/4)*2",
    "crop": "crop=trunc(iw*0.4)*2:trunc(ih*0.4)*2",
    "letterbox": "pad=w='max(iw,ceil(ih*8/9)*2)':h='max(ih,ceil(iw*9/32)*2)'"
    ":x='floor((ow-iw)/4)*2':y='floor((oh-ih)/4)*2':color=black",
}


def video_copy(src: Path, transform: str) -> Path:
    """Write the ``transform`` copy of clip ``src`` beside it and return its path."""
    dst = src.with_name(f"{src.stem}__{transform}{src.suffix}")
    inp = ("-i", str(src))
    if transform == "strip":  # stream copy: pixels untouched, container and stream tags dropped
        ffmpeg(*inp, "-map", "0", "-c", "copy", "-map_metadata", "-1", "-map_metadata:s", "-1",
               "-map_chapters", "-1", str(dst))  # fmt: skip
    elif transform == "reencode":
        ffmpeg(*inp, *X264, "-crf", "28", *KEEP_TAGS, str(dst))
    else:
        vf = VIDEO_FILTERS[transform] + ",format=yuv420p"
        ffmpeg(*inp, "-filter_threads", "1", "-vf", vf, *X264, "-crf", "18", *KEEP_TAGS, str(dst))
    return dst


# --- originals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """An original just written: where, what it is, and how it was made."""

    path: Path
    how: str
    notes: tuple[str, ...] = ()
    source: str = ""  # set when the source is not the photograph drawn for the task


Builder = Callable[[Task, np.ndarray, np.random.Generator, Path, Path], Made | None]


def _stem(task: Task) -> str:
    return f"{task.category}-{task.index:03d}"


def _clip(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path, work: Path,
          tags: dict[str, str], extra_vf: str = "", fps: int = 25) -> tuple[Path, str]:  # fmt: skip
    still = work / "still.png"
    Image.fromarray(rgb).save(still)
    seconds = round(float(rng.uniform(3.0, 6.0)), 1)
    vf = motion_filter(rgb.shape[1], rgb.shape[0], rng, seconds, fps) + extra_vf
    crf = int(rng.choice([18, 23, 28]))
    dst = out / f"{_stem(task)}.mp4"
    encode_clip(still, dst, vf, seconds, fps, crf, tags)
    return dst, f"{seconds} s pan/zoom clip at {fps} fps, libx264 CRF {crf}"


def real_photo(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
               work: Path) -> Made:  # fmt: skip
    """A crop of a photograph, as PNG or JPEG q80-95 (no metadata)."""
    quality = int(rng.integers(80, 96))
    crop = crop_of(rgb, rng)
    ext = ".png" if task.index % 2 else ".jpg"
    dst = out / f"{_stem(task)}{ext}"
    save_image(dst, crop, ImageMeta(), quality)
    return Made(dst, "crop " + ("PNG" if ext == ".png" else f"JPEG q{quality}"))


def real_clip(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
              work: Path) -> Made:  # fmt: skip
    """A pan or zoom-out clip of a photograph, encoded with ffmpeg."""
    dst, how = _clip(task, rgb, rng, out, work, {}, fps=int(rng.choice([25, 30])))
    return Made(dst, how)


def camera_footage(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
                   work: Path) -> Made | None:  # fmt: skip
    """A 3-6 s cut of a real camera clip (OpenCV's vtest.avi), re-encoded with libx264."""
    clips = real_sources.sources("evaluation", kind="video")
    if not clips:
        return None  # opencv-doc is not installed
    clip = clips[task.index % len(clips)]
    start, seconds = round(float(rng.uniform(0, 70)), 1), round(float(rng.uniform(3.0, 6.0)), 1)
    crf = int(rng.choice([18, 23, 28]))
    dst = out / f"{_stem(task)}.mp4"
    ffmpeg("-ss", f"{start}", "-i", str(clip.path), "-t", f"{seconds}", "-an", "-filter_threads",
           "1", "-vf", "format=yuv420p", *X264, "-crf", str(crf), str(dst))  # fmt: skip
    return Made(dst, f"{seconds} s cut at {start} s, libx264 CRF {crf}", source=clip.name)


def simulated_camera(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
                     work: Path) -> Made:  # fmt: skip
    """A real crop or clip carrying camera tags that WE wrote (simulated, not a camera file)."""
    note = ("camera tags written by this script: simulated, not a camera original",)
    if task.index % 2:
        tags = {"com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 13"}
        dst, how = _clip(task, rgb, rng, out, work, tags, fps=30)
        return Made(dst, how + " + com.apple.quicktime make/model", note)
    dst = out / f"{_stem(task)}.jpg"
    exif = _exif(Make="Canon", Model="Canon EOS 80D", DateTime="2024:05:04 10:11:12")
    save_image(dst, crop_of(rgb, rng), ImageMeta(exif=exif), int(rng.integers(85, 96)))
    return Made(dst, "crop JPEG + EXIF Make/Model/DateTime", note)


def _aigc(task: Task) -> str:
    return json.dumps(
        {"Label": "1", "ContentProducer": "authcheck-evalset", "ProduceID": f"eval-{task.index}",
         "ReservedCode1": "", "ContentPropagator": "", "PropagateID": "", "ReservedCode2": ""}
    )  # fmt: skip


def labelled(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
             work: Path) -> Made:  # fmt: skip
    """A real crop or clip carrying an (unsigned) AI declaration; pixels are a real photo's."""
    variant = task.index % 7
    if variant in (1, 5):
        dst, how = _clip(task, rgb, rng, out, work, {"AIGC": _aigc(task)})
        return Made(dst, how + " + TC260 AIGC tag (-movflags use_metadata_tags)")
    crop = crop_of(rgb, rng)
    h, w = crop.shape[:2]
    xmp = XMP_TEMPLATE.format(iptc=IPTC).encode()
    variants = {
        0: (".jpg", ImageMeta(xmp=xmp), "JPEG + XMP DigitalSourceType trainedAlgorithmicMedia"),
        2: (".png", ImageMeta(text=(("parameters", A1111.format(seed=task.seed, w=w, h=h)),)),
            "PNG + A1111 parameters text chunk"),
        3: (".jpg", ImageMeta(exif=_exif(Software="Midjourney")),
            "JPEG + EXIF Software Midjourney"),
        4: (".png", ImageMeta(text=(("AIGC", _aigc(task)),)), "PNG + TC260 AIGC text chunk"),
        6: (".png", ImageMeta(xmp=xmp), "PNG + XMP DigitalSourceType trainedAlgorithmicMedia"),
    }  # fmt: skip
    ext, meta, how = variants[variant]
    dst = out / f"{_stem(task)}{ext}"
    save_image(dst, crop, meta, 92)
    return Made(dst, "real crop " + how)


def watermarked(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
                work: Path) -> Made:  # fmt: skip
    """A real crop stamped with a Stable Diffusion DWT payload, saved as a lossless PNG."""
    payload = PAYLOADS[task.index % len(PAYLOADS)]
    dst = out / f"{_stem(task)}.png"
    Image.fromarray(encode(crop_of(rgb, rng), payload.bits)).save(dst, "PNG")
    return Made(dst, f"real crop + dwtDct watermark, payload {payload.name}, PNG")


def c2pa_signed(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
                work: Path) -> Made | None:  # fmt: skip
    """A real crop or clip signed with a C2PA manifest declaring trainedAlgorithmicMedia."""
    try:
        from tests import c2pa_fixtures as c2
    except ImportError:  # c2pa-python or the test helpers are not installed: skip, say so
        return None
    if task.index % 2:
        src, how = _clip(task, rgb, rng, work, work, {})
        mime, dst = "video/mp4", out / f"{_stem(task)}.mp4"
    else:
        src, how = work / "src.jpg", "crop JPEG q90"
        save_image(src, crop_of(rgb, rng), ImageMeta(), 90)
        mime, dst = "image/jpeg", out / f"{_stem(task)}.jpg"
    agent = "authcheck-evalset (stand-in, no generator was run)"
    definition = c2.manifest(dst.name, source_type="trainedAlgorithmicMedia", agent=agent)
    c2.sign(src, dst, mime, definition)
    note = ("signed by a throw-away test CA: untrusted; no detector reads C2PA (provenance does)",)
    return Made(dst, how + " + C2PA manifest (c2pa.created, trainedAlgorithmicMedia)", note)


def upsampled(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
              work: Path) -> Made:  # fmt: skip
    """PROXY: a crop downscaled 2x (antialiased), then upsampled 2x by nearest or bilinear."""
    crop = crop_of(rgb, rng)
    h, w = crop.shape[:2]
    small = _resize(crop, (w // 2, h // 2), Image.Resampling.LANCZOS)
    method = Image.Resampling.NEAREST if task.index % 2 == 0 else Image.Resampling.BILINEAR
    big = _resize(small, (w // 2 * 2, h // 2 * 2), method)
    ext = ".png" if task.index % 4 < 2 else ".jpg"
    dst = out / f"{_stem(task)}{ext}"
    save_image(dst, big, ImageMeta(), 92)
    fmt = "PNG" if ext == ".png" else "JPEG q92"
    return Made(dst, f"2x {method.name.lower()} upsampling of a 0.5x crop, {fmt}",
                ("proxy for generator upsampling, not generator output",))  # fmt: skip


def temporal(task: Task, rgb: np.ndarray, rng: np.random.Generator, out: Path,
             work: Path) -> Made:  # fmt: skip
    """PROXY: a pan/zoom clip with per-frame brightness flicker or rotation jitter."""
    kind, vf = inconsistency_filter(rng, task.index)
    dst, how = _clip(task, rgb, rng, out, work, {}, extra_vf="," + vf)
    return Made(dst, f"{how} + {kind}", ("proxy for temporal inconsistency, not generator output",))


BUILDERS: dict[str, Builder] = {
    "photos": real_photo,
    "clips": real_clip,
    "camera_footage": camera_footage,
    "simulated_camera": simulated_camera,
    "labelled": labelled,
    "watermarked": watermarked,
    "c2pa": c2pa_signed,
    "upsampled": upsampled,
    "temporal": temporal,
}


# --- the set -------------------------------------------------------------------------------------


def allocate(count: int, mix: tuple[tuple[str, float], ...]) -> dict[str, int]:
    """Originals per category: at least one each, the rest by largest remainder."""
    shares = {name: share * count for name, share in mix}
    out = {name: max(1, int(value)) for name, value in shares.items()}
    by_remainder = sorted(shares, key=lambda n: shares[n] - int(shares[n]), reverse=True)
    for name in by_remainder[: max(0, count - sum(out.values()))]:
        out[name] += 1
    return out


def plan(count: int, seed: int) -> list[Task]:
    """Every original to build, in a fixed order."""
    tasks = []
    for label, mix in (("real", REAL_MIX), ("synthetic", SYNTHETIC_MIX)):
        for category, n in allocate(count, mix).items():
            tasks += [Task(label, category, i, seed) for i in range(n)]
    return tasks


_PHOTOS: list[tuple[str, np.ndarray]] = []


def _photo(rng: np.random.Generator) -> tuple[str, np.ndarray]:
    if not _PHOTOS:  # once per worker process
        _PHOTOS.extend(real_sources.photos("evaluation"))
    return _PHOTOS[int(rng.integers(len(_PHOTOS)))]


def _kind(path: Path) -> str:
    return "video" if path.suffix == ".mp4" else "image"


def build_task(task: Task, out_root: Path) -> list[Item]:
    """Build one original and its five transformed copies; an empty list if it was skipped."""
    cat_id = list(BUILDERS).index(task.category)
    rng = np.random.default_rng([task.seed, cat_id, task.index])
    name, rgb = _photo(rng)
    out = out_root / task.label / task.category
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        made = BUILDERS[task.category](task, rgb, rng, out, Path(tmp))
    if made is None:
        return []
    name = made.source or name
    item = Item(str(made.path.relative_to(out_root)), task.label, task.category,
                _kind(made.path), "original", name, made.how, list(made.notes))  # fmt: skip
    items = [item]
    for transform in TRANSFORMS:
        copy = video_copy if item.kind == "video" else image_copy
        path = copy(made.path, transform)
        items.append(Item(str(path.relative_to(out_root)), task.label, task.category, item.kind,
                          transform, name, made.how, list(made.notes)))  # fmt: skip
    return items


def write_views(out_root: Path) -> None:
    """``views/<category>/{real,synthetic}``: one synthetic category against all of real/."""
    for category in (name for name, _ in SYNTHETIC_MIX):
        view = out_root / "views" / category
        view.mkdir(parents=True, exist_ok=True)
        (view / "real").symlink_to(Path("..", "..", "real"), target_is_directory=True)
        target = Path("..", "..", "synthetic", category)
        (view / "synthetic").symlink_to(target, target_is_directory=True)


def build(out_root: Path, *, seed: int, count: int, jobs: int) -> list[Item]:
    """Build the whole set into ``out_root`` (which must be empty) and write manifest.json."""
    if out_root.exists() and any(out_root.iterdir()):
        raise SystemExit(f"build_evalset: {out_root} is not empty; choose a new directory")
    out_root.mkdir(parents=True, exist_ok=True)
    tasks = plan(count, seed)
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(build_task, tasks, [out_root] * len(tasks)))
    else:
        results = [build_task(t, out_root) for t in tasks]
    items = [i for r in results for i in r]
    skipped = sorted({t.category for t, r in zip(tasks, results, strict=True) if not r})
    write_views(out_root)
    manifest = {
        "generated_by": "scripts/build_evalset.py",
        "seed": seed,
        "originals_per_class": count,
        "transforms": list(TRANSFORMS),
        "skipped_categories": skipped,
        "held_out": "evaluation split of scripts/real_sources.py: no source photograph or clip of "
        "the reference tables or the threshold calibration (scripts/build_reference.py)",
        "sources": sorted({i.source_photo for i in items}),
        "items": [asdict(i) for i in items],
    }
    (out_root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return items


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, build the set and print a one-line summary per class."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--count", type=int, default=100, help="originals per class")
    parser.add_argument("--quick", action="store_true", help="8 originals per class (tests)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    count = 8 if args.quick else args.count
    items = build(args.out_dir, seed=args.seed, count=count, jobs=args.jobs)
    for label in ("real", "synthetic"):
        mine = [i for i in items if i.label == label]
        originals = sum(i.transform == "original" for i in mine)
        print(f"{label}: {originals} originals, {len(mine)} files")


if __name__ == "__main__":
    main()
