"""Evaluation maths against cases whose answers are known."""

from __future__ import annotations

import math

import numpy as np

from authcheck.evaluation import figures, rate_interval, roc_auc, tpr_at_fpr


def test_a_perfect_separation_has_auc_one_and_full_tpr() -> None:
    y = np.array([0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert roc_auc(y, s) == 1.0
    assert tpr_at_fpr(y, s, 0.01) == 1.0


def test_a_reversed_detector_has_auc_zero() -> None:
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0


def test_ties_count_as_half() -> None:
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5


def test_auc_matches_the_mann_whitney_statistic_on_random_data() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = rng.normal(size=300) + y * 0.7
    pos, neg = s[y == 1], s[y == 0]
    expected = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert math.isclose(roc_auc(y, s), expected, rel_tol=1e-9)


def test_tpr_at_low_fpr_respects_the_false_positive_budget() -> None:
    y = np.array([0] * 100 + [1] * 10)
    s = np.r_[np.linspace(0, 1, 100), np.full(10, 0.995)]
    assert tpr_at_fpr(y, s, 0.01) == 1.0  # one false positive above 0.995 is allowed (1%)
    assert tpr_at_fpr(y, s, 0.0) == 0.0


def test_abstentions_never_count_as_detections_and_intervals_bracket_the_value() -> None:
    result = figures("x", [0, 0, 1, 1, 1, 1], [0.1, None, 0.9, None, 0.8, 0.7], rounds=200)
    assert result.n_real == 2 and result.n_synthetic == 4
    assert result.auc.low <= result.auc.value <= result.auc.high
    assert result.tpr_at_1.value == 0.75


def test_the_false_positive_interval_resamples_source_photographs_not_files() -> None:
    # 20 sources with 6 copies each; 2 sources fire on every copy: 12 of 120 files, 10%.
    flags = [i < 2 for i in range(20) for _ in range(6)]
    groups = [f"photo-{i}" for i in range(20) for _ in range(6)]

    clustered = rate_interval(flags, groups, rounds=500, seed=3)
    per_file = rate_interval(flags, [str(i) for i in range(120)], rounds=500, seed=3)

    assert clustered.value == per_file.value == 0.1
    assert clustered.low <= 0.1 <= clustered.high
    # Copies of one photo are not independent: the clustered interval is the wider one.
    assert clustered.high - clustered.low > per_file.high - per_file.low


def test_no_false_positives_gives_a_zero_rate_and_interval() -> None:
    interval = rate_interval([False] * 30, [str(i % 5) for i in range(30)], rounds=100)
    assert (interval.value, interval.low, interval.high) == (0.0, 0.0, 0.0)
