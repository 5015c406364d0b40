"""Server-side SVG plots as plain numbers for the templates (which draw them as inline SVG).

No attacker-controlled text reaches a plot: only floats computed here, and fixed labels.
Coordinates are in a 0..W x 0..H box, y growing downwards as SVG does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authcheck.detectors import reference

W, H, PAD = 320.0, 120.0, 24.0


@dataclass(frozen=True)
class DistributionPlot:
    """The reference distribution (as a cumulative curve), the threshold and this media."""

    title: str
    points: str  # SVG polyline points
    value_x: float
    threshold_x: float
    value: float
    percentile: float
    threshold: float
    samples: int
    x_min: float
    x_max: float


@dataclass(frozen=True)
class SeriesPlot:
    """A per-frame-pair series as bars; flagged pairs (duplicates) are marked by a hatch."""

    title: str
    bars: list[dict[str, float]]
    y_max: float
    unit: str


def _x(value: float, lo: float, hi: float) -> float:
    span = hi - lo or 1.0
    return round(PAD + (min(max(value, lo), hi) - lo) / span * (W - 2 * PAD), 2)


def distribution(
    table_name: str, title: str, statistic: float, threshold: float
) -> DistributionPlot | None:
    """Where ``statistic`` falls in the reference table, with the threshold percentile."""
    try:
        table = reference.table(table_name)
    except KeyError:
        return None
    q = table.quantiles
    lo, hi = min(q[0], statistic), max(q[-1], statistic)
    n = len(q) - 1
    points = " ".join(
        f"{_x(v, lo, hi)},{round(H - PAD - i / n * (H - 2 * PAD), 2)}" for i, v in enumerate(q)
    )
    cut = q[min(round(threshold * n), n)]
    return DistributionPlot(
        title=title,
        points=points,
        value_x=_x(statistic, lo, hi),
        threshold_x=_x(cut, lo, hi),
        value=statistic,
        percentile=table.percentile(statistic),
        threshold=threshold,
        samples=table.samples,
        x_min=lo,
        x_max=hi,
    )


def _spectral(evidence: dict[str, Any], kind: str) -> list[Any]:
    table = f"spectral_artifacts.{'image' if kind == 'image' else 'video'}"
    stat = evidence.get("statistic")
    if not isinstance(stat, int | float):
        return []
    thr = float(evidence.get("threshold_percentile") or 0.99)
    plot = distribution(table, "Upsampling peak vs real reference", float(stat), thr)
    return [plot] if plot else []


def _temporal(evidence: dict[str, Any]) -> list[Any]:
    thr = float(evidence.get("threshold_percentile") or 0.99)
    plots: list[Any] = []
    for key, title in (("flicker", "Flicker"), ("warp_error", "Warp error")):
        stat = (evidence.get(key) or {}).get("statistic")
        if isinstance(stat, int | float):
            plot = distribution(f"temporal_consistency.{key}", f"{title} vs real reference",
                                float(stat), thr)  # fmt: skip
            if plot:
                plots.append(plot)
    series = _shift_series(evidence)
    return plots + ([series] if series else [])


def _shift_series(evidence: dict[str, Any]) -> SeriesPlot | None:
    shifts = evidence.get("shifts") or []
    if not shifts:
        return None
    duplicated = {d["frames"][0] for d in evidence.get("duplicated_frames", []) if d.get("frames")}
    sizes = [float((dx**2 + dy**2) ** 0.5) for dx, dy in (s[:2] for s in shifts)]
    top = max(sizes) or 1.0
    width = (W - 2 * PAD) / len(sizes)
    bars = [
        {
            "x": round(PAD + i * width, 2),
            "w": round(max(width - 1, 1), 2),
            "h": round(size / top * (H - 2 * PAD), 2),
            "y": round(H - PAD - size / top * (H - 2 * PAD), 2),
            "value": round(size, 2),
            "pair": i,
            "dup": 1.0 if i in duplicated else 0.0,
        }
        for i, size in enumerate(sizes)
    ]
    return SeriesPlot(title="Motion between sampled frames", bars=bars, y_max=top, unit="px")


def plots_for(signal: dict[str, Any], kind: str) -> list[Any]:
    """The plots worth drawing for one signal (as presented by ``signal_to_dict``)."""
    evidence = signal.get("evidence") or {}
    if not isinstance(evidence, dict):
        return []
    if signal.get("detector") == "spectral_artifacts":
        return _spectral(evidence, kind)
    if signal.get("detector") == "temporal_consistency":
        return _temporal(evidence)
    return []


def bars(rows: list[dict[str, Any]], key: str, width: float = 120.0) -> list[dict[str, Any]]:
    """Rows with a bar width proportional to ``row[key]`` (the largest gets ``width``)."""
    top = max((float(r[key]) for r in rows), default=0.0) or 1.0
    return [{**r, "bar": round(float(r[key]) / top * width, 1)} for r in rows]


def columns(rows: list[dict[str, Any]], key: str, height: float = 80.0) -> list[dict[str, Any]]:
    """Rows as vertical columns across the plot width (for checks per day)."""
    if not rows:
        return []
    top = max(float(r[key]) for r in rows) or 1.0
    step = (W - 2 * PAD) / len(rows)
    return [
        {
            **r,
            "x": round(PAD + i * step, 2),
            "w": round(max(step - 1, 1), 2),
            "h": round(float(r[key]) / top * height, 2),
            "y": round(PAD + height - float(r[key]) / top * height, 2),
        }
        for i, r in enumerate(rows)
    ]
