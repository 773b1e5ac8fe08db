"""Percentiles and trial-level intervals give the textbook answers on fixed samples."""

from __future__ import annotations

import math
import statistics

import pytest

from balance_bench.statistics import (
    Estimate,
    detectable_change_pct,
    geometric_estimate,
    improvement_estimate,
    margin_log_p,
    mean_estimate,
    median_or_none,
    paired_detectable_pct,
    paired_margin_p,
    paired_p,
    paired_values,
    ratio_estimate,
    resolved_by_share,
    timing_stats,
    trials_to_resolve,
    welch_log_p,
)

T_975 = {1: 12.706204736174698, 2: 4.302652729749464, 3: 3.182446305284263, 4: 2.7764451051977987,
         9: 2.2621571627409915}  # Student t quantiles, from tables


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


def test_four_trials_are_not_trimmed_and_give_the_student_t_interval() -> None:
    """[1..4]: nothing trimmed (int(0.2 * 4) = 0): mean 2.5, half width t(0.975, 3) * sqrt(5/3) / 2."""
    est = mean_estimate([4.0, 1.0, 3.0, 2.0])
    half = T_975[3] * math.sqrt(5 / 3) / 2
    assert est.value == 2.5 and est.trials == 4
    assert (est.low, est.high) == (pytest.approx(2.5 - half), pytest.approx(2.5 + half))
    assert est.half_width == pytest.approx(half)


def test_five_trials_trim_one_a_side_with_yuens_interval() -> None:
    """[1..5]: mean of 2, 3, 4 is 3; winsorized 2, 2, 3, 4, 4 has variance 1; se = 1 * sqrt(5) / 3, df 2."""
    est = mean_estimate([1.0, 2.0, 3.0, 4.0, 5.0])
    half = T_975[2] * math.sqrt(5) / 3
    assert est.value == 3.0 and est.trials == 5
    assert (est.low, est.high) == (pytest.approx(3 - half), pytest.approx(3 + half))


def test_one_disturbed_trial_in_ten_moves_neither_the_value_nor_the_interval_much() -> None:
    """Nine trials near 10 and one at 30: the trimmed mean stays 10, Yuen's interval agrees with scipy's
    independent mstats implementation, and it is far narrower than the plain t interval."""
    from scipy.stats import mstats

    values = [10.0, 10.1, 9.9, 10.0, 10.05, 9.95, 10.0, 10.1, 9.9, 30.0]
    est = mean_estimate(values)
    low, high = mstats.trimmed_mean_ci(values, limits=(0.2, 0.2))
    assert est.value == pytest.approx(60.1 / 6)  # 9.95, 10, 10, 10, 10.05, 10.1: two cut from each end
    assert (est.low, est.high) == (pytest.approx(low), pytest.approx(high))
    plain_half = T_975[9] * statistics.stdev(values) / math.sqrt(10)
    assert est.half_width is not None and est.half_width < plain_half / 20


def test_fewer_than_two_trials_give_no_interval_and_equal_ones_a_point() -> None:
    """One trial: no interval at all; identical trials: an interval of zero width."""
    single = mean_estimate([4.0])
    assert (single.value, single.low, single.high, single.has_interval) == (4.0, None, None, False)
    same = mean_estimate([4.0, 4.0, 4.0])
    assert (same.low, same.high) == (4.0, 4.0)


def test_geometric_interval_is_taken_on_the_log_scale() -> None:
    """e^0, e^1, e^2, e^3: geometric mean e^1.5, interval exp(1.5 -/+ t(0.975, 3) * sqrt(5/3) / 2)."""
    est = geometric_estimate([1.0, math.e, math.e**2, math.e**3])
    half = T_975[3] * math.sqrt(5 / 3) / 2
    assert est.value == pytest.approx(math.exp(1.5))
    assert est.low == pytest.approx(math.exp(1.5 - half)) and est.high == pytest.approx(math.exp(1.5 + half))
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


def test_the_gate_test_is_yuen_welch_on_trimmed_logs() -> None:
    """Ten trials a side: trimmed means and winsorized variances by hand give Yuen's statistic and df."""
    from scipy.stats import t as student

    a = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.03, 0.97, 1.0, 3.0]
    b = [1.1, 1.12, 1.08, 1.11, 1.09, 1.1, 1.13, 1.07, 1.1, 0.2]

    def trimmed(xs: list[float]) -> tuple[float, float]:
        logs = sorted(math.log(x) for x in xs)
        kept = logs[2:8]
        wins = [logs[2]] * 2 + kept + [logs[7]] * 2
        m = sum(wins) / 10
        var_w = sum((w - m) ** 2 for w in wins) / 9
        return sum(kept) / 6, 9 * var_w / (6 * 5)

    (ma, da), (mb, db) = trimmed(a), trimmed(b)
    t_stat = (ma - mb) / math.sqrt(da + db)
    df = (da + db) ** 2 / (da**2 / 5 + db**2 / 5)
    assert welch_log_p(a, b) == pytest.approx(2 * student.sf(abs(t_stat), df))
    assert welch_log_p(a, b) < 0.001  # the outliers (one each side, opposite ways) do not hide a 10% change


def test_detectable_change_grows_with_spread_and_shrinks_with_trials() -> None:
    """The detectable slowdown follows (t(1-a) + t(power)) * se on the log scale (one-sided, like the gate), se
    Yuen's (one trimmed a side); a margin multiplies it in: (1 + margin) * exp(...) - 1."""
    from scipy.stats import t as student

    a = [1.0, 1.1, 0.9, 1.05, 0.95]
    logs = sorted(math.log(x) for x in a)
    wins = [logs[1], logs[1], logs[2], logs[3], logs[3]]
    m = sum(wins) / 5
    se = math.sqrt(sum((w - m) ** 2 for w in wins) / 4) * math.sqrt(5) / 3
    spread = math.exp((student.ppf(0.99, 2) + student.ppf(0.8, 2)) * math.sqrt(2) * se)
    expected = (spread - 1) * 100
    assert detectable_change_pct(a, a, 0.01, 0.8, 0.0) == pytest.approx(expected)
    assert detectable_change_pct(a, a, 0.01, 0.8, 10.0) == pytest.approx((1.1 * spread - 1) * 100)
    assert detectable_change_pct(a, a, 0.01, 0.8, 10.0) > 10.0 + expected  # a product, not a sum
    wider = detectable_change_pct([x**2 for x in a], [x**2 for x in a], 0.01, 0.8, 0.0)
    more = detectable_change_pct(a * 4, a * 4, 0.01, 0.8, 0.0)
    assert wider is not None and more is not None and wider > expected > more
    assert detectable_change_pct([1.0], a, 0.01, 0.8, 0.0) is None


def test_detectable_change_uses_the_alpha_and_power_it_is_given() -> None:
    """n = 2 a side, nothing trimmed, df 1 (Cauchy: t(q, 1) = tan(pi (q - 1/2))): alpha 0.05 and power 0.5 by hand."""
    a, b = [1.0, math.e**0.1], [2.0, 2.0 * math.e**0.1]
    se = math.sqrt(0.1**2 / 2 / 2 * 2)  # each side: variance 0.1^2 / 2 over 2 trials
    quantiles = math.tan(math.pi * (0.95 - 0.5)) + math.tan(math.pi * (0.5 - 0.5))
    assert detectable_change_pct(a, b, 0.05, 0.5, 20.0) == pytest.approx((1.2 * math.exp(quantiles * se) - 1) * 100)


# --- the gate's one-sided test against a margin ----------------------------------------------------------------


def _two_a_side(shift: float, spread: float) -> tuple[list[float], list[float]]:
    """Logs {0, s} and {d, d + s}: each variance s^2 / 2, se^2 = s^2 / 2, t = (d - m) / (s / sqrt 2), Welch df = 2."""
    return [1.0, math.exp(spread)], [math.exp(shift), math.exp(shift + spread)]


def _t2_sf(t: float) -> float:
    """Student's t survival function with 2 degrees of freedom, in closed form."""
    return 0.5 - t / (2 * math.sqrt(t * t + 2))


def test_the_margin_test_is_one_sided_welch_against_the_margin_by_hand() -> None:
    """n = 2 a side: p = sf_2((d - log(1 + m)) / (s / sqrt 2)) for slower-by-more-than-m; faster or less: p > 1/2."""
    a, b = _two_a_side(0.5, 0.05)
    for margin in (0.0, 10.0, 50.0, 80.0):
        t = (0.5 - math.log(1 + margin / 100)) / (0.05 / math.sqrt(2))
        assert margin_log_p(a, b, margin) == pytest.approx(_t2_sf(t)), margin
    assert margin_log_p(a, b, 10.0) < 0.01 < margin_log_p(a, b, 50.0)  # type: ignore[operator]
    assert margin_log_p(b, a, 0.0) == pytest.approx(_t2_sf(-0.5 / (0.05 / math.sqrt(2))))  # faster: near 1
    assert margin_log_p(a, b, 0.0) == pytest.approx(welch_log_p(a, b) / 2)  # type: ignore[operator]


def test_the_margin_test_trims_like_the_two_sided_one() -> None:
    """Ten trials with an outlier each side, against scipy's trimmed test called directly on the shifted logs."""
    from scipy import stats

    a = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.03, 0.97, 1.0, 3.0]
    b = [1.3, 1.32, 1.28, 1.31, 1.29, 1.3, 1.33, 1.27, 1.3, 0.2]
    for margin in (10.0, 25.0, 30.0):
        la, lb = [math.log(x) for x in a], [math.log(x) - math.log(1 + margin / 100) for x in b]
        expected = stats.ttest_ind(lb, la, equal_var=False, trim=0.2, alternative="greater").pvalue
        assert margin_log_p(a, b, margin) == pytest.approx(expected), margin
    assert margin_log_p(a, b, 10.0) < 0.01 < margin_log_p(a, b, 30.0)  # type: ignore[operator]


def test_flat_samples_are_decided_exactly_against_the_margin() -> None:
    """No spread: slower by more than the margin is certain (p 0); at the margin, or within rounding of it, or
    below it, there is no evidence (p 1): a slowdown exactly at the threshold is not beyond it."""
    assert margin_log_p([2.0, 2.0], [3.0, 3.0], 49.0) == 0.0
    assert margin_log_p([2.0, 2.0], [3.0, 3.0], 50.0) == 1.0
    assert margin_log_p([2.0, 2.0], [3.0, 3.0], 51.0) == 1.0
    assert margin_log_p([2.0, 2.0, 2.0], [3.0 * (1 + 1e-14)] * 3, 50.0) == 1.0  # within rounding of the margin
    assert margin_log_p([2.0, 2.0, 2.0], [3.0 * (1 + 1e-11)] * 3, 50.0) == 0.0  # beyond it
    assert margin_log_p([2.0, 2.0], [2.0, 2.0], 0.0) == 1.0 and margin_log_p([2.0, 2.0], [1.0, 1.0], 0.0) == 1.0


def test_one_flat_side_is_still_tested_against_the_margin() -> None:
    """1, 1, 1 against 1.2 x (1, 1.1, 0.9), margin 10%: t = (mean(log b) - log 1.1) / se_b, 2 degrees of freedom."""
    from scipy.stats import t as student

    b = [1.2, 1.32, 1.08]
    lb = [math.log(x) for x in b]
    mean = sum(lb) / 3
    se = math.sqrt(sum((x - mean) ** 2 for x in lb) / 2 / 3)
    assert margin_log_p([1.0, 1.0, 1.0], b, 10.0) == pytest.approx(student.sf((mean - math.log(1.1)) / se, 2))


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy's, on the 0 / 0 it meets
def test_trimmed_samples_without_spread_are_decided_against_the_margin() -> None:
    """1, 1, 1, 1, 5 against 2, 2, 2, 2, 9 trims to a flat 1 against a flat 2: beyond a 50% margin certain (p 0),
    short of a 150% margin no evidence (p 1), exactly at 100% 0 / 0: no test (None, never nan)."""
    a, b = [1.0, 1.0, 1.0, 1.0, 5.0], [2.0, 2.0, 2.0, 2.0, 9.0]
    assert (margin_log_p(a, b, 50.0), margin_log_p(a, b, 150.0), margin_log_p(a, b, 100.0)) == (0.0, 1.0, None)


# --- each guard and filter on both sides, with answers worked out by hand or by scipy directly ------------------


def test_no_timings_and_no_positive_values_are_refused_by_name() -> None:
    """The errors say what is missing; a single value is a valid (if interval-less) geometric estimate."""
    with pytest.raises(ValueError, match=r"^no timings$"):
        timing_stats([])
    with pytest.raises(ValueError, match=r"^a geometric mean needs positive values$"):
        geometric_estimate([])
    with pytest.raises(ValueError, match=r"^a geometric mean needs positive values$"):
        geometric_estimate([2.0, -1.0])
    single = geometric_estimate([2.0])
    assert (single.value, single.low, single.high, single.trials) == (pytest.approx(2.0), None, None, 1)
    assert geometric_estimate([1.0, math.e, math.e**2, math.e**3]).trials == 4


def test_two_timings_have_the_sample_standard_deviation() -> None:
    """1 and 3 ms: stddev sqrt(2) (n - 1 in the denominator), not 0."""
    assert timing_stats([1.0, 3.0]).stddev_ms == pytest.approx(math.sqrt(2))


def test_an_estimate_needs_both_its_value_and_its_trial_count() -> None:
    """A JSON estimate missing either is refused with the reason."""
    for raw in ([1.0, None, None, None], [None, None, None, 3], [None, None, None, None]):
        with pytest.raises(ValueError, match=r"^an estimate needs a value and a trial count$"):
            Estimate.from_list(raw)


def test_a_ratio_uses_only_trials_where_both_sides_are_positive() -> None:
    """Trial 1 (numerator 0) and trial 4 (denominator 0) are left out; trials 2 and 3 both give exactly 2."""
    est = ratio_estimate({1: 0.0, 2: 0.5, 3: 1.0, 4: 3.0}, {1: 1.0, 2: 0.25, 3: 0.5, 4: 0.0})
    assert est is not None and est.trials == 2 and est.value == pytest.approx(2.0)
    assert ratio_estimate({1: 0.0}, {1: 1.0}) is None and ratio_estimate({1: 1.0}, {1: 0.0}) is None


def test_an_improvement_needs_a_positive_cold_time() -> None:
    """A trial with cold 0 is left out; cold times below 1 ms count like any other (0.5 -> 0.25 is 50%)."""
    est = improvement_estimate({1: 0.0, 2: 0.5, 3: 0.8}, {1: 0.0, 2: 0.25, 3: 0.4})
    assert est is not None and est.trials == 2 and est.value == pytest.approx(50.0)
    assert improvement_estimate({1: 0.0}, {1: 0.0}) is None


def test_the_gate_test_refuses_one_trial_or_a_non_positive_value_on_either_side() -> None:
    """None whenever a side has one trial or any value <= 0, before any logarithm is taken (no warning either)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for a, b in (([1.0], [1.0, 1.0]), ([1.0, 1.0], [1.0]), ([1.0], [2.0, 2.1, 2.2]),
                     ([1.0, 0.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 0.0]), ([1.0, 2.0], [-1.0, 2.0])):
            assert welch_log_p(a, b) is None, (a, b)
            assert margin_log_p(a, b, 10.0) is None, (a, b)
            assert detectable_change_pct(a, b, 0.01, 0.8, 10.0) is None, (a, b)


def test_equal_flat_samples_away_from_one_are_no_change() -> None:
    """2, 2 against 2, 2: no spread and the same value, p = 1 (the logs are equal, not zero)."""
    assert welch_log_p([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert welch_log_p([2.0, 2.0, 2.0], [2.0 * (1 + 1e-14)] * 3) == 1.0  # within rounding of each other
    assert welch_log_p([2.0, 2.0, 2.0], [2.0 * (1 + 1e-11)] * 3) == 0.0  # beyond it: a difference, and certain


def test_one_flat_side_is_still_tested_against_the_other_sides_spread() -> None:
    """1, 1, 1 against 1, 1.1, 0.9 (nothing trimmed at n = 3): t = -mean(log b) / se_b with 2 degrees of freedom."""
    from scipy.stats import t as student

    b = [1.0, 1.1, 0.9]
    lb = [math.log(x) for x in b]
    mean = sum(lb) / 3
    se2 = sum((x - mean) ** 2 for x in lb) / 2 / 3
    expected = 2 * student.sf(abs(mean) / math.sqrt(se2), 2)
    assert welch_log_p([1.0, 1.0, 1.0], b) == pytest.approx(expected)
    assert welch_log_p(b, [1.0, 1.0, 1.0]) == pytest.approx(expected)


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy's, on the 0 / 0 it meets
def test_trimmed_samples_without_spread_and_equal_centres_give_no_p_value() -> None:
    """1, 1, 1, 1, 5 trims to 1, 1, 1 and winsorizes to five 1s: against 1, 1, 1, 1, 9 there is no spread and no
    difference left, 0 / 0: no test (None, never nan); against 2, 2, 2, 2, 9 the difference is certain (p = 0)."""
    assert welch_log_p([1.0, 1.0, 1.0, 1.0, 5.0], [1.0, 1.0, 1.0, 1.0, 9.0]) is None
    assert welch_log_p([1.0, 1.0, 1.0, 1.0, 5.0], [2.0, 2.0, 2.0, 2.0, 9.0]) == 0.0


def test_two_trials_a_side_give_a_detectable_change() -> None:
    """n = 2, nothing trimmed: (t(0.99, 1) + t(0.8, 1)) * sqrt(sa^2/2 + sb^2/2) on the log scale."""
    from scipy.stats import t as student

    a, b = [1.0, 1.1], [1.0, 1.2]
    var = [(math.log(x) - math.log(y)) ** 2 / 2 for x, y in ((1.1, 1.0), (1.2, 1.0))]  # two values: d^2 / 2
    delta = (student.ppf(0.99, 1) + student.ppf(0.8, 1)) * math.sqrt(var[0] / 2 + var[1] / 2)
    assert detectable_change_pct(a, b, 0.01, 0.8, 0.0) == pytest.approx((math.exp(delta) - 1) * 100)


# Yuen's half-width for n trials of winsorized spread 1, by hand from the t table (df 2 4.3027, 3 3.1824,
# 4 2.7764, 5 2.5706, 6 2.4469): h = n - 2 * int(0.2 n) trials
# kept, t at h - 1 degrees of freedom, half-width t * sqrt(n) / h.
HALF_4 = 3.182446 * 2 / 4  # 4 trials: none trimmed, h 4, df 3 -> 1.5912
# 5: h 3, df 2 -> 3.2071; 6: h 4, df 3 -> 1.9488; 7: h 5, df 4 -> 1.4692; 8: h 6, df 5 -> 1.2118; 9: h 7 -> 1.0487


@pytest.mark.parametrize(("distance", "needed"), [(10.0, 5), (1.95, 6), (1.94, 7), (1.4, 8), (1.22, 8), (1.21, 9)])
def test_trials_to_resolve_follows_yuens_half_width_by_hand(distance: float, needed: int) -> None:
    """Four trials of spread 1: the first count whose hand-computed half-width falls below the distance, with the
    trimming that starts at five trials (which widens it) and each threshold tried on both sides."""
    assert trials_to_resolve(Estimate(85.0, 85.0 - HALF_4, 85.0 + HALF_4, 4), distance) == needed


def test_trials_to_resolve_has_no_answer_on_the_bound_without_an_interval_or_beyond_the_cap() -> None:
    """On the bound nothing decides it; one trial has no spread to project; a distance needing more than
    MAX_TRIALS trials is no number; no spread at all decides it with the next trial."""
    open_interval = Estimate(85.0, 85.0 - HALF_4, 85.0 + HALF_4, 4)
    assert trials_to_resolve(open_interval, 0.0) is None
    assert trials_to_resolve(Estimate(85.0, None, None, 1), 0.5) is None
    assert trials_to_resolve(open_interval, 1e-3) is None
    assert trials_to_resolve(Estimate(85.0, 85.0, 85.0, 6), 0.1) == 7


def _paired(mu: float, d: float) -> list[float]:
    """Four per-trial ratios whose logs are mu + d * (-1.5, -0.5, 0.5, 1.5): sd = d * sqrt(5/3), se = sd / 2."""
    return [math.exp(mu + d * k) for k in (-1.5, -0.5, 0.5, 1.5)]


def test_the_paired_test_is_a_one_sample_t_on_the_log_ratios_by_hand() -> None:
    """n = 4 (nothing trimmed): two-sided p is exactly 0.05 where the mean log ratio is t(0.975, 3) standard errors
    from 0, and one-sided against a margin m it is 0.025 at t(0.975, 3) errors above log(1 + m)."""
    d = 0.01
    se = d * math.sqrt(5 / 3) / 2
    assert paired_p(_paired(T_975[3] * se, d)) == pytest.approx(0.05)
    assert paired_p(_paired(-T_975[3] * se, d)) == pytest.approx(0.05)  # faster moves it just as much
    for margin in (0.0, 5.0, 20.0):
        ratios = _paired(math.log1p(margin / 100) + T_975[3] * se, d)
        assert paired_margin_p(ratios, margin) == pytest.approx(0.025), margin
        assert paired_margin_p(ratios, margin + 5.0) > 0.5  # type: ignore[operator]  # below a higher margin


def test_the_paired_margin_test_flags_a_slowdown_beyond_the_margin_and_not_one_below_it() -> None:
    """Ten trials at +20% with 1% spread are slower by more than 5%; at +3% they are not (p above 1/2)."""
    wobble = [(-1) ** k * 0.01 * (k % 3) for k in range(10)]
    beyond = [1.20 * math.exp(w) for w in wobble]
    within = [1.03 * math.exp(w) for w in wobble]
    assert paired_margin_p(beyond, 5.0) < 1e-6  # type: ignore[operator]
    assert paired_margin_p(within, 5.0) > 0.5  # type: ignore[operator]
    assert paired_p(within) < 0.01  # type: ignore[operator]  # it did move, by less than the margin


def test_the_paired_tests_decide_flat_ratios_exactly_and_refuse_one_trial() -> None:
    """No spread: beyond the margin is p 0, at or below it p 1; one trial or a ratio <= 0 gives no test."""
    assert paired_margin_p([1.2] * 5, 5.0) == 0.0
    assert paired_margin_p([1.05] * 5, 5.0) == 1.0
    assert paired_p([1.0] * 5) == 1.0
    assert paired_p([1.1] * 5) == 0.0
    assert paired_p([1.1, 1.2]) is not None and paired_margin_p([1.1, 1.2], 5.0) is not None  # two trials do
    for bad in ([1.2], [1.2, 0.0], [1.2, -1.0]):
        assert paired_p(bad) is None
        assert paired_margin_p(bad, 5.0) is None
        assert paired_detectable_pct(bad, 0.01, 0.8, 5.0) is None


def test_the_paired_detectable_slowdown_is_the_margin_plus_what_the_spread_costs_by_hand() -> None:
    """alpha 0.025 and power 0.5 (t = 0): (1 + m) * exp(t(0.975, 3) * se) - 1; no spread leaves the margin."""
    d = 0.02
    se = d * math.sqrt(5 / 3) / 2
    expected = (1.05 * math.exp(T_975[3] * se) - 1) * 100
    assert paired_detectable_pct(_paired(0.3, d), 0.025, 0.5, 5.0) == pytest.approx(expected)
    assert paired_detectable_pct([1.3] * 4, 0.01, 0.8, 5.0) == pytest.approx(5.0)
    t_90 = 1.6377443572159062  # t(0.90, 3), from tables: power 0.9 adds its quantile to alpha's
    assert paired_detectable_pct(_paired(0.3, d), 0.025, 0.9, 5.0) == pytest.approx(
        (1.05 * math.exp((T_975[3] + t_90) * se) - 1) * 100)
    wider = paired_detectable_pct(_paired(0.0, 2 * d), 0.025, 0.5, 5.0)
    assert wider > expected  # type: ignore[operator]


def test_a_self_checks_summary_figures_are_the_median_and_the_value_ninety_percent_of_cases_reach() -> None:
    """Ten detectable figures 1..10: median 5.5; int(0.9 * 10) = 9, the tenth sorted value; none gives None."""
    figures = [7.0, 2.0, 10.0, 1.0, 9.0, 3.0, 8.0, 4.0, 6.0, 5.0]
    assert median_or_none(figures) == 5.5 and median_or_none([3.0]) == 3.0 and median_or_none([]) is None
    assert resolved_by_share(figures) == 10.0 and resolved_by_share(figures[:3]) == 10.0  # int(2.7) = 2
    assert resolved_by_share(figures, 0.5) == 6.0 and resolved_by_share([]) is None
