"""spectral_artifacts: upsampling leaves periodic residual peaks that real photos do not have."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from authcheck.detectors import reference
from authcheck.detectors.base import DetectorContext, Frame, SignalResult
from authcheck.detectors.spectral_artifacts import (
    MIN_JPEG_QUALITY,
    SpectralArtifactsDetector,
    applicability,
    jpeg_quality,
    strongest_peak,
)


def natural_image(seed: int, height: int = 512, width: int = 512) -> np.ndarray:
    """A camera-like picture without any resampling: 1/f noise texture over smooth gradients."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    falloff = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(height, width)) ** 1.1
    channels = []
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    for _ in range(3):
        noise = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(height, width))) * falloff))
        noise = (noise - noise.mean()) / noise.std()
        a, b = rng.uniform(-60, 60, 2)
        channels.append(128 + a * xx + b * yy + 35 * noise + rng.normal(0, 2, (height, width)))
    return np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)


def nearest_2x(rgb: np.ndarray) -> np.ndarray:
    """Nearest-neighbour 2x upsampling (pixel duplication)."""
    return np.repeat(np.repeat(rgb, 2, axis=0), 2, axis=1)


def transposed_conv_2x(rgb: np.ndarray) -> np.ndarray:
    """Zero insertion followed by a 3x3 bilinear kernel, like a stride-2 transposed convolution."""
    up = np.zeros((rgb.shape[0] * 2, rgb.shape[1] * 2, 3))
    up[::2, ::2] = rgb
    kernel_1d = np.array([0.5, 1.0, 0.5])
    for axis in (0, 1):
        padded = np.pad(up, [(1, 1) if a == axis else (0, 0) for a in range(3)], mode="edge")
        n = up.shape[axis]
        up = sum(kernel_1d[k] * np.take(padded, np.arange(k, k + n), axis=axis) for k in range(3))
    return np.clip(up, 0, 255).astype(np.uint8)


def image_context(tmp_path: Path, rgb: np.ndarray, name: str = "x.png") -> DetectorContext:
    path = tmp_path / name
    Image.fromarray(rgb).save(path)
    frame = Frame(0, 0.0, True, rgb[:512, :512])
    return DetectorContext(
        path=path, sha256="0" * 64, mime="image/png", kind="image", frames=(frame,)
    )


def _detect(ctx: DetectorContext) -> SignalResult:
    return SpectralArtifactsDetector().detect(ctx)


@pytest.mark.parametrize("upsample", [nearest_2x, transposed_conv_2x])
def test_it_scores_upsampled_image_above_the_original_and_the_reference(tmp_path, upsample):
    small = natural_image(1, 256, 256)
    original = _detect(image_context(tmp_path, natural_image(1), "orig.png"))
    upsampled = _detect(image_context(tmp_path, upsample(small), "up.png"))

    assert upsampled.label == "indicator_high"
    assert original.label == "indicator_low"
    assert original.score is not None and upsampled.score is not None
    assert upsampled.score > original.score
    limit = reference.threshold("spectral_artifacts.image.lossless")
    assert upsampled.evidence["statistic"] > limit.statistic > original.evidence["statistic"]
    assert upsampled.evidence["strongest_peak"]["period"] == "2 px"


def test_the_statistic_differs_across_inputs():
    stats = {round(strongest_peak(natural_image(seed, 200, 300)).ratio, 6) for seed in range(6)}

    assert len(stats) == 6


def test_evidence_carries_statistic_percentile_threshold_reference_and_failure_modes(tmp_path):
    result = _detect(image_context(tmp_path, natural_image(2)))

    evidence = result.evidence
    assert 0.0 <= evidence["percentile"] <= 1.0 and evidence["percentile"] == round(result.score, 4)
    assert evidence["threshold"]["threshold"] == "spectral_artifacts.image.lossless"
    assert evidence["threshold"]["calibration"]["samples"] > 100
    assert evidence["strength"] in {"below", "standard", "strict"} and evidence["cannot_tell"]
    assert evidence["reference"]["table"] == "spectral_artifacts.image"
    assert evidence["reference"]["samples"] > 100
    assert any("JPEG" in mode for mode in evidence["failure_modes"])


def test_it_reads_the_original_image_not_the_downscaled_frame(tmp_path):
    upsampled = nearest_2x(natural_image(3, 320, 320))  # 640 px: frames would be resampled
    ctx = image_context(tmp_path, upsampled)
    flat = Frame(0, 0.0, True, np.full((512, 512, 3), 128, np.uint8))
    ctx = DetectorContext(ctx.path, ctx.sha256, ctx.mime, ctx.kind, frames=(flat,))

    assert _detect(ctx).label == "indicator_high"


def test_video_abstains_because_its_threshold_did_not_hold_on_held_out_real_clips():
    up = [Frame(i, i * 0.5, i == 0, nearest_2x(natural_image(i, 192, 256))) for i in range(4)]
    ctx = DetectorContext(
        Path("/nonexistent.mp4"), "0" * 64, "video/mp4", "video", frames=tuple(up)
    )

    result = _detect(ctx)

    assert result.label == "abstain" and result.score is None
    assert "held-out real clips" in result.evidence["reason"]


def test_a_letterboxed_picture_is_analysed_without_its_bars(tmp_path):
    picture = natural_image(9, 300, 400)
    boxed = np.zeros((300, 534, 3), np.uint8)
    boxed[:, 67:467] = picture

    plain = _detect(image_context(tmp_path, picture, "plain.png"))
    bars = _detect(image_context(tmp_path, boxed, "boxed.png"))

    assert bars.evidence["statistic"] == plain.evidence["statistic"]


def test_it_abstains_on_pictures_smaller_than_a_tile(tmp_path):
    result = _detect(image_context(tmp_path, natural_image(4, 100, 100)))

    assert result.label == "abstain" and result.score is None


def test_it_abstains_on_an_unreadable_image(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    ctx = DetectorContext(path=path, sha256="0" * 64, mime="image/png", kind="image")

    result = _detect(ctx)

    assert result.label == "abstain" and result.evidence["code"] == "media_malformed"


def test_reference_percentile_is_monotone_and_bounded():
    table = reference.table("spectral_artifacts.image")
    values = np.linspace(table.quantiles[0] - 1, table.quantiles[-1] + 1, 50)
    pct = [reference.percentile("spectral_artifacts.image", float(v)) for v in values]

    assert pct[0] == 0.0 and pct[-1] == 1.0
    assert all(b >= a for a, b in itertools.pairwise(pct))
    assert reference.percentile("spectral_artifacts.image", table.quantiles[50]) == pytest.approx(
        0.5, abs=0.011
    )


@pytest.mark.parametrize("quality", [30, 50, 70, 80, 95])
def test_the_jpeg_quality_estimate_matches_what_pillow_wrote(tmp_path, quality):
    path = tmp_path / "q.jpg"
    Image.fromarray(natural_image(5, 64, 64)).save(path, "JPEG", quality=quality)
    with Image.open(path) as img:
        assert abs(jpeg_quality(img.quantization) - quality) <= 1


def test_the_guard_abstains_on_heavily_compressed_jpeg_with_the_reason(tmp_path):
    path = tmp_path / "heavy.jpg"
    Image.fromarray(nearest_2x(natural_image(6, 200, 200))).save(path, "JPEG", quality=40)
    ctx = DetectorContext(path=path, sha256="0" * 64, mime="image/jpeg", kind="image")

    result = _detect(ctx)

    assert result.label == "abstain" and result.score is None
    assert "below 70" in result.evidence["reason"] and result.evidence["jpeg_quality"] == 40
    assert result.evidence["applicability"] == "outside_calibration"


def test_the_guard_abstains_on_a_lossy_format_without_a_calibrated_threshold(tmp_path):
    path = tmp_path / "x.webp"
    Image.fromarray(natural_image(7, 200, 200)).save(path, "WEBP", quality=80)

    guard = applicability(path)

    assert guard.condition == "" and "WEBP" in guard.reason


def test_a_jpeg_in_the_calibrated_range_is_judged_against_the_jpeg_threshold(tmp_path):
    path = tmp_path / "ok.jpg"
    Image.fromarray(natural_image(8)).save(path, "JPEG", quality=MIN_JPEG_QUALITY + 10)
    ctx = DetectorContext(path=path, sha256="0" * 64, mime="image/jpeg", kind="image")

    result = _detect(ctx)

    assert result.evidence["condition"] == "jpeg"
    assert result.evidence["threshold"]["threshold"] == "spectral_artifacts.image.jpeg"
