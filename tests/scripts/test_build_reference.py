"""scripts/build_reference.py: thresholds are set on the calibration split for at most their target
share of real samples above them, and the strict threshold is above every real sample."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "build_reference.py"
    spec = importlib.util.spec_from_file_location("build_reference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_reference"] = module
    spec.loader.exec_module(module)
    return module


br = _load_script()


def test_a_threshold_leaves_at_most_its_target_share_above_it():
    values = list(np.random.default_rng(0).normal(size=250))
    for target in (0.005, 0.01, 0.05):
        t = br.set_threshold(values, target)
        above = np.mean(np.asarray(values) > t)
        assert above <= target
        # and it is the lowest such order statistic: one sample lower would exceed the budget
        assert np.mean(np.asarray(values) >= t) > target


def _samples(rng: np.random.Generator, shift: float, photos: int) -> object:
    s = br.Samples()
    for p in range(photos):
        for _ in range(20):
            s.image.append((float(rng.normal() + shift), ("jpeg", "lossless")[p % 2], f"p{p}"))
        for _ in range(4):
            s.video.append((float(rng.normal()), f"p{p}"))
            s.flicker.append((float(rng.normal()), f"p{p}"))
            s.warp.append((float(rng.normal()), f"p{p}"))
    return s


def test_thresholds_come_from_calibration_and_strict_is_above_every_real_sample():
    rng = np.random.default_rng(1)
    ref, cal = _samples(rng, 0.0, 10), _samples(rng, 0.5, 10)

    limits = br.thresholds(ref, cal)

    lossless = limits["spectral_artifacts.image.lossless"]
    cal_values = [v for v, c, _ in cal.image if c == "lossless"]
    ref_values = [v for v, c, _ in ref.image if c == "lossless"]
    assert lossless["samples"] == len(cal_values) and lossless["photos"] == 5
    assert lossless["false_positive_rate"] <= lossless["target"] == 0.01
    assert lossless["interval"][0] <= lossless["false_positive_rate"] <= lossless["interval"][1]
    assert lossless["strict"] >= max(cal_values + ref_values)
    assert limits["temporal_consistency.flicker"]["target"] == 0.005
