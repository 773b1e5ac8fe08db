"""Percentiles and trial-level intervals give the textbook answers on fixed samples."""

from __future__ import annotations

import math

import pytest

from balance_bench.statistics import (
    Estimate,
    detectable_change_pct,
    geometric_estimate,
    improvement_estimate,
    mean_estimate,
    paired_values,
    ratio_estimate,
    timing_stats,
    welch_log_p,
)

T_975 = {1: 12.706204736174698, 2: 4.302652729749464, 4: 2.7764451051977987}  # Student t quantiles, from tables


def test_percentiles_interpolate_linearly_between_order_statistics() -> None:
    """1..10 ms: median 5.5, p95 9.55, p99 9.91, IQR 7.75 - 3.25, sample stddev sqrt(55/6)."""
    stats = timing_stats([float(v) for v in range(10, 0, -1)])
    assert (stats.min_ms, stats.median_ms, stats.mean_ms, stats.max_ms) == (1.0, 5.5, 5.5, 10.0)
    assert stats.p95_ms == pytest.approx(9.55)
    assert stats.p99_ms == pytest.approx(9.91)
    assert stats.iqr_ms == pytest.approx(4.5)
    assert stats.stddev_ms == pytest.approx(math.sqrt(55 / 6))


def test_one_timing_has_no_spread_and_none_is_refused() -> None:
    """A single round has stddev 0 and IQR 0; no rounds at all is an error, not zeros."""
    stats = timing_stats([2.0])
    assert (stats.median_ms, stats.p99_ms, stats.stddev_ms, stats.iqr_ms) == (2.0, 2.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        timing_stats([])


def test_mean_interval_is_the_student_t_interval() -> None:
    """[1..5]: mean 3, half width t(0.975, 4) * sqrt(2.5) / sqrt(5)."""
    est = mean_estimate([1.0, 2.0, 3.0, 4.0, 5.0])
    half = T_975[4] * math.sqrt(2.5) / math.sqrt(5)
    assert est.value == 3.0 and est.trials == 5
    assert (est.low, est.high) == (pytest.approx(3 - half), pytest.approx(3 + half))
    assert est.half_width == pytest.approx(half)


def test_fewer_than_two_trials_give_no_interval_and_equal_ones_a_point() -> None:
    """One trial: no interval at all; identical trials: an interval of zero width."""
    single = mean_estimate([4.0])
    assert (single.value, single.low, single.high, single.has_interval) == (4.0, None, None, False)
    same = mean_estimate([4.0, 4.0, 4.0])
    assert (same.low, same.high) == (4.0, 4.0)


def test_geometric_interval_is_taken_on_the_log_scale() -> None:
    """e^0, e^1, e^2: geometric mean e, interval exp(1 -/+ t(0.975, 2) / sqrt(3))."""
    est = geometric_estimate([1.0, math.e, math.e**2])
    half = T_975[2] / math.sqrt(3)
    assert est.value == pytest.approx(math.e)
    assert est.low == pytest.approx(math.exp(1 - half)) and est.high == pytest.approx(math.exp(1 + half))
    with pytest.raises(ValueError):
        geometric_estimate([1.0, 0.0])


def test_ratios_are_paired_within_trials() -> None:
    """Each trial's ratio uses only that trial's two sides; a trial one side lacks is left out."""
    assert paired_values({1: 1.0, 2: 2.0, 3: 3.0}, {2: 20.0, 1: 10.0}) == [(1.0, 10.0), (2.0, 20.0)]
    est = ratio_estimate({1: 2.0, 2: 4.0, 3: 99.0}, {1: 1.0, 2: 2.0})
    assert est is not None and est.value == pytest.approx(2.0) and (est.low, est.high) == (2.0, 2.0)
    assert ratio_estimate({1: 1.0}, {2: 1.0}) is None


def test_drift_shared_by_both_sides_cancels_in_a_within_trial_ratio() -> None:
    """A machine 3x slower in one trial moves both sides: the ratio stays exactly 2 with no spread."""
    drift = {1: 1.0, 2: 3.0, 3: 0.5}
    est = ratio_estimate({t: 2.0 * d for t, d in drift.items()}, dict(drift))
    assert est is not None and est.value == pytest.approx(2.0) and est.half_width == pytest.approx(0.0)


def test_improvement_is_per_trial_then_averaged() -> None:
    """cold 10 / warm 1 and cold 10 / warm 2 are 90% and 80%: mean 85, half width t(0.975, 1) * 5."""
    est = improvement_estimate({1: 10.0, 2: 10.0}, {1: 1.0, 2: 2.0})
    assert est is not None and est.value == pytest.approx(85.0)
    assert est.half_width == pytest.approx(T_975[1] * 5.0)


def test_estimates_round_trip_through_their_json_form() -> None:
    """``as_list``/``from_list`` keep every field, missing bounds included."""
    for est in (Estimate(1.5, 1.0, 2.0, 3), Estimate(1.5, None, None, 1)):
        assert Estimate.from_list(est.as_list()) == est


def test_welch_test_on_logs_matches_the_hand_computed_statistic() -> None:
    """The p-value is the two-sided Welch t-test of the log values, Welch-Satterthwaite degrees of freedom."""
    from scipy.stats import t as student

    a, b = [1.0, 1.2, 1.1, 0.9], [1.5, 1.7, 1.6, 1.4]
    la, lb = [math.log(x) for x in a], [math.log(x) for x in b]

    def var(xs: list[float]) -> float:
        m = sum(xs) / len(xs)
        return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)

    va, vb = var(la) / 4, var(lb) / 4
    t_stat = (sum(la) / 4 - sum(lb) / 4) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 3)
    assert welch_log_p(a, b) == pytest.approx(2 * student.sf(abs(t_stat), df))


def test_welch_needs_two_trials_a_side() -> None:
    """With one trial on a side there is no test (None), never a misleading p-value."""
    assert welch_log_p([1.0], [2.0, 2.1]) is None
    assert welch_log_p([1.0, 1.0], [1.0, 1.0]) == 1.0
    assert welch_log_p([1.0, 1.0], [2.0, 2.0]) == 0.0


def test_detectable_change_grows_with_spread_and_shrinks_with_trials() -> None:
    """The detectable slowdown follows (t(1-a/2) + t(power)) * se on the log scale."""
    from scipy.stats import t as student

    a = [1.0, 1.1, 0.9, 1.05, 0.95]
    la = [math.log(x) for x in a]
    m = sum(la) / 5
    se = math.sqrt(2 * sum((x - m) ** 2 for x in la) / 4 / 5)
    expected = (math.exp((student.ppf(0.995, 4) + student.ppf(0.8, 4)) * se) - 1) * 100
    assert detectable_change_pct(a, a, 0.01) == pytest.approx(expected)
    wider = detectable_change_pct([x**2 for x in a], [x**2 for x in a], 0.01)
    more = detectable_change_pct(a * 4, a * 4, 0.01)
    assert wider is not None and more is not None and wider > expected > more
    assert detectable_change_pct([1.0], a, 0.01) is None
