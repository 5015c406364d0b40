"""Regenerate ``authcheck/detectors/reference_data.json`` (the indicators' reference set).

Real material only, installed from wheels and Debian packages (nothing is downloaded): the sources
of ``scripts/real_sources.py`` (scikit-image and matplotlib photographs, KDE wallpaper photographs,
OpenCV sample photographs), split by scene. The *reference* split gives the percentile tables; the
*calibration* split, never seen by the tables, gives each indicator's thresholds (``indicator_high``
above the statistic that at most 1% of calibration samples exceed, half that for each of the
temporal detector's two statistics; ``strict`` above every real sample of both splits) with a 95%
bootstrap interval over calibration photographs. The evaluation split is left for
``scripts/build_evalset.py``.

- Image samples: per photo, random crops, antialiased downscales (never upscales: upsampling is what
  the spectral detector looks for) and, for half of them, a JPEG re-encode at quality 70-95,
  because real photos found online are mostly JPEG.
- Video samples: per photo, short pan and zoom-out clips made with ffmpeg (crop with a moving x/y,
  or zoompan always rendering at a smaller size) of the photo downscaled to 800 px, encoded with
  libx264 at CRF 18-28, from which
  frames are sampled at 2 or 3 fps and measured like the pipeline's sampled frames.

Deterministic: fixed seeds, single-threaded x264. Usage: ``python scripts/build_reference.py``
(needs scikit-image and matplotlib installed, ffmpeg on PATH, and the Debian packages
plasma-workspace-wallpapers and opencv-doc for the full sets; it took 4 min 38 s on 2 busy cores).
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import real_sources  # noqa: E402

from authcheck.detectors import reference  # noqa: E402
from authcheck.detectors.base import Frame  # noqa: E402
from authcheck.detectors.spectral_artifacts import strongest_peak  # noqa: E402
from authcheck.detectors.temporal_consistency import temporal_stats  # noqa: E402
from authcheck.evaluation import rate_interval  # noqa: E402

SEED = 20240601
IMAGE_VARIANTS = 20
CLIPS_PER_PHOTO = 2
CLIP_SECONDS = 3
# Stills for clips are downscaled to this longer side first: the image2 demuxer decodes the still
# once per frame, and the clips are at most 480x360 anyway (this keeps the build bounded).
CLIP_STILL_SIDE = 800
FPS = 25
# The share of real calibration samples allowed above each indicator_high threshold. The temporal
# detector fires on either of two statistics, so each gets half of its 1%.
TARGETS = {
    "spectral_artifacts.image.lossless": 0.01,
    "spectral_artifacts.image.jpeg": 0.01,
    "spectral_artifacts.video": 0.01,
    "temporal_consistency.flicker": 0.005,
    "temporal_consistency.warp_error": 0.005,
}


def photos(split: str = "reference") -> list[tuple[str, np.ndarray]]:
    """The photographs of one split of ``scripts/real_sources.py`` as RGB arrays."""
    return real_sources.photos(split)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as img:
        return np.asarray(img.convert("RGB"))


def image_variant(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A random crop, maybe downscaled (antialiased), maybe JPEG re-encoded at q70-95; and its
    condition ("jpeg" when the last save was JPEG, else "lossless")."""
    h, w = rgb.shape[:2]
    ch, cw = int(rng.integers(min(160, h), h + 1)), int(rng.integers(min(160, w), w + 1))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = rgb[y : y + ch, x : x + cw]
    if rng.random() < 0.7:
        factor = rng.uniform(0.5, 0.95)
        size = (max(140, int(cw * factor)), max(140, int(ch * factor)))
        if size[0] < cw and size[1] < ch:
            out = np.asarray(Image.fromarray(out).resize(size, Image.Resampling.LANCZOS))
    if rng.random() < 0.5:
        return _jpeg(out, int(rng.integers(70, 96))), "jpeg"
    return out, "lossless"


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _clip_filter(w: int, h: int, rng: np.random.Generator) -> str:
    """An ffmpeg filter that pans over or zooms out of a still photo, never upscaling it."""
    if rng.random() < 0.5:
        ow, oh = _even(min(w * 0.6, 480)), _even(min(h * 0.6, 360))
        vx, vy = rng.uniform(-40, 40), rng.uniform(-20, 20)
        x0, y0 = rng.uniform(0, w - ow), rng.uniform(0, h - oh)
        return (
            f"crop={ow}:{oh}:x='clip({x0:.1f}+({vx:.2f})*t,0,iw-ow)'"
            f":y='clip({y0:.1f}+({vy:.2f})*t,0,ih-oh)'"
        )
    zmax = rng.uniform(1.05, 1.3)
    ow, oh = _even(min(w / (zmax * 1.1), 480)), _even(min(h / (zmax * 1.1), 360))
    frames = CLIP_SECONDS * FPS
    return (
        f"zoompan=z='1+{zmax - 1:.3f}*on/{frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
        f":d=1:s={ow}x{oh}:fps={FPS}"
    )


def _run(args: list[str], capture: bool = False) -> bytes:
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=capture,
        timeout=120,
    )
    return done.stdout if capture else b""


def clip_frames(rgb: np.ndarray, rng: np.random.Generator, work: Path) -> list[Frame]:
    """Encode one pan/zoom clip of a photo and return its sampled frames."""
    still_img = Image.fromarray(rgb)
    if max(still_img.size) > CLIP_STILL_SIDE:
        still_img.thumbnail((CLIP_STILL_SIDE, CLIP_STILL_SIDE), Image.Resampling.LANCZOS)
    w, h = still_img.size
    still = work / "still.png"
    still_img.save(still)
    clip = work / "clip.mp4"
    crf = int(rng.choice([18, 23, 28]))
    vf = _clip_filter(w, h, rng) + ",format=yuv420p"
    _run(["-loop", "1", "-framerate", str(FPS), "-i", str(still), "-t", str(CLIP_SECONDS),
          "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
          "-threads", "1", "-x264-params", "threads=1", str(clip)])  # fmt: skip
    rate = int(rng.choice([2, 3]))
    out_w, out_h = _probe_size(clip)
    raw = _run(["-i", str(clip), "-vf", f"fps={rate}", "-f", "rawvideo", "-pix_fmt", "rgb24",
                "pipe:1"], capture=True)  # fmt: skip
    count = len(raw) // (out_w * out_h * 3)
    arr = np.frombuffer(raw[: count * out_w * out_h * 3], np.uint8).reshape(count, out_h, out_w, 3)
    return [Frame(i, i / rate, i == 0, arr[i]) for i in range(count)]


def _probe_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    w, h = out.strip().split(",")[:2]
    return int(w), int(h)


def _ffmpeg_version() -> str:
    out = subprocess.run(["ffmpeg", "-version"], check=True, capture_output=True, text=True)
    return out.stdout.splitlines()[0]


@dataclass
class Samples:
    """Every statistic measured on one split, with the photograph each sample came from."""

    image: list[tuple[float, str, str]] = field(default_factory=list)  # stat, condition, photo
    video: list[tuple[float, str]] = field(default_factory=list)
    flicker: list[tuple[float, str]] = field(default_factory=list)
    warp: list[tuple[float, str]] = field(default_factory=list)


def measure(sources: list[tuple[str, np.ndarray]], seed: int, image_variants: int,
            clips: int) -> Samples:  # fmt: skip
    """Measure image variants and clips of every photograph (deterministic for a seed)."""
    out = Samples()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, rgb) in enumerate(sources):
            rng = np.random.default_rng(seed + i)
            for _ in range(image_variants):
                pixels, condition = image_variant(rgb, rng)
                peak = strongest_peak(pixels)
                if peak is not None:
                    out.image.append((peak.ratio, condition, name))
            for _ in range(clips):
                frames = clip_frames(rgb, rng, Path(tmp))
                peaks = [p.ratio for p in (strongest_peak(f.rgb) for f in frames) if p]
                if peaks:
                    out.video.append((float(np.median(peaks)), name))
                stats = temporal_stats(frames)
                out.flicker.append((stats.flicker, name))
                out.warp.append((stats.warp_error, name))
    return out


def build() -> dict[str, object]:
    """Measure the reference and calibration splits and return the JSON document."""
    ref_photos, cal_photos = photos("reference"), photos("calibration")
    with ProcessPoolExecutor(2) as pool:  # the two splits are independent
        ref_job = pool.submit(measure, ref_photos, SEED, IMAGE_VARIANTS, CLIPS_PER_PHOTO)
        cal_job = pool.submit(measure, cal_photos, SEED + 1000, IMAGE_VARIANTS, CLIPS_PER_PHOTO)
        ref, cal = ref_job.result(), cal_job.result()
    doc = _document([n for n, _ in ref_photos], ref)
    doc["calibration_photos"] = [n for n, _ in cal_photos]
    doc["thresholds"] = thresholds(ref, cal)
    return doc


def _pools(s: Samples) -> dict[str, list[tuple[float, str]]]:
    return {
        "spectral_artifacts.image.lossless": [(v, p) for v, c, p in s.image if c == "lossless"],
        "spectral_artifacts.image.jpeg": [(v, p) for v, c, p in s.image if c == "jpeg"],
        "spectral_artifacts.video": s.video,
        "temporal_consistency.flicker": s.flicker,
        "temporal_consistency.warp_error": s.warp,
    }


def set_threshold(values: list[float], target: float) -> float:
    """The smallest order statistic with at most ``target`` of ``values`` strictly above it."""
    ordered = sorted(values, reverse=True)
    allowed = int(np.floor(target * len(ordered) + 1e-9))
    return float(ordered[min(allowed, len(ordered) - 1)])


def _ceil6(value: float) -> float:
    # Rounded up, so the stored threshold never lets through a sample the exact one did not.
    return math.ceil(value * 1e6) / 1e6


def thresholds(ref: Samples, cal: Samples) -> dict[str, dict[str, object]]:
    """Each indicator's thresholds, set on the calibration split only (never the reference)."""
    out: dict[str, dict[str, object]] = {}
    ref_pools = _pools(ref)
    for name, pool in _pools(cal).items():
        values = [v for v, _ in pool]
        target = TARGETS[name]
        t = set_threshold(values, target)
        fpr = rate_interval([v > t for v in values], [p for _, p in pool], rounds=1000, seed=1)
        strict = max(values + [v for v, _ in ref_pools[name]])
        out[name] = {
            "statistic": _ceil6(t),
            "strict": _ceil6(strict),
            "samples": len(values),
            "photos": len({p for _, p in pool}),
            "target": target,
            "false_positive_rate": round(fpr.value, 4),
            "interval": [round(fpr.low, 4), round(fpr.high, 4)],
            "strict_false_positive_bound": round(3 / len(values), 4),
            "description": f"{len(values)} samples of {len({p for _, p in pool})} calibration "
            "photographs (crops, downscales, JPEG q70-95 re-encodes; pan/zoom clips at CRF "
            "18-28), none of them in the reference tables or the evaluation set",
        }
    return out


def _p99(values: list[float]) -> float:
    table = reference.quantile_table(values)
    return float(np.interp(0.99, np.linspace(0, 1, reference.QUANTILE_POINTS), table))


def _document(names: list[str], s: Samples) -> dict[str, object]:
    photo_text = f"{len(names)} reference photographs (scripts/real_sources.py, split reference)"
    clip_text = (
        f"{len(s.flicker)} libx264 pan/zoom-out clips ({CLIP_SECONDS} s, CRF 18-28) of "
        f"{photo_text}, frames sampled at 2-3 fps"
    )
    tables = {
        "spectral_artifacts.image": ([v for v, _, _ in s.image],
                                     f"{len(s.image)} random crops, antialiased downscales "
                                     f"and JPEG q70-95 re-encodes (half) of {photo_text}"),
        "spectral_artifacts.video": ([v for v, _ in s.video], clip_text + "; median over frames"),
        "temporal_consistency.flicker": ([v for v, _ in s.flicker], clip_text),
        "temporal_consistency.warp_error": ([v for v, _ in s.warp], clip_text),
    }  # fmt: skip
    out: dict[str, dict[str, object]] = {}
    for name, (values, text) in tables.items():
        out[name] = {
            "description": text,
            "samples": len(values),
            "quantiles": reference.quantile_table(values),
        }
    versions = {p: metadata.version(p) for p in ("scikit-image", "matplotlib", "numpy", "pillow")}
    return {
        "generated_by": "scripts/build_reference.py",
        "seed": SEED,
        "packages": versions,
        "ffmpeg": _ffmpeg_version(),
        "photos": names,
        "max_side": real_sources.MAX_SIDE,
        "tables": out,
    }


def main() -> None:
    """Build and write the reference data file."""
    doc = build()
    reference.DATA_PATH.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    tables = doc["tables"]
    assert isinstance(tables, dict)
    for name, entry in tables.items():
        q = entry["quantiles"]
        print(f"{name}: n={entry['samples']} median={q[50]:.4f} p99={q[99]:.4f} max={q[100]:.4f}")
    limits = doc["thresholds"]
    assert isinstance(limits, dict)
    for name, t in limits.items():
        print(
            f"{name}: above {t['statistic']:.4f} (strict {t['strict']:.4f}) on {t['samples']} "
            f"calibration samples: FPR {t['false_positive_rate']:.4f} {t['interval']}"
        )


if __name__ == "__main__":
    main()
