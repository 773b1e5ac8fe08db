"""A run's counters against an earlier run's: the gate's deterministic evidence, beside the timings of ``compare``.

A case's counters are what it did, counted rather than timed (``balance_bench.results``: its plan's
``PlanCounters`` and its ``Traffic`` per call). Measured on this machine (``scripts/counter_stability.py``
over three ``small`` and four ``tiny`` runs of one commit; docs/methodology.md), the plan signature, temp
blocks, rows, round trips, Redis commands and Redis bytes were identical in every case. Shared blocks (hit +
read) were identical in 81 of 90 cases; they moved by up to 0.2% on whole-table scans (3 of ~1,850 pages:
how far earlier writes had grown the table) and by 5.1% on one write (39 or 41 blocks, with the page's free
space); PostgreSQL bytes received moved by 0.1% on ``create`` (a new id one digit longer). The
hit/read split is not compared at all: it says where a block came from, which a restart, a fresh copy of
the database or a scan larger than the buffer ring changes while the total stays. So the gate judges:

* the **plan signature**: any change is a regression (the planner chose another plan);
* **shared blocks** (hit + read) and **temp blocks**: more than ``blocks_pct`` percent more is a regression
  (default ``BLOCKS_THRESHOLD_PCT``, about twice the largest move between runs of one commit; exactly at
  the threshold is not beyond it);
* **PostgreSQL round trips, Redis round trips, Redis commands** per call: any more is a regression;
* rows returned and bytes each way: shown when they change, never a regression (they follow the data and the
  columns; what they cost shows in time and blocks).

Fewer blocks, round trips or commands is a change, never a regression. Reference cases measure the machine and
are not compared. A case whose plan exists on one side only, or whose baseline was summarised before plans
carried counters, is compared on what both sides have, and says what it could not compare. ``balance-bench check
--baseline`` judges a committed baseline file by the same rules (``counter_changes``), with no run directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from balance_bench.coordinates import Coordinates, Kind
from balance_bench.plans.signature import signature_change
from balance_bench.reports.runs import Run
from balance_bench.reports.tables import ms
from balance_bench.results import COUNTERS_VERSION, CaseResult, PlanCounters, Traffic

__all__ = ["BLOCKS_THRESHOLD_PCT", "COUNTERS", "EXACT", "BLOCKS", "MORE", "SHOWN", "NO_PLAN", "REGRESSION",
           "CHANGED", "SAME", "counter_values", "values_of", "count_text", "CounterChange", "CounterComparison",
           "counter_changes", "compare_case_counters", "compare_counters", "counter_regressions", "COUNTER_COLUMNS",
           "counters_frame"]

BLOCKS_THRESHOLD_PCT = 10.0
"""Default margin on blocks: more than this many percent more blocks is a regression."""

COUNTERS: dict[str, str] = {
    "signature": "plan",
    "shared_blocks": "shared blocks",
    "shared_hit": "shared blocks hit",
    "shared_read": "shared blocks read",
    "temp_blocks": "temp blocks",
    "rows": "rows",
    "pg_round_trips": "PostgreSQL round trips",
    "pg_bytes_sent": "PostgreSQL bytes sent",
    "pg_bytes_received": "PostgreSQL bytes received",
    "redis_round_trips": "Redis round trips",
    "redis_commands": "Redis commands",
    "redis_bytes_sent": "Redis bytes sent",
    "redis_bytes_received": "Redis bytes received",
}
"""Every counter of a case, by key, with the words a line uses for it."""
EXACT = ("signature",)
"""Counters where any change is a regression."""
BLOCKS = ("shared_blocks", "temp_blocks")
"""Counters where more than the blocks threshold more is a regression."""
MORE = ("pg_round_trips", "redis_round_trips", "redis_commands")
"""Counters (per call) where any increase is a regression."""
SHOWN = ("rows", "pg_bytes_sent", "pg_bytes_received", "redis_bytes_sent", "redis_bytes_received")
"""Counters shown when they change (bytes: by more than the blocks threshold), never a regression."""
_BYTES = frozenset(SHOWN) - {"rows"}
NO_PLAN = "no plan to compare"
REGRESSION, CHANGED, SAME = "regression", "changed", "same"

Value = str | float | None


def counter_values(case: CaseResult) -> dict[str, Value]:
    """Every counter of ``case`` by key (``COUNTERS``), numbers as floats; None where the run did not record it."""
    return values_of(case.plan.counters if case.plan is not None else None, case.traffic)


def values_of(counters: PlanCounters | None, traffic: Traffic | None) -> dict[str, Value]:
    """Every counter by key (``COUNTERS``) from a plan's counters and a traffic record, whoever counted them (a run's
    summary, or ``check``); numbers as floats, None where nothing was counted."""
    values: dict[str, Value] = dict.fromkeys(COUNTERS)
    if counters is not None:
        values.update(signature=counters.signature, shared_blocks=_number(counters.shared_blocks),
                      shared_hit=_number(counters.shared_hit), shared_read=_number(counters.shared_read),
                      temp_blocks=_number(counters.temp_blocks), rows=_number(counters.rows))
    if traffic is not None:
        pg, cache = traffic.postgres, traffic.redis
        values.update(pg_round_trips=_number(pg.round_trips), pg_bytes_sent=_number(pg.bytes_sent),
                      pg_bytes_received=_number(pg.bytes_received), redis_round_trips=_number(cache.round_trips),
                      redis_commands=_number(cache.commands), redis_bytes_sent=_number(cache.bytes_sent),
                      redis_bytes_received=_number(cache.bytes_received))
    return values


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def count_text(value: Value) -> str:
    """A counter's value as a line shows it: ``1,471``, ``0.33``, the signature itself, ``—`` when unknown."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class CounterChange:
    """One counter that differs between the baseline and the current run, and whether that is a regression."""

    counter: str  # a key of COUNTERS
    before: str | float
    after: str | float
    regression: bool

    @property
    def text(self) -> str:
        """``shared blocks 4 → 1,471``; for the plan, what changed in it (``plans.signature``)."""
        if isinstance(self.before, str) and isinstance(self.after, str):
            return signature_change(self.before, self.after)
        return f"{COUNTERS[self.counter]} {count_text(self.before)} → {count_text(self.after)}"


@dataclass(frozen=True)
class CounterComparison:
    """One case's counters in both runs: what changed, what could not be compared, and the time beside it."""

    coords: Coordinates
    baseline_median_ms: float
    current_median_ms: float
    changes: tuple[CounterChange, ...]
    notes: tuple[str, ...]  # what could not be compared, and why

    @property
    def label(self) -> str:
        return self.coords.label

    @property
    def regression(self) -> bool:
        return any(change.regression for change in self.changes)

    @property
    def verdict(self) -> str:
        """``regression``, ``changed`` (no regression among the changes) or ``same``."""
        return REGRESSION if self.regression else CHANGED if self.changes else SAME

    @property
    def cause(self) -> str:
        """The regressed counters, in words (``Index Scan … → Seq Scan on balances; shared blocks 4 → 1,471``);
        empty when none regressed."""
        return "; ".join(change.text for change in self.changes if change.regression)

    def changed(self, counters: Sequence[str]) -> str:
        """The changes among ``counters``, in words, or empty."""
        return "; ".join(change.text for change in self.changes if change.counter in counters)

    @property
    def time(self) -> str:
        """The median time in both runs, for beside the counters: ``0.39 → 6.6 ms``."""
        return f"{ms(self.baseline_median_ms)} → {ms(self.current_median_ms)} ms"

    def line(self) -> str:
        """One line: the case, its regressed counters (else its changes, else its notes), and its time."""
        told = self.cause or "; ".join(change.text for change in self.changes) or "; ".join(self.notes) \
            or "counters unchanged"
        return f"{self.label}: {told}; {self.time}"


def _judge(counter: str, before: float, after: float, blocks_pct: float) -> tuple[bool, bool]:
    """For a numeric counter: (changed enough to show, a regression). Margins are compared in hundredths, so a count
    exactly at the threshold is never beyond it through rounding."""
    if counter in BLOCKS or counter in _BYTES:
        up = after * 100 > before * (100 + blocks_pct)
        down = after * 100 < before * (100 - blocks_pct)
        return up or down, up and counter in BLOCKS
    regression = counter in MORE and after > before
    return regression or after != before, regression


def counter_changes(old: Mapping[str, Value], new: Mapping[str, Value],
                    blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> tuple[CounterChange, ...]:
    """What differs between two sets of one case's counters (``COUNTERS`` keys), each judged: another plan signature,
    blocks beyond ``blocks_pct``, a round trip or Redis command more is a regression; counters missing on either
    side are not compared."""
    changes: list[CounterChange] = []
    plan_before, plan_now = old.get("signature"), new.get("signature")
    if isinstance(plan_before, str) and isinstance(plan_now, str) and plan_before != plan_now:
        changes.append(CounterChange("signature", plan_before, plan_now, regression=True))
    for counter in (*BLOCKS, *MORE, *SHOWN):
        a, b = old.get(counter), new.get(counter)
        if isinstance(a, float) and isinstance(b, float):
            shown, regression = _judge(counter, a, b, blocks_pct)
            if shown:
                changes.append(CounterChange(counter, a, b, regression))
    return tuple(changes)


def compare_case_counters(before: CaseResult, now: CaseResult,
                          blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> CounterComparison:
    """The counters of one case in the baseline (``before``) and the current run (``now``)."""
    notes: list[str] = []
    if (before.plan is None) != (now.plan is None):
        notes.append(f"{NO_PLAN} (only the {'current run' if before.plan is None else 'baseline'} has one)")
    for side, case in (("baseline", before), ("current run", now)):
        if case.plan is not None and case.plan.counters is None:
            notes.append(f"no plan counters in the {side} (summarised before summary version "
                         f"{COUNTERS_VERSION}: balance-bench summarise RUN_DIR rewrites it)")
    if before.traffic is None or now.traffic is None:
        notes.append("no traffic to compare")
    return CounterComparison(coords=now.coords, baseline_median_ms=before.median_ms,
                             current_median_ms=now.median_ms,
                             changes=counter_changes(counter_values(before), counter_values(now), blocks_pct),
                             notes=tuple(notes))


def compare_counters(current: Run, baseline: Run,
                     blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> list[CounterComparison]:
    """Every case in both runs except the reference cases, in the current run's order."""
    return [compare_case_counters(before, case, blocks_pct) for case in current.summary.cases
            if case.coords.kind is not Kind.REFERENCE and (before := baseline.case(case.coords)) is not None]


def counter_regressions(comparisons: Sequence[CounterComparison]) -> list[CounterComparison]:
    """The cases whose counters regressed."""
    return [c for c in comparisons if c.regression]


COUNTER_COLUMNS = ("case", "plan", "blocks", "round trips, commands", "rows, bytes", "time", "counters")
"""The report's table of counter findings: one row per case whose counters changed or could not be compared."""


def counters_frame(comparisons: Sequence[CounterComparison]) -> pd.DataFrame:
    """The cases whose counters changed (regressions first) or could not be fully compared; unchanged cases are
    left out. Each cell is ``before → after`` for what changed in that group of counters."""
    rows = [{"case": c.label,
             "plan": c.changed(EXACT),
             "blocks": c.changed(BLOCKS), "round trips, commands": c.changed(MORE), "rows, bytes": c.changed(SHOWN),
             "time": c.time, "counters": "; ".join((c.verdict, *c.notes))}
            for c in sorted(comparisons, key=lambda c: not c.regression) if c.changes or c.notes]
    return pd.DataFrame(rows, columns=list(COUNTER_COLUMNS))
