"""Regenerate ``authcheck/detectors/reference_data.json`` (the indicators' reference set).

Real material only, and only what ships inside installed wheels (nothing is downloaded): the
photographs in scikit-image's ``skimage/data`` folder (read as files; ``skimage.data`` loaders that
fetch with pooch are never called) and matplotlib's ``sample_data/grace_hopper.jpg``.

- Image table: per photo, random crops, antialiased downscales (never upscales: upsampling is what
  the spectral detector looks for) and, for half of them, a JPEG re-encode at quality 70-95,
  because real photos found online are mostly JPEG.
- Video tables: per photo, short pan and zoom-out clips made with ffmpeg (crop with a moving x/y,
  or zoompan always rendering at a smaller size), encoded with libx264 at CRF 18-28, from which
  frames are sampled at 2 or 3 fps and measured like the pipeline's sampled frames.

Deterministic: fixed seeds, single-threaded x264. Usage: ``python scripts/build_reference.py``
(needs scikit-image and matplotlib installed, and ffmpeg on PATH).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from authcheck.detectors import reference  # noqa: E402
from authcheck.detectors.base import Frame  # noqa: E402
from authcheck.detectors.spectral_artifacts import strongest_peak  # noqa: E402
from authcheck.detectors.temporal_consistency import temporal_stats  # noqa: E402

SEED = 20240601
IMAGE_VARIANTS = 40
CLIPS_PER_PHOTO = 10
CLIP_SECONDS = 4
FPS = 25
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "retina.jpg",
    "rocket.jpg",
)
# Left out on purpose: EXCLUDED below, and the synthetic graphics and microscopy (chessboard,
# color, horse, logo, phantom, text, page, cell, microaneurysms).
EXCLUDED = {
    "moon.png": "upscaled scan (2x upsampling peaks)",
    "clock_motion.png": "synthetic motion blur (a deblurring demo), not a camera image",
}


def photos() -> list[tuple[str, np.ndarray]]:
    """The reference photographs as RGB arrays, in a fixed order."""
    import matplotlib
    import skimage

    folder = Path(skimage.__file__).parent / "data"
    paths = [("skimage/" + name, folder / name) for name in SKIMAGE_PHOTOS]
    paths.append(
        (
            "matplotlib/grace_hopper.jpg",
            Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg",
        )
    )
    out = []
    for name, path in paths:
        with Image.open(path) as img:
            out.append((name, np.asarray(img.convert("RGB"))))
    return out


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as img:
        return np.asarray(img.convert("RGB"))


def image_variant(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random crop, maybe downscaled (antialiased), maybe JPEG re-encoded."""
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
        out = _jpeg(out, int(rng.integers(70, 96)))
    return out


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
    h, w = rgb.shape[:2]
    still = work / "still.png"
    Image.fromarray(rgb).save(still)
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


def build() -> dict[str, object]:
    """Measure every reference sample and return the JSON document."""
    image_stats: list[float] = []
    video_spectral: list[float] = []
    flicker: list[float] = []
    warp: list[float] = []
    sources = photos()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (_name, rgb) in enumerate(sources):
            rng = np.random.default_rng(SEED + i)
            for _ in range(IMAGE_VARIANTS):
                peak = strongest_peak(image_variant(rgb, rng))
                if peak is not None:
                    image_stats.append(peak.ratio)
            for _ in range(CLIPS_PER_PHOTO):
                frames = clip_frames(rgb, rng, Path(tmp))
                peaks = [p.ratio for p in (strongest_peak(f.rgb) for f in frames) if p]
                if peaks:
                    video_spectral.append(float(np.median(peaks)))
                stats = temporal_stats(frames)
                flicker.append(stats.flicker)
                warp.append(stats.warp_error)
    return _document([n for n, _ in sources], image_stats, video_spectral, flicker, warp)


def _p99(values: list[float]) -> float:
    table = reference.quantile_table(values)
    return float(np.interp(0.99, np.linspace(0, 1, reference.QUANTILE_POINTS), table))


def _firing_share(values: list[float]) -> float:
    return round(float(np.mean(np.asarray(values) >= _p99(values))), 4)


def _document(names: list[str], image: list[float], video: list[float], flick: list[float],
              warp: list[float]) -> dict[str, object]:  # fmt: skip
    photo_text = f"{len(names)} photographs shipped in scikit-image and matplotlib wheels"
    clip_text = (
        f"{len(flick)} libx264 pan/zoom-out clips ({CLIP_SECONDS} s, CRF 18-28) of {photo_text}, "
        "frames sampled at 2-3 fps"
    )
    tables = {
        "spectral_artifacts.image": (image, f"{len(image)} random crops, antialiased downscales "
                                     f"and JPEG q70-95 re-encodes (half) of {photo_text}"),
        "spectral_artifacts.video": (video, clip_text + "; median over frames"),
        "temporal_consistency.flicker": (flick, clip_text),
        "temporal_consistency.warp_error": (warp, clip_text),
    }  # fmt: skip
    out: dict[str, dict[str, object]] = {}
    for name, (values, text) in tables.items():
        q = reference.quantile_table(values)
        out[name] = {
            "description": text,
            "samples": len(values),
            "share_at_or_above_99th": _firing_share(values),
            "quantiles": q,
        }
    # The temporal detector fires on the larger of two percentiles: record how many real clips do.
    either = (np.asarray(flick) >= _p99(flick)) | (np.asarray(warp) >= _p99(warp))
    out["temporal_consistency.flicker"]["share_of_clips_firing_either"] = round(
        float(either.mean()), 4
    )
    versions = {p: metadata.version(p) for p in ("scikit-image", "matplotlib", "numpy", "pillow")}
    return {
        "generated_by": "scripts/build_reference.py",
        "seed": SEED,
        "packages": versions,
        "ffmpeg": _ffmpeg_version(),
        "photos": names,
        "excluded": EXCLUDED,
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


if __name__ == "__main__":
    main()
