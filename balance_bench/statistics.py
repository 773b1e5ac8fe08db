"""The statistics every figure of a run is stated with: percentiles of rounds, and estimates across trials.

The unit of replication is the trial. Rounds timed back to back inside one
trial are correlated (the machine's state moves over seconds and minutes), so
no interval or test here ever treats rounds as independent samples. A ratio
between two cases is computed *within* each trial, from the two sides timed in
the same minutes, and the per-trial values are then summarised across trials.

Across trials the suite states a 20%-trimmed mean with Yuen's interval (the
trimmed mean's t interval with the winsorized variance, Wilcox, *Introduction
to Robust Estimation and Hypothesis Testing*): on the log scale for ratios and
latencies (ratios multiply) and on the linear scale for improvements in
percent. Trimming matters because trials are not all alike: now and then one
trial lands on a disturbed moment of the machine (a timer tick storm, another
process), and with a plain mean and t interval that single trial moved a
verdict from ``short`` to ``inconclusive`` between two runs of one commit.
With fewer than five trials nothing is trimmed and the interval is Student's t;
fewer than two trials give no interval at all, and a verdict must then say
"inconclusive". The regression gate's test is the matching Yuen-Welch test
(``scipy.stats.ttest_ind(..., trim=0.2)``), one-sided against a margin: it asks
whether a case is slower by more than the threshold, not whether it moved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "CONFIDENCE",
    "TRIM",
    "METHOD",
    "TimingStats",
    "Estimate",
    "timing_stats",
    "mean_estimate",
    "geometric_estimate",
    "paired_values",
    "ratio_estimate",
    "improvement_estimate",
    "welch_log_p",
    "margin_log_p",
    "detectable_change_pct",
    "paired_p",
    "paired_margin_p",
    "paired_detectable_pct",
    "MAX_TRIALS",
    "trials_to_resolve",
    "RESOLVED_SHARE",
    "median_or_none",
    "resolved_by_share",
]

CONFIDENCE = 0.95
"""Coverage of every interval the suite states."""

TRIM = 0.2
"""Share of per-trial values cut from each end before averaging (``int(TRIM * n)`` values a side)."""

METHOD = "20%-trimmed mean across trials with Yuen's interval (log scale for latencies and ratios)"
"""How every across-trial figure is stated, in words for the report."""

_FLAT = 1e-12
"""Log-scale spread below which per-trial values count as identical (floating-point rounding, not data)."""

TrialValues = Mapping[int, float]
"""One value per trial number (a trial a case missed is simply absent)."""


@dataclass(frozen=True)
class TimingStats:
    """Distribution of raw per-call timings in milliseconds, over every round of every trial."""

    min_ms: float
    median_ms: float
    mean_ms: float
    p95_ms: float
    p99_ms: float
    stddev_ms: float
    iqr_ms: float
    max_ms: float


def timing_stats(ms: Sequence[float]) -> TimingStats:
    """Percentiles by linear interpolation between order statistics (numpy's default, as pandas uses)."""
    values = np.asarray(ms, dtype=float)
    if values.size == 0:
        raise ValueError("no timings")
    q1, median, q3, p95, p99 = np.percentile(values, [25, 50, 75, 95, 99])
    return TimingStats(
        min_ms=float(values.min()),
        median_ms=float(median),
        mean_ms=float(values.mean()),
        p95_ms=float(p95),
        p99_ms=float(p99),
        stddev_ms=float(values.std(ddof=1)) if values.size > 1 else 0.0,
        iqr_ms=float(q3 - q1),
        max_ms=float(values.max()),
    )


@dataclass(frozen=True)
class Estimate:
    """A figure across trials with its interval; ``low``/``high`` are None with fewer than two trials."""

    value: float
    low: float | None
    high: float | None
    trials: int

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def half_width(self) -> float | None:
        """Half the interval's width, in the estimate's unit."""
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2

    def as_list(self) -> list[float | int | None]:
        """``[value, low, high, trials]``: the compact JSON form."""
        return [self.value, self.low, self.high, self.trials]

    @classmethod
    def from_list(cls, raw: Sequence[float | int | None]) -> Estimate:
        value, low, high, trials = raw
        if value is None or trials is None:
            raise ValueError("an estimate needs a value and a trial count")
        return cls(float(value), None if low is None else float(low), None if high is None else float(high),
                   int(trials))


def _trimmed(values: np.ndarray) -> tuple[float, float, int]:
    """Trimmed mean, Yuen's standard error and the trimmed count ``h`` of ``values`` (at least two)."""
    ordered = np.sort(values)
    n = ordered.size
    g = int(TRIM * n)
    h = n - 2 * g
    winsorized = np.clip(ordered, ordered[g], ordered[n - g - 1])
    se = float(winsorized.std(ddof=1)) * math.sqrt(n) / h  # s_w / ((1 - 2g/n) sqrt(n))
    return float(ordered[g : n - g].mean()), se, h


def _interval(values: np.ndarray) -> tuple[float, float | None, float | None]:
    if values.size < 2:
        return float(values.mean()), None, None
    centre, se, h = _trimmed(values)
    if se == 0.0:
        return centre, centre, centre
    low, high = stats.t.interval(CONFIDENCE, df=h - 1, loc=centre, scale=se)
    return centre, float(low), float(high)


def mean_estimate(values: Sequence[float]) -> Estimate:
    """Trimmed mean of per-trial values with Yuen's interval."""
    array = np.asarray(values, dtype=float)
    mean, low, high = _interval(array)
    return Estimate(mean, low, high, int(array.size))


def geometric_estimate(values: Sequence[float]) -> Estimate:
    """Trimmed geometric mean of positive per-trial values, with Yuen's interval on the log scale."""
    array = np.asarray(values, dtype=float)
    if array.size == 0 or np.any(array <= 0):
        raise ValueError("a geometric mean needs positive values")
    mean, low, high = _interval(np.log(array))
    return Estimate(math.exp(mean), None if low is None else math.exp(low), None if high is None else math.exp(high),
                    int(array.size))


def paired_values(a: TrialValues, b: TrialValues) -> list[tuple[float, float]]:
    """``(a, b)`` for every trial both sides were measured in, in trial order."""
    return [(a[trial], b[trial]) for trial in sorted(a.keys() & b.keys())]


def ratio_estimate(numerator: TrialValues, denominator: TrialValues) -> Estimate | None:
    """``numerator / denominator`` computed within each trial, then their trimmed geometric mean across trials."""
    pairs = [(n, d) for n, d in paired_values(numerator, denominator) if n > 0 and d > 0]
    if not pairs:
        return None
    return geometric_estimate([n / d for n, d in pairs])


def improvement_estimate(cold: TrialValues, warm: TrialValues) -> Estimate | None:
    """The cache improvement ``(cold - warm) / cold`` in percent, within each trial, then its trimmed mean."""
    pairs = [(c, w) for c, w in paired_values(cold, warm) if c > 0]
    if not pairs:
        return None
    return mean_estimate([(c - w) / c * 100.0 for c, w in pairs])


def _logs(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
    """The logs of two samples of per-trial values, or None when either has fewer than two or a value <= 0."""
    if len(a) < 2 or len(b) < 2 or min(*a, *b) <= 0:
        return None
    return np.log(np.asarray(a, dtype=float)), np.log(np.asarray(b, dtype=float))


def _flat(la: np.ndarray, lb: np.ndarray) -> bool:
    """No spread on either side: the t statistic is undefined, but the answer is exact."""
    return bool(np.ptp(la) <= _FLAT and np.ptp(lb) <= _FLAT)


def _p(p: float) -> float | None:
    """A test's p-value, None where the test is 0 / 0 (no spread and no difference left after trimming)."""
    return None if math.isnan(p) else p


def welch_log_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided Yuen-Welch test (trimmed means, unequal variances) on the logs of two independent samples of
    per-trial values; None below 2 each. It answers "did the case move?", not the gate's question."""
    logs = _logs(a, b)
    if logs is None:
        return None
    la, lb = logs
    if _flat(la, lb):
        return 1.0 if abs(la.mean() - lb.mean()) <= _FLAT else 0.0
    return _p(float(stats.ttest_ind(la, lb, equal_var=False, trim=TRIM).pvalue))


def margin_log_p(a: Sequence[float], b: Sequence[float], margin_pct: float) -> float | None:
    """One-sided Yuen-Welch p that ``b`` is slower than ``a`` by MORE than ``margin_pct`` percent; None below 2 each.

    H0: ratio <= 1 + margin / 100, H1: ratio > 1 + margin / 100, on the logs. A plain "is it slower?" test
    grows more certain with every trial, so a run-to-run shift just above the threshold becomes an alarm;
    this one needs evidence that the slowdown exceeds the threshold. A shift exactly at the margin is H0.
    """
    logs = _logs(a, b)
    if logs is None:
        return None
    la, lb = logs
    shifted = lb - math.log1p(margin_pct / 100.0)
    if _flat(la, lb):
        return 0.0 if shifted.mean() - la.mean() > _FLAT else 1.0
    return _p(float(stats.ttest_ind(shifted, la, equal_var=False, trim=TRIM, alternative="greater").pvalue))


def detectable_change_pct(a: Sequence[float], b: Sequence[float], alpha: float, power: float,
                          margin_pct: float) -> float | None:
    """The smallest true slowdown (in %) that ``margin_log_p`` at ``alpha`` flags with ``power``, given this spread.

    The gate asks for a slowdown beyond the margin, so what it can catch is the margin plus what the spread
    costs: ``(1 + margin/100) * exp((t(1 - alpha) + t(power)) * sqrt(se_a^2 + se_b^2)) - 1``, one-sided like
    the test, with Yuen's standard errors of the trimmed log means and the t quantile for the smaller trimmed
    sample's degrees of freedom in place of z so that few trials are not flattered. Margin 0: the plain
    one-sided detectable change.
    """
    logs = _logs(a, b)
    if logs is None:
        return None
    _, se_a, h_a = _trimmed(logs[0])
    _, se_b, h_b = _trimmed(logs[1])
    df = min(h_a, h_b) - 1
    delta = (stats.t.ppf(1 - alpha, df) + stats.t.ppf(power, df)) * math.sqrt(se_a**2 + se_b**2)
    return ((1.0 + margin_pct / 100.0) * math.exp(delta) - 1.0) * 100.0


def _ratio_logs(ratios: Sequence[float]) -> np.ndarray | None:
    """The logs of per-trial ratios, or None with fewer than two or a ratio <= 0."""
    if len(ratios) < 2 or min(ratios) <= 0:
        return None
    logs: np.ndarray = np.log(np.asarray(ratios, dtype=float))
    return logs


def paired_p(ratios: Sequence[float]) -> float | None:
    """Two-sided one-sample Yuen test that per-trial ratios (each taken within one trial) differ from 1, on their
    logs; None below two trials. The paired counterpart of ``welch_log_p``: did the case move?"""
    logs = _ratio_logs(ratios)
    if logs is None:
        return None
    centre, se, h = _trimmed(logs)
    if se == 0.0:  # no spread left: the answer is exact
        return 1.0 if abs(centre) <= _FLAT else 0.0
    return float(2 * stats.t.sf(abs(centre) / se, h - 1))


def paired_margin_p(ratios: Sequence[float], margin_pct: float) -> float | None:
    """One-sided p that per-trial ratios (candidate / baseline within one trial) show a slowdown of MORE than
    ``margin_pct`` percent: a one-sample Yuen test of their logs against ``log(1 + margin/100)``; None below two
    trials. The paired counterpart of ``margin_log_p``: the within-trial pairing removes the drift between the
    trials, so the test sees the difference the two sides made and not the minutes between them."""
    logs = _ratio_logs(ratios)
    if logs is None:
        return None
    centre, se, h = _trimmed(logs - math.log1p(margin_pct / 100.0))
    if se == 0.0:
        return 0.0 if centre > _FLAT else 1.0
    return float(stats.t.sf(centre / se, h - 1))


def paired_detectable_pct(ratios: Sequence[float], alpha: float, power: float, margin_pct: float) -> float | None:
    """The smallest true slowdown (in %) ``paired_margin_p`` at ``alpha`` flags with ``power``, given the spread of
    these per-trial ratios: ``(1 + margin/100) * exp((t(1 - alpha) + t(power)) * se) - 1`` with Yuen's standard
    error of their trimmed log mean (one sample: the pairing leaves one spread, not two). None below two trials."""
    logs = _ratio_logs(ratios)
    if logs is None:
        return None
    _, se, h = _trimmed(logs)
    delta = (stats.t.ppf(1 - alpha, h - 1) + stats.t.ppf(power, h - 1)) * se
    return ((1.0 + margin_pct / 100.0) * math.exp(delta) - 1.0) * 100.0


MAX_TRIALS = 10_000
"""Beyond this many trials a projection says "more than" instead of a number: no run would spend them."""


def _half_width(spread: float, n: int) -> float:
    """Yuen's half-width for ``n`` trials of a per-trial winsorized spread ``spread`` (see ``_trimmed``)."""
    h = n - 2 * int(TRIM * n)
    return float(stats.t.ppf((1 + CONFIDENCE) / 2, h - 1)) * spread * math.sqrt(n) / h


def trials_to_resolve(estimate: Estimate, distance: float) -> int | None:
    """Trials a linear-scale estimate like this one needs before its interval no longer reaches ``distance`` away.

    An inconclusive verdict's interval straddles a bound ``distance`` from its estimate. If further trials
    spread like these, the interval narrows as Yuen's does: the winsorized spread is taken from the current
    half-width, while the trimmed count and the t quantile follow the trial count. The answer is the smallest
    count whose half-width is below ``distance``; at least one more than now. None without an interval, with
    the estimate on the bound (``distance`` 0: no number of trials decides it) or beyond ``MAX_TRIALS``.
    """
    half = estimate.half_width
    n = estimate.trials
    if half is None or n < 2 or distance <= 0:
        return None
    spread = half / _half_width(1.0, n)
    if spread == 0.0:
        return n + 1
    for count in range(n + 1, MAX_TRIALS + 1):
        if _half_width(spread, count) < distance:
            return count
    return None


RESOLVED_SHARE = 0.9
"""The share of cases a gate's resolution is stated for: "90% of cases resolve a slowdown of X or more"."""


def median_or_none(values: Sequence[float]) -> float | None:
    """The median of per-case figures, None without any: how a self-check (A/A, A/B) sums up its cases."""
    return float(np.median(values)) if len(values) else None


def resolved_by_share(detectable: Sequence[float], share: float = RESOLVED_SHARE) -> float | None:
    """The slowdown that ``share`` of the cases resolve: the sorted detectable figures' value at ``int(share * n)``
    (always an index for a share below 1); None without any."""
    ordered = sorted(detectable)
    return ordered[int(share * len(ordered))] if ordered else None
