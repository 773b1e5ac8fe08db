"""A run against an earlier one: per-case ratios, and a significance test so noise is not called a regression.

Cases are matched by their coordinates (``CaseResult.key``), never by name, so
a renamed test still compares. Medians alone move from run to run; a change
only counts when a two-sided Mann-Whitney U test on the raw timings says the
two samples differ (p < ``ALPHA``), and a regression is such a change that is
also slower by more than the caller's threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from scipy.stats import mannwhitneyu

from balance_bench.reports.runs import Run

__all__ = ["ALPHA", "Comparison", "mann_whitney_p", "compare_runs", "unmatched", "regressions", "comparisons_frame"]

ALPHA = 0.01
"""Significance level: strict, because a report compares dozens of cases and some will differ by chance."""

Key = tuple[str, str, str, str, str, str]


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value, or None when either sample is too small to test (< 2 values)."""
    if len(a) < 2 or len(b) < 2:
        return None
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return None if math.isnan(p) else p


@dataclass(frozen=True)
class Comparison:
    """One case in both runs: how its median moved, and whether the raw timings say that is real."""

    key: Key
    kind: str
    name: str
    baseline_median_ms: float
    current_median_ms: float
    baseline_rounds: int
    current_rounds: int
    p_value: float | None
    significant: bool

    @property
    def ratio(self) -> float:
        """Current median over baseline median: above 1 is slower."""
        return self.current_median_ms / self.baseline_median_ms if self.baseline_median_ms > 0 else math.inf

    @property
    def change_pct(self) -> float:
        """Change of the median in percent: +100 means twice as slow."""
        return (self.ratio - 1.0) * 100.0

    @property
    def label(self) -> str:
        """The coordinates as one readable string."""
        query, cache, migration, scale, projection, param_kind = self.key
        return f"{scale} {query} [{cache}, {migration}, {projection}, {param_kind}]"

    @property
    def verdict(self) -> str:
        """``slower``, ``faster``, ``no significant change``, or ``not tested`` (too few raw timings)."""
        if self.p_value is None:
            return "not tested"
        if not self.significant:
            return "no significant change"
        return "slower" if self.ratio > 1 else "faster"

    def is_regression(self, pct: float) -> bool:
        """Significantly slower, by more than ``pct`` percent."""
        return self.significant and self.change_pct > pct

    def line(self) -> str:
        """One line for the terminal."""
        p = "n/a" if self.p_value is None else f"{self.p_value:.2g}"
        return (f"{self.label}: {self.baseline_median_ms:.4g} ms -> {self.current_median_ms:.4g} ms "
                f"({self.change_pct:+.1f}%, p={p})")


def compare_runs(current: Run, baseline: Run, alpha: float = ALPHA) -> list[Comparison]:
    """Every case present in both runs, in the current run's order."""
    earlier = {case.key: case for case in baseline.summary.cases}
    result = []
    for case in current.summary.cases:
        before = earlier.get(case.key)
        if before is None:
            continue
        p = mann_whitney_p(baseline.raw_timings(before), current.raw_timings(case))
        result.append(
            Comparison(
                key=case.key,
                kind=case.kind,
                name=case.name,
                baseline_median_ms=before.median_ms,
                current_median_ms=case.median_ms,
                baseline_rounds=before.rounds,
                current_rounds=case.rounds,
                p_value=p,
                significant=p is not None and p < alpha,
            )
        )
    return result


def unmatched(current: Run, baseline: Run) -> tuple[list[Key], list[Key]]:
    """Keys only in the current run, and keys only in the baseline (different matrix or scale)."""
    now = [c.key for c in current.summary.cases]
    before = [c.key for c in baseline.summary.cases]
    now_set, before_set = set(now), set(before)
    return [k for k in now if k not in before_set], [k for k in before if k not in now_set]


def regressions(comparisons: Sequence[Comparison], pct: float) -> list[Comparison]:
    """The comparisons that are significant slowdowns by more than ``pct`` percent."""
    return [c for c in comparisons if c.is_regression(pct)]


def comparisons_frame(comparisons: Sequence[Comparison], pct: float | None = None) -> pd.DataFrame:
    """A table of the comparisons (slowest change first), for the report and notebooks."""
    rows = [
        {
            "case": c.label,
            "baseline median (ms)": c.baseline_median_ms,
            "current median (ms)": c.current_median_ms,
            "ratio": c.ratio,
            "change (%)": c.change_pct,
            "p (Mann-Whitney U)": c.p_value,
            "verdict": ("regression" if pct is not None and c.is_regression(pct) else c.verdict),
        }
        for c in comparisons
    ]
    frame = pd.DataFrame(rows)
    return frame.sort_values("change (%)", ascending=False, kind="stable") if not frame.empty else frame
