"""Counters against a baseline: another plan, blocks beyond the threshold, an added round trip or Redis command are
regressions, whatever the time; fewer is a change; rows and bytes are shown, never judged; reference cases are not
compared, and what cannot be compared is said.

Oracles are hand-made cases with chosen counters and the expected words written out; nothing here calls the
code under test to compute what it should say.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.reports.counter_gate import (
    COUNTER_COLUMNS,
    COUNTERS,
    compare_case_counters,
    compare_counters,
    count_text,
    counter_regressions,
    counter_values,
    counters_frame,
)
from balance_bench.reports.runs import Run
from balance_bench.results import CaseResult, Design, PlanCounters, PlanFacts, ServerTraffic, Summary, Traffic
from balance_bench.statistics import TimingStats

READ = Coordinates(Kind.READ, "find_by_user_id", CacheState.NOCACHE, Migration.WITH_012, "small", "optimized",
                   "typical")
REFERENCE = Coordinates(Kind.REFERENCE, "raw_pg_find_by_id", CacheState.RAW, Migration.WITH_012, "small",
                        "optimized", "balance")
INDEXED = "Limit > Index Scan using idx_balances_user_created on balances"
SEQ = "Limit > Sort > Seq Scan on balances"


def _case(coords: Coordinates = READ, *, signature: str | None = INDEXED, hit: int | None = 4, read: int | None = 0,
          temp: int = 0, rows: float = 20.0, pg_trips: float = 1.0, redis_trips: float = 0.0,
          commands: float = 0.0, pg_received: float = 474.0, ms: float = 0.39, traffic: bool = True,
          counted: bool = True) -> CaseResult:
    """A case with these counters; ``signature=None``: no plan; ``counted=False``: a plan from before version 4."""
    stats = TimingStats(ms, ms, ms, ms, ms, 0.0, 0.0, ms)
    plan = None if signature is None else PlanFacts(
        file="plans/x.json", sql=None, execution_ms=None, planning_ms=None, total_ms=None, indexes_used=(),
        node_types=(), counters=PlanCounters(signature, hit, read, temp, 0, rows) if counted else None)
    return CaseResult(coords=coords, params={}, rounds=10, stats=stats, trial_medians_ms={1: ms, 2: ms}, plan=plan,
                      traffic=Traffic(3, ServerTraffic(pg_trips, 51.0, pg_received),
                                      ServerTraffic(redis_trips, 43.0 * redis_trips, 30.0, commands=commands))
                      if traffic else None)


def _texts(before: CaseResult, after: CaseResult, blocks_pct: float = 10.0) -> list[tuple[str, bool]]:
    """(what changed, a regression?) for each change between the two."""
    return [(c.text, c.regression) for c in compare_case_counters(before, after, blocks_pct).changes]


def test_the_issues_example_line() -> None:
    """An index scan that became a sequential scan, with its blocks and time: one line naming the cause."""
    found = compare_case_counters(_case(hit=4), _case(signature="Seq Scan on balances", hit=1400, read=71, ms=6.6))
    assert found.regression and found.verdict == "regression"
    assert found.line() == ("small find_by_user_id [nocache, with_012, optimized, typical]: Limit, Index Scan using "
                            "idx_balances_user_created on balances → Seq Scan on balances; shared blocks 4 → 1,471; "
                            "0.39 → 6.6 ms")
    assert found.cause == ("Limit, Index Scan using idx_balances_user_created on balances → Seq Scan on balances; "
                           "shared blocks 4 → 1,471")


def test_a_changed_signature_is_a_regression_and_the_same_one_is_not() -> None:
    """Another plan regresses even with the same blocks and time; the same plan with the same counters is "same"."""
    assert _texts(_case(), _case(signature=SEQ)) == [("Index Scan using idx_balances_user_created on balances → "
                                                      "Sort, Seq Scan on balances", True)]
    same = compare_case_counters(_case(), _case(ms=9.9))
    assert (same.changes, same.notes, same.verdict, same.regression) == ((), (), "same", False)


@pytest.mark.parametrize(("after", "expected"), [
    (109, []),  # +9%: within the margin, not even shown
    (110, []),  # exactly at the threshold is not beyond it
    (111, [("shared blocks 100 → 111", True)]),  # +11%
    (91, []),  # -9%
    (90, []),  # exactly at the threshold, downwards
    (89, [("shared blocks 100 → 89", False)]),  # -11%: a change, never a regression
])
def test_shared_blocks_regress_only_beyond_the_threshold(after: int, expected: list[tuple[str, bool]]) -> None:
    """At 10%: 100 → 109 or 110 blocks is nothing, 100 → 111 a regression, 100 → 89 a change."""
    assert _texts(_case(hit=90, read=10), _case(hit=after - 5, read=5)) == expected


def test_the_blocks_threshold_is_the_callers() -> None:
    """At 20%, +11% is nothing and +21% a regression; at 0%, one block more is a regression."""
    assert _texts(_case(hit=100), _case(hit=111), blocks_pct=20.0) == []
    assert _texts(_case(hit=100), _case(hit=121), blocks_pct=20.0) == [("shared blocks 100 → 121", True)]
    assert _texts(_case(hit=100), _case(hit=101), blocks_pct=0.0) == [("shared blocks 100 → 101", True)]


def test_exactly_at_the_threshold_is_exact_whatever_floating_point_says() -> None:
    """At 15%, 100 → 115 blocks is at the threshold, not beyond it (100 x 1.15 is 114.99999999999999 in floating
    point); 116 is beyond; 85 is at it downwards."""
    assert _texts(_case(hit=100), _case(hit=115), blocks_pct=15.0) == []
    assert _texts(_case(hit=100), _case(hit=116), blocks_pct=15.0) == [("shared blocks 100 → 116", True)]
    assert _texts(_case(hit=100), _case(hit=85), blocks_pct=15.0) == []
    assert _texts(_case(hit=1000), _case(hit=895)) == [("shared blocks 1,000 → 895", False)]  # -10.5%


def test_several_changes_of_one_group_share_a_cell_and_a_line() -> None:
    """Shared and temp blocks both up: one blocks cell and one cause with both; two mere changes make the line."""
    found = compare_case_counters(_case(hit=10, temp=0), _case(hit=20, temp=4))
    assert found.changed(("shared_blocks", "temp_blocks")) == "shared blocks 10 → 20; temp blocks 0 → 4"
    assert found.cause == "shared blocks 10 → 20; temp blocks 0 → 4"
    fewer = compare_case_counters(_case(hit=20, pg_trips=2.0), _case(hit=10, pg_trips=1.0))
    assert fewer.line().endswith(": shared blocks 20 → 10; PostgreSQL round trips 2 → 1; 0.39 → 0.39 ms")
    assert not fewer.regression and fewer.verdict == "changed"


def test_the_hit_read_split_alone_is_no_change() -> None:
    """The same blocks, read from disk in one run and found in the cache in the other: nothing to report."""
    assert _texts(_case(hit=4, read=0), _case(hit=0, read=4)) == []


def test_temp_blocks_from_none_to_some_are_a_regression() -> None:
    """A plan that starts spilling to disk regresses; one that stops spilling has changed."""
    assert _texts(_case(temp=0), _case(temp=8)) == [("temp blocks 0 → 8", True)]
    assert _texts(_case(temp=8), _case(temp=0)) == [("temp blocks 8 → 0", False)]


@pytest.mark.parametrize(("field", "words"), [
    ("pg_trips", "PostgreSQL round trips"), ("redis_trips", "Redis round trips"), ("commands", "Redis commands")])
def test_an_added_round_trip_or_command_is_a_regression_and_a_removed_one_is_not(field: str, words: str) -> None:
    """One more per call regresses; one fewer is a change; the same count is nothing."""
    assert (f"{words} 1 → 2", True) in _texts(_case(**{field: 1.0}), _case(**{field: 2.0}))  # type: ignore[arg-type]
    assert (f"{words} 2 → 1", False) in _texts(_case(**{field: 2.0}), _case(**{field: 1.0}))  # type: ignore[arg-type]
    assert _texts(_case(**{field: 2.0}), _case(**{field: 2.0})) == []  # type: ignore[arg-type]


def test_one_more_round_trip_in_three_calls_is_a_regression_too() -> None:
    """Traffic is averaged over the counted calls: an extra round trip on one call of three shows as 1 → 1.33."""
    assert _texts(_case(pg_trips=1.0), _case(pg_trips=4 / 3)) == [("PostgreSQL round trips 1 → 1.33", True)]


def test_rows_and_bytes_are_shown_and_never_judged() -> None:
    """Other rows show at any change; bytes only beyond the threshold (an id one digit longer is not news)."""
    assert _texts(_case(rows=20), _case(rows=40)) == [("rows 20 → 40", False)]
    assert _texts(_case(pg_received=481.33), _case(pg_received=482.0)) == []
    assert _texts(_case(pg_received=474), _case(pg_received=4740)) == [("PostgreSQL bytes received 474 → 4,740",
                                                                        False)]


def test_a_plan_on_one_side_only_is_no_counter_regression() -> None:
    """No plan to compare: said, and not a regression; what both sides have (traffic) is still compared."""
    found = compare_case_counters(_case(signature=None), _case(pg_trips=2.0))
    assert found.notes == ("no plan to compare (only the current run has one)",)
    assert [(c.counter, c.regression) for c in found.changes] == [("pg_round_trips", True)]
    gone = compare_case_counters(_case(), _case(signature=None))
    assert gone.notes == ("no plan to compare (only the baseline has one)",) and not gone.regression


def test_no_plan_on_either_side_needs_no_note() -> None:
    """A warm read has no plan in either run: nothing to say about plans."""
    found = compare_case_counters(_case(signature=None), _case(signature=None))
    assert (found.notes, found.changes, found.verdict) == ((), (), "same")


def test_a_baseline_summarised_before_version_4_says_so_and_traffic_still_counts() -> None:
    """Plans without counters (summary version 3): the plan is not compared, the note says how to fix it, and an
    added round trip still regresses."""
    found = compare_case_counters(_case(counted=False), _case(signature=SEQ, pg_trips=2.0))
    assert found.notes == ("no plan counters in the baseline (summarised before summary version 4: "
                           "balance-bench summarise RUN_DIR rewrites it)",)
    assert [c.counter for c in found.changes] == ["pg_round_trips"]


def test_a_current_run_summarised_before_version_4_says_so_too() -> None:
    """The other way round: the current run's plan has no counters, the baseline's has; both notes name their side
    when neither has counters, and a missing plan and missing traffic are said together."""
    found = compare_case_counters(_case(), _case(counted=False))
    assert found.notes == ("no plan counters in the current run (summarised before summary version 4: "
                           "balance-bench summarise RUN_DIR rewrites it)",) and found.changes == ()
    both = compare_case_counters(_case(counted=False), _case(counted=False))
    assert [note.split(" (")[0] for note in both.notes] == ["no plan counters in the baseline",
                                                             "no plan counters in the current run"]
    assert compare_case_counters(_case(signature=None, traffic=False), _case()).line().endswith(
        ": no plan to compare (only the current run has one); no traffic to compare; 0.39 → 0.39 ms")


def test_a_case_without_traffic_says_so() -> None:
    """A run made before traffic was counted: its traffic is not compared, and the note says so."""
    found = compare_case_counters(_case(traffic=False), _case(pg_trips=5.0))
    assert found.notes == ("no traffic to compare",) and found.changes == ()


def _run(path: Path, cases: list[CaseResult]) -> Run:
    return Run(path=path, summary=Summary(environment={}, design=Design(2, 0, 1.0), cases=cases), _raw={})


def test_reference_cases_are_never_compared(tmp_path: Path) -> None:
    """A reference case with every counter changed is not among the comparisons; the read beside it is."""
    baseline = _run(tmp_path / "a", [_case(REFERENCE), _case()])
    current = _run(tmp_path / "b", [_case(REFERENCE, signature=SEQ, pg_trips=3.0), _case(signature=SEQ)])
    found = compare_counters(current, baseline)
    assert [c.coords for c in found] == [READ] and counter_regressions(found) == found


def test_cases_are_matched_by_coordinates_in_the_current_runs_order(tmp_path: Path) -> None:
    """Only cases in both runs, in the current run's order; the blocks threshold reaches every comparison."""
    other = READ.with_(param_kind="whale")
    only_now = READ.with_(migration="without_012")
    baseline = _run(tmp_path / "a", [_case(other, hit=100), _case(hit=100)])
    current = _run(tmp_path / "b", [_case(hit=115), _case(only_now), _case(other, hit=115)])
    assert [c.coords for c in compare_counters(current, baseline)] == [READ, other]
    assert counter_regressions(compare_counters(current, baseline, blocks_pct=20.0)) == []
    assert len(counter_regressions(compare_counters(current, baseline))) == 2


def test_every_counter_of_a_case_has_a_value_or_none() -> None:
    """counter_values names every counter; a bare case (no plan, no traffic) has none of them."""
    values = counter_values(_case(hit=3, read=2, temp=1, rows=7, commands=2.0, redis_trips=1.0))
    assert list(values) == list(COUNTERS)
    assert (values["signature"], values["shared_blocks"], values["shared_hit"], values["shared_read"],
            values["temp_blocks"], values["rows"]) == (INDEXED, 5.0, 3.0, 2.0, 1.0, 7.0)
    assert (values["pg_round_trips"], values["pg_bytes_sent"], values["pg_bytes_received"], values["redis_round_trips"],
            values["redis_commands"], values["redis_bytes_sent"], values["redis_bytes_received"]) == (
        1.0, 51.0, 474.0, 1.0, 2.0, 43.0, 30.0)
    bare = counter_values(_case(signature=None, traffic=False))
    assert set(bare.values()) == {None}
    unprinted = counter_values(_case(hit=None, read=None))
    assert (unprinted["signature"], unprinted["shared_blocks"], unprinted["shared_hit"]) == (INDEXED, None, None)
    assert all(type(v) is float for k, v in values.items() if k != "signature")


@pytest.mark.parametrize(("value", "text"), [(1471.0, "1,471"), (4.0, "4"), (4 / 3, "1.33"), (None, "—"),
                                             ("Seq Scan on t", "Seq Scan on t")])
def test_counts_read_as_counts(value: float | str | None, text: str) -> None:
    """Whole counts with thousands separators, averages with two decimals, unknown as a dash."""
    assert count_text(value) == text


def test_the_table_lists_changed_cases_regressions_first_in_at_most_seven_columns(tmp_path: Path) -> None:
    """Unchanged cases are left out; a regression comes before a mere change; each group of counters has its cell."""
    changed, regressed, same = READ.with_(param_kind="whale"), READ, READ.with_(projection="legacy")
    baseline = _run(tmp_path / "a", [_case(changed, rows=20), _case(regressed), _case(same)])
    current = _run(tmp_path / "b", [_case(changed, rows=30), _case(regressed, signature=SEQ, hit=40, pg_trips=2.0),
                                    _case(same)])
    frame = counters_frame(compare_counters(current, baseline))
    assert tuple(frame.columns) == COUNTER_COLUMNS and len(COUNTER_COLUMNS) <= 7
    assert list(frame["case"]) == [regressed.label, changed.label]
    first = frame.iloc[0]
    assert tuple(first[c] for c in ("plan", "blocks", "round trips, commands", "rows, bytes", "counters")) == (
        "Index Scan using idx_balances_user_created on balances → Sort, Seq Scan on balances", "shared blocks 4 → 40",
        "PostgreSQL round trips 1 → 2", "", "regression")
    assert (frame.iloc[1]["rows, bytes"], frame.iloc[1]["counters"], frame.iloc[1]["time"]) == (
        "rows 20 → 30", "changed", "0.39 → 0.39 ms")


def test_a_note_alone_puts_a_case_in_the_table() -> None:
    """A case whose plan exists on one side only is listed, "same" with its note; with nothing to list the table
    is empty but keeps its columns."""
    frame = counters_frame([compare_case_counters(_case(signature=None), _case())])
    assert list(frame["counters"]) == ["same; no plan to compare (only the current run has one)"]
    empty = counters_frame([compare_case_counters(_case(), _case())])
    assert empty.empty and tuple(empty.columns) == COUNTER_COLUMNS


def test_a_regression_line_without_a_regression_tells_the_changes_or_notes() -> None:
    """line() names the regressed counters when any, else the changes, else the notes, else that nothing moved."""
    assert compare_case_counters(_case(rows=1), _case(rows=2)).line().endswith(": rows 1 → 2; 0.39 → 0.39 ms")
    assert compare_case_counters(_case(traffic=False), _case()).line().endswith(": no traffic to compare; 0.39 → "
                                                                                 "0.39 ms")
    assert compare_case_counters(_case(), _case()).line().endswith(": counters unchanged; 0.39 → 0.39 ms")
    assert replace(compare_case_counters(_case(), _case(signature=SEQ)), notes=("x",)).line().count("→") == 2
