"""Percentile reference tables for the indicator detectors (SPEC section 4, items 4 and 5).

An indicator's raw statistic means nothing on its own, so it is reported as a percentile against
the same statistic measured on real photographs and clips, never as a probability. The tables live
in ``reference_data.json`` beside this module and are regenerated deterministically by
``scripts/build_reference.py`` from the reference split of ``scripts/real_sources.py`` (random
crops, downscales and JPEG re-encodings; pan and zoom clips encoded with ffmpeg).

Each table holds 101 quantiles (0th to 100th percentile) of the statistic over the reference
samples, plus a description and the sample count. The file also holds each indicator's thresholds,
set on a *different* set of real photographs (the calibration split of ``scripts/real_sources.py``):
``indicator_high`` when the statistic exceeds ``statistic`` (at most the target share of calibration
samples did), and ``strict`` above ``strict`` (no real sample of either set did).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

DATA_PATH = Path(__file__).with_name("reference_data.json")
QUANTILE_POINTS = 101


@dataclass(frozen=True)
class ReferenceTable:
    """Quantiles of one statistic measured on the reference set of real media."""

    name: str
    description: str
    samples: int
    quantiles: tuple[float, ...]

    def percentile(self, value: float) -> float:
        """Fraction of the reference at or below ``value`` (in [0, 1]), interpolated."""
        q = np.asarray(self.quantiles)
        if np.isnan(value):
            raise ValueError("statistic is NaN")
        if value < q[0]:
            return 0.0
        if value >= q[-1]:
            return 1.0
        # Ties in the table (a flat stretch) resolve to their upper end: "at or below".
        i = int(np.searchsorted(q, value, side="right")) - 1
        lo, hi = q[i], q[i + 1]
        frac = 0.0 if hi <= lo else (value - lo) / (hi - lo)
        return float(min(max((i + frac) / (QUANTILE_POINTS - 1), 0.0), 1.0))

    def describe(self) -> dict[str, Any]:
        """What the evidence says about the reference."""
        return {"table": self.name, "description": self.description, "samples": self.samples}


@dataclass(frozen=True)
class Threshold:
    """Where an indicator fires, and how often real calibration samples exceeded it."""

    name: str
    statistic: float  # fires when the statistic is strictly above this
    strict: float  # fires strictly above this: no real sample (reference or calibration) was
    samples: int
    photos: int
    target: float  # the false positive share the threshold was set for
    false_positive_rate: float  # share of calibration samples above ``statistic``
    interval: tuple[float, float]  # 95% bootstrap interval, resampling calibration photos
    strict_false_positive_bound: float  # rule of three: 3 / samples (0 of them were above)
    description: str

    def describe(self) -> dict[str, Any]:
        """What the evidence says about the threshold and its measured false positive rate."""
        return {
            "threshold": self.name,
            "statistic_above": self.statistic,
            "strict_above": self.strict,
            "target_false_positive_rate": self.target,
            "calibration": {
                "samples": self.samples,
                "photographs": self.photos,
                "false_positive_rate": self.false_positive_rate,
                "interval_95": list(self.interval),
                "strict_false_positive_upper_bound": self.strict_false_positive_bound,
                "description": self.description,
            },
        }


def quantile_table(values: list[float] | np.ndarray) -> list[float]:
    """The 101-point quantile table of ``values`` (used by the build script)."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        raise ValueError("no finite reference values")
    points = np.quantile(arr, np.linspace(0.0, 1.0, QUANTILE_POINTS))
    return [round(float(v), 6) for v in points]


@cache
def _load(path: Path = DATA_PATH) -> dict[str, ReferenceTable]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: ReferenceTable(
            name=name,
            description=entry["description"],
            samples=int(entry["samples"]),
            quantiles=tuple(float(v) for v in entry["quantiles"]),
        )
        for name, entry in data["tables"].items()
    }


@cache
def _thresholds(path: Path = DATA_PATH) -> dict[str, Threshold]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: Threshold(
            name=name,
            statistic=float(e["statistic"]),
            strict=float(e["strict"]),
            samples=int(e["samples"]),
            photos=int(e["photos"]),
            target=float(e["target"]),
            false_positive_rate=float(e["false_positive_rate"]),
            interval=(float(e["interval"][0]), float(e["interval"][1])),
            strict_false_positive_bound=float(e["strict_false_positive_bound"]),
            description=str(e["description"]),
        )
        for name, e in data.get("thresholds", {}).items()
    }


def threshold(name: str) -> Threshold:
    """The calibrated threshold called ``name`` (KeyError if the data file has none)."""
    return _thresholds()[name]


def table(name: str) -> ReferenceTable:
    """The reference table called ``name`` (KeyError if the data file has none)."""
    return _load()[name]


def percentile(name: str, value: float) -> float:
    """Where ``value`` falls in reference table ``name``: a fraction in [0, 1]."""
    return table(name).percentile(value)
