"""A run against an earlier one, on trial-level data: per-case changes, and a gate that drift alone cannot trip.

Cases are matched by their coordinates, never by name. The samples compared
are each run's per-trial medians, not raw rounds: rounds timed back to back are
correlated, and a test that counts 400 of them as independent finds "p <
1e-40" in pure drift. Trials are the unit of replication.

Each trial also measured the transport floor it stands on (raw ``GET`` for
warm reads, raw ``SELECT 1`` for everything that reaches the database) in the
same minutes, so every per-trial median is first divided by its own trial's
floor: what is left is the case's cost relative to this machine's state at
that moment. A regression is a case that the data show, at ``ALPHA``, to be
slower by MORE than the threshold: a one-sided Yuen-Welch test on the logs of
the floor-relative trial values against the margin (H0: ratio <= 1 + pct/100),
and the point change beyond the threshold both relative to its floor and in
plain terms. Asking "significantly slower?" instead would let every run-to-run
shift just above the threshold become an alarm once there are enough trials.
The two-sided p-value still gives each case its verdict (slower, faster, no
significant change). The reference cases measure the machine, so they are
shown but never gate. Each comparison also states the smallest true slowdown
the gate would flag with ``POWER``, given the two runs' trial-to-trial spread
and the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from balance_bench.coordinates import CacheState, Coordinates, Kind
from balance_bench.reports.runs import Run
from balance_bench.results import CaseResult
from balance_bench.statistics import detectable_change_pct, geometric_estimate, margin_log_p, welch_log_p

__all__ = ["ALPHA", "POWER", "FLOORS", "Comparison", "floor_of", "floor_values", "trial_values", "compare_runs",
           "unmatched", "regressions", "comparisons_frame", "below_alpha", "NOT_TESTED", "NO_CHANGE", "SLOWER",
           "FASTER", "GATE_P"]

ALPHA = 0.01
"""Significance level: strict, because a report compares dozens of cases and some will differ by chance."""
POWER = 0.8
"""The power at which the detectable slowdown is stated."""
GATE_P = "p (gate: slower by > threshold)"
"""The gate's one-sided p-value, by name, wherever a table shows it."""

FLOORS = {"redis": "raw_redis_get", "postgres": "raw_pg_select_1"}
"""The reference cases that measure each transport's floor in every trial."""

NOT_TESTED, NO_CHANGE, SLOWER, FASTER = "not tested", "no significant change", "slower", "faster"


def below_alpha(p: float | None) -> bool:
    """Whether a p-value is evidence at ``ALPHA`` (strictly below it); a test that could not run is not."""
    return p is not None and p < ALPHA


def floor_of(coords: Coordinates) -> str | None:
    """Which transport floor a case stands on: Redis for warm reads, PostgreSQL otherwise, none for references."""
    if coords.kind is Kind.REFERENCE:
        return None
    return "redis" if coords.cache is CacheState.WARM else "postgres"


def floor_values(run: Run, coords: Coordinates) -> dict[int, float]:
    """Per trial, the median of the floor case the case at ``coords`` stands on (empty if the run lacks it)."""
    floor = floor_of(coords)
    if floor is None:
        return {}
    for case in run.summary.cases:
        c = case.coords
        if c.kind is Kind.REFERENCE and c.scale == coords.scale and c.query == FLOORS[floor]:
            return dict(case.trial_medians_ms)
    return {}


def trial_values(case: CaseResult, floor: dict[int, float] | None) -> list[float]:
    """The case's per-trial medians, each divided by its own trial's floor when ``floor`` is given."""
    if not floor:
        return [v for _, v in sorted(case.trial_medians_ms.items())]
    return [v / floor[t] for t, v in sorted(case.trial_medians_ms.items()) if floor.get(t)]


@dataclass(frozen=True)
class Comparison:
    """One case in both runs: how it moved, on trial-level data, and whether that is real."""

    coords: Coordinates
    baseline_median_ms: float
    current_median_ms: float
    baseline_trials: int
    current_trials: int
    ratio: float  # current / baseline, geometric means of the per-trial medians
    floor: str | None  # the floor the case was divided by, when both runs measured it in every trial
    floor_ratio: float | None  # that floor's current / baseline
    relative_ratio: float | None  # current / baseline of the floor-relative per-trial values
    before: tuple[float, ...]  # the baseline's per-trial values that are tested: floor-relative when ``floor``
    after: tuple[float, ...]  # the current run's, likewise

    @property
    def kind(self) -> Kind:
        return self.coords.kind

    @property
    def label(self) -> str:
        return self.coords.label

    @property
    def change_pct(self) -> float:
        """Change in percent: +100 means twice as slow."""
        return (self.ratio - 1.0) * 100.0

    @property
    def floor_change_pct(self) -> float | None:
        """The change relative to the case's transport floor: what is left once the machine's drift is removed."""
        return None if self.relative_ratio is None else (self.relative_ratio - 1.0) * 100.0

    @property
    def p_value(self) -> float | None:
        """Two-sided Yuen-Welch p on the logs of the tested values: did the case move at all?"""
        return welch_log_p(self.before, self.after)

    def gate_p(self, pct: float) -> float | None:
        """The gate's one-sided p: evidence that the case is slower by MORE than ``pct`` percent."""
        return margin_log_p(self.before, self.after, pct)

    def detectable_pct(self, pct: float) -> float | None:
        """The smallest true slowdown the gate at ``pct`` flags with ``POWER`` (always above ``pct``)."""
        return detectable_change_pct(self.before, self.after, ALPHA, POWER, pct)

    @property
    def significant(self) -> bool:
        return below_alpha(self.p_value)

    @property
    def verdict(self) -> str:
        """``slower``, ``faster``, ``no significant change``, or ``not tested`` (fewer than two trials a side)."""
        if self.p_value is None:
            return NOT_TESTED
        if not self.significant:
            return NO_CHANGE
        gated = self.relative_ratio if self.relative_ratio is not None else self.ratio
        return SLOWER if gated > 1 else FASTER

    def is_regression(self, pct: float) -> bool:
        """Shown (gate p < ALPHA) to be slower by more than ``pct`` percent, and beyond it in plain terms and
        relative to its floor.

        Reference cases measure the machine, not the code: they are compared but never a regression.
        """
        if self.kind is Kind.REFERENCE:
            return False
        beyond_floor = self.floor_change_pct is None or self.floor_change_pct > pct
        return self.change_pct > pct and beyond_floor and below_alpha(self.gate_p(pct))

    def line(self, pct: float | None) -> str:
        """One line for the terminal; with the threshold ``pct``, also the gate's p-value."""
        p = _p_text(self.p_value)
        gate = "" if pct is None else f"; gate p={_p_text(self.gate_p(pct))} for slower by more than {pct:g}%"
        floor = ""
        if self.floor_change_pct is not None and self.floor_ratio is not None:
            floor = (f", {self.floor_change_pct:+.1f}% against the {self.floor} floor, "
                     f"which moved {(self.floor_ratio - 1) * 100:+.1f}%")
        trials = f"{self.baseline_trials}+{self.current_trials} trials"
        return (f"{self.label}: {self.baseline_median_ms:.4g} ms -> {self.current_median_ms:.4g} ms "
                f"({self.change_pct:+.1f}%{floor}; p={p} over {trials}{gate})")


def _p_text(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def _geomean(values: Sequence[float]) -> float | None:
    positive = [v for v in values if v > 0]
    return geometric_estimate(positive).value if positive else None


def _compare(current: Run, baseline: Run, now: CaseResult, before: CaseResult) -> Comparison:
    plain_now, plain_before = trial_values(now, None), trial_values(before, None)
    floor_now, floor_before = floor_values(current, now.coords), floor_values(baseline, before.coords)
    usable = bool(floor_now) and bool(floor_before) and set(now.trial_medians_ms) <= set(floor_now) \
        and set(before.trial_medians_ms) <= set(floor_before)
    if usable:
        rel_now, rel_before = trial_values(now, floor_now), trial_values(before, floor_before)
        floor_ratio = _ratio(_geomean(list(floor_now.values())), _geomean(list(floor_before.values())))
        relative_ratio = _ratio(_geomean(rel_now), _geomean(rel_before))
    else:
        rel_now, rel_before, floor_ratio, relative_ratio = plain_now, plain_before, None, None
    return Comparison(
        coords=now.coords,
        baseline_median_ms=before.median_ms,
        current_median_ms=now.median_ms,
        baseline_trials=before.trials,
        current_trials=now.trials,
        ratio=_ratio(_geomean(plain_now), _geomean(plain_before)) or math.inf,
        floor=floor_of(now.coords) if usable else None,
        floor_ratio=floor_ratio,
        relative_ratio=relative_ratio,
        before=tuple(rel_before),
        after=tuple(rel_now),
    )


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def compare_runs(current: Run, baseline: Run) -> list[Comparison]:
    """Every case present in both runs, in the current run's order."""
    return [_compare(current, baseline, case, before) for case in current.summary.cases
            if (before := baseline.case(case.coords)) is not None]


def unmatched(current: Run, baseline: Run) -> tuple[list[Coordinates], list[Coordinates]]:
    """Cases only in the current run, and cases only in the baseline (different matrix or scale)."""
    now = [c.coords for c in current.summary.cases]
    before = [c.coords for c in baseline.summary.cases]
    return [k for k in now if baseline.case(k) is None], [k for k in before if current.case(k) is None]


def regressions(comparisons: Sequence[Comparison], pct: float) -> list[Comparison]:
    """The comparisons shown to be slower by more than ``pct`` percent (``Comparison.is_regression``)."""
    return [c for c in comparisons if c.is_regression(pct)]


def comparisons_frame(comparisons: Sequence[Comparison], pct: float | None = None) -> pd.DataFrame:
    """A table of the comparisons (slowest change first), for the report and notebooks.

    Without a threshold there is no gate: no gate p, and the detectable slowdown is the plain one-sided one.
    """
    rows = [
        {
            "case": c.label,
            "baseline median (ms)": c.baseline_median_ms,
            "current median (ms)": c.current_median_ms,
            "change (%)": c.change_pct,
            "change vs floor (%)": c.floor_change_pct,
            "trials": f"{c.baseline_trials}+{c.current_trials}",
            "p (Welch, trials)": c.p_value,
            GATE_P: None if pct is None else c.gate_p(pct),
            "detectable (%)": c.detectable_pct(0.0 if pct is None else pct),
            "verdict": ("regression" if pct is not None and c.is_regression(pct) else c.verdict),
        }
        for c in comparisons
    ]
    frame = pd.DataFrame(rows)
    return frame.sort_values("change (%)", ascending=False, kind="stable") if not frame.empty else frame
