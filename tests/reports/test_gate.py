"""The gate's one list of regressions: time and counters side by side, each with its kind and cause, in the
current run's order, a case's time before its counters, reference cases never."""

from __future__ import annotations

from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.reports.counter_gate import CounterChange, CounterComparison
from balance_bench.reports.gate import COUNTERS, TIME, gate_regressions
from balance_bench.reports.time_gate import Comparison

CREDIT = Coordinates(Kind.WRITE, "credit", CacheState.INVALIDATE, Migration.WITH_012, "tiny", "optimized", "balance")
DEBIT = CREDIT.with_(query="debit")
DELETE = CREDIT.with_(query="delete")
REFERENCE = Coordinates(Kind.REFERENCE, "raw_pg_select_1", CacheState.RAW, Migration.WITH_012, "tiny", "optimized",
                        "balance")
TIGHT = (1.00, 1.01, 0.99, 1.00, 1.01, 0.99)


def _time(coords: Coordinates, ratio: float) -> Comparison:
    """Six tight per-trial values moved by exactly ``ratio``: 2.0 is shown beyond 10%, 1.0 is not."""
    return Comparison(coords, 0.5, 0.5 * ratio, 6, 6, ratio, None, None, None, TIGHT, tuple(v * ratio for v in TIGHT))


def _counted(coords: Coordinates, regression: bool) -> CounterComparison:
    change = CounterChange("pg_round_trips", 1.0, 2.0 if regression else 0.0, regression)
    return CounterComparison(coords, 0.5, 0.5, (change,), ())


def test_each_regression_has_its_kind_cause_and_line_in_the_current_runs_order() -> None:
    """DEBIT slower, CREDIT an added round trip, DELETE both (time first), REFERENCE twice as slow: four
    regressions in the order of the time comparisons, none for the reference case."""
    comparisons = [_time(CREDIT, 1.0), _time(DEBIT, 2.0), _time(REFERENCE, 2.0), _time(DELETE, 2.0)]
    counters = [_counted(DELETE, True), _counted(DEBIT, False), _counted(CREDIT, True)]
    found = gate_regressions(comparisons, counters, 10.0)
    assert [(r.coords, r.kind) for r in found] == [(CREDIT, COUNTERS), (DEBIT, TIME), (DELETE, TIME),
                                                    (DELETE, COUNTERS)]
    assert found[0].cause == "PostgreSQL round trips 1 → 2"
    assert found[0].line == f"{CREDIT.label}: PostgreSQL round trips 1 → 2; 0.5 → 0.5 ms"
    assert found[1].cause == "slower by more than 10%: 0.5 → 1 ms (+100.0%)"
    assert found[1].line.startswith(f"{DEBIT.label}: 0.5 ms -> 1 ms (+100.0%") and found[1].label == DEBIT.label
    assert found[1].line.endswith("for slower by more than 10%)")  # the gate's own p, at the threshold


def test_no_regression_of_either_kind_is_an_empty_list() -> None:
    """Unchanged time and a counter that only went down: nothing; at a threshold above the slowdown, nothing."""
    assert gate_regressions([_time(CREDIT, 1.0)], [_counted(CREDIT, False)], 10.0) == []
    assert gate_regressions([_time(CREDIT, 2.0)], [], 150.0) == []


def test_a_counter_regression_without_a_time_comparison_still_counts() -> None:
    """A case compared in counters only (no time comparison given) is not lost: it comes after the others."""
    found = gate_regressions([_time(DEBIT, 2.0)], [_counted(CREDIT, True)], 10.0)
    assert [(r.coords, r.kind) for r in found] == [(DEBIT, TIME), (CREDIT, COUNTERS)]
    assert (found[1].cause, found[1].line) == ("PostgreSQL round trips 1 → 2",
                                               f"{CREDIT.label}: PostgreSQL round trips 1 → 2; 0.5 → 0.5 ms")
