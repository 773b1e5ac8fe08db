"""A run against an earlier one: per-case ratios, and a significance test so noise is not called a regression.

Cases are matched by their coordinates (``CaseResult.key``), never by name, so
a renamed test still compares. Medians alone move from run to run; a change
only counts when a two-sided Mann-Whitney U test on the raw timings says the
two samples differ (p < ``ALPHA``), and a regression is such a change that is
also slower by more than the caller's threshold.

A significant difference is not yet a code regression: on a small, shared
machine the whole latency floor moves between runs (a raw ``SELECT 1`` seen
35% slower ten minutes later, p ~ 1e-100). Each run measures its own transport
floor, so a case's change is also judged against the floor it stands on (raw
``GET`` for warm reads, raw ``SELECT 1`` for everything that reaches the
database): a regression must be slower by more than the threshold both in
plain terms and relative to that floor. The reference cases themselves measure
the machine, so they are shown but never gate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from scipy.stats import mannwhitneyu

from balance_bench.reports.runs import Run

__all__ = ["ALPHA", "FLOORS", "Comparison", "mann_whitney_p", "floor_of", "floor_ratios", "compare_runs", "unmatched",
           "regressions", "comparisons_frame"]

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
    floor: str | None = None  # the reference case this case stands on, present in both runs
    floor_ratio: float | None = None  # that floor's current median over its baseline median

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

    @property
    def floor_change_pct(self) -> float | None:
        """The change relative to the case's transport floor: what is left once the machine's drift is removed."""
        if not self.floor_ratio:
            return None
        return (self.ratio / self.floor_ratio - 1.0) * 100.0

    def is_regression(self, pct: float) -> bool:
        """Significantly slower by more than ``pct`` percent, also relative to its floor when both runs have it.

        Reference cases measure the machine, not the code: they are compared but never a regression.
        """
        if self.kind == "reference":
            return False
        beyond_floor = self.floor_change_pct is None or self.floor_change_pct > pct
        return self.significant and self.change_pct > pct and beyond_floor

    def line(self) -> str:
        """One line for the terminal."""
        p = "n/a" if self.p_value is None else f"{self.p_value:.2g}"
        floor = ""
        if self.floor_change_pct is not None and self.floor_ratio is not None:
            floor = (f", {self.floor_change_pct:+.1f}% against the {self.floor} floor, "
                     f"which moved {(self.floor_ratio - 1) * 100:+.1f}%")
        return (f"{self.label}: {self.baseline_median_ms:.4g} ms -> {self.current_median_ms:.4g} ms "
                f"({self.change_pct:+.1f}%, p={p}{floor})")


FLOORS = {"redis": "raw_redis_get", "postgres": "raw_pg_select_1"}
"""The reference cases that measure each transport's floor in every run."""


def floor_of(kind: str, cache: str) -> str | None:
    """Which transport floor a case stands on: Redis for warm reads, PostgreSQL otherwise, none for references."""
    if kind == "reference":
        return None
    return "redis" if cache == "warm" else "postgres"


def floor_ratios(current: Run, baseline: Run) -> dict[tuple[str, str], float]:
    """Per (scale, floor): current floor median over baseline floor median, where both runs measured it."""
    def medians(run: Run) -> dict[tuple[str, str], float]:
        by_query = {query: name for name, query in FLOORS.items()}
        return {(c.scale, by_query[c.query]): c.median_ms for c in run.summary.cases
                if c.kind == "reference" and c.query in by_query}

    now, before = medians(current), medians(baseline)
    return {key: now[key] / before[key] for key in now.keys() & before.keys() if before[key] > 0}


def compare_runs(current: Run, baseline: Run, alpha: float = ALPHA) -> list[Comparison]:
    """Every case present in both runs, in the current run's order."""
    earlier = {case.key: case for case in baseline.summary.cases}
    floors = floor_ratios(current, baseline)
    result = []
    for case in current.summary.cases:
        before = earlier.get(case.key)
        if before is None:
            continue
        p = mann_whitney_p(baseline.raw_timings(before), current.raw_timings(case))
        floor = floor_of(case.kind, case.cache)
        floor_ratio = floors.get((case.scale, floor)) if floor else None
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
                floor=floor if floor_ratio else None,
                floor_ratio=floor_ratio,
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
            "change vs floor (%)": c.floor_change_pct,
            "p (Mann-Whitney U)": c.p_value,
            "verdict": ("regression" if pct is not None and c.is_regression(pct) else c.verdict),
        }
        for c in comparisons
    ]
    frame = pd.DataFrame(rows)
    return frame.sort_values("change (%)", ascending=False, kind="stable") if not frame.empty else frame
