"""Detector evaluation maths: ROC-AUC and TPR at fixed FPR, with bootstrap intervals.

Pure numpy, no scikit-learn. Higher scores mean "more likely synthetic"; an abstention is
scored below every real score (it never counts as a detection).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ABSTAIN_SCORE = -1.0


@dataclass(frozen=True)
class Interval:
    """A point estimate with a bootstrap confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class DetectorFigures:
    """What a detector achieved on an evaluation set."""

    detector: str
    n_real: int
    n_synthetic: int
    auc: Interval
    tpr_at_1: Interval
    tpr_at_5: Interval


def roc_curve(labels: NDArray[np.int_], scores: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """False and true positive rates at every distinct threshold (from strict to lenient)."""
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    distinct = np.r_[np.where(np.diff(scores))[0], labels.size - 1]
    tps = np.cumsum(labels)[distinct]
    fps = 1 + distinct - tps
    positives, negatives = max(labels.sum(), 1), max(labels.size - labels.sum(), 1)
    return np.r_[0.0, fps / negatives], np.r_[0.0, tps / positives]


def roc_auc(labels: NDArray[np.int_], scores: NDArray[np.float64]) -> float:
    """Area under the ROC curve (0.5 = chance)."""
    if labels.min() == labels.max():
        return float("nan")
    fpr, tpr = roc_curve(labels, scores)
    return float(np.trapezoid(tpr, fpr))


def tpr_at_fpr(labels: NDArray[np.int_], scores: NDArray[np.float64], max_fpr: float) -> float:
    """The best true positive rate whose false positive rate stays at or below ``max_fpr``."""
    if labels.min() == labels.max():
        return float("nan")
    fpr, tpr = roc_curve(labels, scores)
    allowed = tpr[fpr <= max_fpr + 1e-12]
    return float(allowed.max()) if allowed.size else 0.0


def _bootstrap(
    labels: NDArray[np.int_],
    scores: NDArray[np.float64],
    stat: Callable[[NDArray[np.int_], NDArray[np.float64]], float],
    rounds: int,
    seed: int,
) -> Interval:
    rng = np.random.default_rng(seed)
    point = stat(labels, scores)
    pos, neg = np.where(labels == 1)[0], np.where(labels == 0)[0]
    values = []
    for _ in range(rounds):
        # Stratified resampling keeps both classes in every replicate.
        idx = np.r_[rng.choice(pos, pos.size), rng.choice(neg, neg.size)]
        values.append(stat(labels[idx], scores[idx]))
    low, high = np.nanpercentile(values, [2.5, 97.5]) if values else (point, point)
    return Interval(float(point), float(low), float(high))


def figures(
    detector: str,
    labels: list[int],
    scores: list[float | None],
    *,
    rounds: int = 1000,
    seed: int = 0,
) -> DetectorFigures:
    """ROC-AUC and TPR at 1% and 5% FPR, each with a 95% bootstrap interval."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray([ABSTAIN_SCORE if v is None else v for v in scores], dtype=float)
    return DetectorFigures(
        detector=detector,
        n_real=int((y == 0).sum()),
        n_synthetic=int((y == 1).sum()),
        auc=_bootstrap(y, s, roc_auc, rounds, seed),
        tpr_at_1=_bootstrap(y, s, lambda a, b: tpr_at_fpr(a, b, 0.01), rounds, seed),
        tpr_at_5=_bootstrap(y, s, lambda a, b: tpr_at_fpr(a, b, 0.05), rounds, seed),
    )


def rate_interval(
    flags: list[bool], groups: list[str], *, rounds: int = 1000, seed: int = 0
) -> Interval:
    """A share of ``flags`` with a 95% bootstrap interval that resamples whole ``groups``.

    Copies of one source photograph (crops, re-encodes, resizes) are not independent, so the
    interval resamples source photographs, not files; it is wider and more honest than a per-file
    bootstrap.
    """
    if not flags:
        return Interval(float("nan"), float("nan"), float("nan"))
    by_group: dict[str, list[bool]] = {}
    for flag, group in zip(flags, groups, strict=True):
        by_group.setdefault(group, []).append(flag)
    hits = np.array([sum(v) for v in by_group.values()], dtype=float)
    sizes = np.array([len(v) for v in by_group.values()], dtype=float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        idx = rng.integers(0, hits.size, hits.size)
        values.append(hits[idx].sum() / sizes[idx].sum())
    low, high = np.percentile(values, [2.5, 97.5]) if values else (0.0, 0.0)
    return Interval(float(hits.sum() / sizes.sum()), float(low), float(high))
