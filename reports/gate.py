"""The regression gate's decision: time and counters, each regression with its kind and its cause.

``report --baseline OLD --fail-on-regression PCT`` gates on two kinds of evidence, side by side:

* **time** (``compare``): a case shown, on trial-level data, to be slower by more than PCT percent;
* **counters** (``counters``): a changed plan signature, blocks beyond the blocks threshold, an added
  round trip or Redis command per call, whatever the timing says.

A case may regress on both; each is its own regression here, so every line names one cause. The report's
comparison section, ``gate.json``/``gate.md``/JUnit (``gate_document``) and the terminal read this one list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from balance_bench.coordinates import Coordinates
from balance_bench.reports.counter_gate import CounterComparison
from balance_bench.reports.tables import ms
from balance_bench.reports.time_gate import Comparison

__all__ = ["TIME", "COUNTERS", "Regression", "gate_regressions"]

TIME, COUNTERS = "time", "counters"
"""The kinds of regression."""


@dataclass(frozen=True)
class Regression:
    """One regression: the case, which evidence found it, its cause in words, and the line that tells it."""

    coords: Coordinates
    kind: str  # TIME or COUNTERS
    cause: str
    line: str

    @property
    def label(self) -> str:
        return self.coords.label


def _time(c: Comparison, pct: float) -> Regression:
    cause = (f"slower by more than {pct:g}%: {ms(c.baseline_median_ms)} → {ms(c.current_median_ms)} ms "
             f"({c.change_pct:+.1f}%)")
    return Regression(c.coords, TIME, cause, c.line(pct))


def gate_regressions(comparisons: Sequence[Comparison], counters: Sequence[CounterComparison],
                     pct: float) -> list[Regression]:
    """Every regression, in the current run's order of cases; for one case its time before its counters."""
    by_case = {c.coords: c for c in counters if c.regression}
    found: list[Regression] = []
    for c in comparisons:
        if c.is_regression(pct):
            found.append(_time(c, pct))
        counted = by_case.pop(c.coords, None)
        if counted is not None:
            found.append(Regression(c.coords, COUNTERS, counted.cause, counted.line()))
    found += [Regression(c.coords, COUNTERS, c.cause, c.line()) for c in by_case.values()]
    return found
