"""invisible_watermark: decodes the public Stable Diffusion DWT watermark from lossless files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from authcheck.detectors import invisible_watermark as wm
from authcheck.detectors.base import DetectorContext, Frame, SignalResult
from authcheck.detectors.invisible_watermark import (
    PAYLOADS,
    InvisibleWatermarkDetector,
    binomial_tail,
    encode,
    match_payloads,
    required_matches,
)
from tests.detectors.test_spectral_artifacts import natural_image

SDXL = next(p for p in PAYLOADS if p.name == "sdxl")
SD_V1 = next(p for p in PAYLOADS if p.name == "stable_diffusion_v1")


def _detect_file(path: Path, mime: str = "image/png") -> SignalResult:
    ctx = DetectorContext(path=path, sha256="0" * 64, mime=mime, kind="image")
    return InvisibleWatermarkDetector().detect(ctx)


def _save(tmp_path: Path, rgb: np.ndarray, name: str = "x.png") -> Path:
    path = tmp_path / name
    Image.fromarray(rgb).save(path)
    return path


@pytest.mark.parametrize("payload", [SDXL, SD_V1], ids=lambda p: p.name)
def test_it_finds_the_watermark_in_a_lossless_png(tmp_path, payload):
    path = _save(tmp_path, encode(natural_image(7), payload.bits))

    result = _detect_file(path)

    assert result.label == "watermark_found" and result.score == 1.0
    found = result.evidence["found"]
    assert found["payload"] == payload.name
    assert found["matching_bits"] >= found["required_matching_bits"]
    assert found["chance_probability"] <= wm.MAX_TAIL
    assert (
        "lossless" in result.evidence["note"] and "absence means nothing" in result.evidence["note"]
    )


def test_it_reports_no_watermark_for_the_unwatermarked_image(tmp_path):
    result = _detect_file(_save(tmp_path, natural_image(7)))

    assert result.label == "no_watermark" and result.score == 0.0
    assert {p["payload"] for p in result.evidence["payloads"]} == {p.name for p in PAYLOADS}
    assert all(not p["found"] for p in result.evidence["payloads"])


def _unrelated_images() -> list[np.ndarray]:
    rng = np.random.default_rng(99)
    images = [natural_image(100 + i, 384, 512) for i in range(8)]
    images += [rng.integers(0, 256, (300, 400, 3), dtype=np.uint8) for _ in range(4)]
    images += [np.full((320, 320, 3), c, np.uint8) for c in (0, 37, 128, 255)]
    yy, xx = np.mgrid[0:400, 0:400]
    images.append(
        np.stack([xx * 255 // 399, yy * 255 // 399, (xx + yy) * 255 // 798], -1).astype(np.uint8)
    )
    images.append((((yy // 8 + xx // 8) % 2) * 255)[..., None].repeat(3, -1).astype(np.uint8))
    # Watermarked with a payload we do not look for must not pass as any known one.
    other = tuple(int(b) for b in rng.integers(0, 2, 48))
    images += [encode(natural_image(200 + i), other) for i in range(2)]
    return images


def test_no_false_positive_on_twenty_unrelated_images(tmp_path):
    images = _unrelated_images()
    assert len(images) == 20

    labels = [_detect_file(_save(tmp_path, img, f"{i}.png")).label for i, img in enumerate(images)]

    assert labels == ["no_watermark"] * 20


def test_threshold_follows_the_binomial_tail_and_the_ber_floor():
    assert required_matches(48) == 43
    assert binomial_tail(48, 43) <= wm.MAX_TAIL < binomial_tail(48, 42)
    assert required_matches(136) == 116  # the 15% BER floor is the binding rule here
    assert binomial_tail(136, 116) < 1e-15
    assert required_matches(20) == 21  # too short to ever reach the tail bound: never found


def test_encode_then_decode_recovers_every_payload_in_memory():
    image = natural_image(8)
    for payload in PAYLOADS:
        matches = {m.payload: m for m in match_payloads(encode(image, payload.bits))}
        assert matches[payload.name].found, payload.name
        assert matches[payload.name].matches >= len(payload.bits) - 4


def test_it_abstains_for_images_too_small_to_carry_it(tmp_path):
    result = _detect_file(_save(tmp_path, natural_image(9, 200, 200)))

    assert result.label == "abstain" and result.score is None


def test_it_refuses_images_above_the_pixel_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(wm, "MAX_PIXELS", 100_000)

    result = _detect_file(_save(tmp_path, natural_image(9, 400, 400)))

    assert result.label == "abstain" and result.evidence["code"] == "media_too_large"


def test_a_decompression_bomb_warning_becomes_a_refusal(tmp_path, monkeypatch):
    path = _save(tmp_path, natural_image(9, 300, 300))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)  # 90,000 px now warns

    result = _detect_file(path)

    assert result.label == "abstain" and result.evidence["code"] == "media_too_large"


def test_it_abstains_on_a_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.png"
    path.write_bytes(b"not an image at all")

    result = _detect_file(path)

    assert result.label == "abstain" and result.evidence["code"] == "media_malformed"


def test_video_frames_are_decoded_too():
    frame = Frame(0, 0.0, True, encode(natural_image(10), SDXL.bits))
    ctx = DetectorContext(Path("/nonexistent.mp4"), "0" * 64, "video/mp4", "video", frames=(frame,))

    result = InvisibleWatermarkDetector().detect(ctx)

    assert result.label == "watermark_found"
    assert result.evidence["found"]["where"] == "frame 0"
    assert "video_note" in result.evidence
