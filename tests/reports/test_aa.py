"""The A/A self-check: two runs of the same code raise no false alarm, and the check says what it could resolve."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from balance_bench.coordinates import Kind
from balance_bench.reports.aa import AACase, AAResult, aa_result, write_aa
from balance_bench.reports.runs import read_run
from tests.conftest import run_cli


def test_two_runs_of_the_same_code_raise_no_false_alarm(make_run: Callable[..., Path], tmp_path: Path) -> None:
    """Same distributions, different drift per trial: every case compared, none flagged, figures stated."""
    first, second = read_run(make_run(seed=11, drift=0.06)), read_run(make_run(seed=12, drift=0.06))
    result = aa_result(first, second, 10.0)
    assert len(result.cases) == len(first.summary.cases) and result.false_alarms == []
    assert result.trials == (6, 6)
    assert result.median_detectable_pct is not None and 10 < result.median_detectable_pct < 60  # 10% + the spread
    assert result.resolvable_pct is not None and result.resolvable_pct >= result.median_detectable_pct
    assert all(c.detectable_pct > 10 for c in result.cases if c.detectable_pct is not None)
    assert all(c.kind is not Kind.REFERENCE for c in result.gated)
    doc = json.loads(write_aa(tmp_path, result).read_text())
    assert doc["false_alarms"] == 0 and len(doc["cases"]) == len(result.cases)


def test_a_changed_second_run_is_flagged(make_run: Callable[..., Path]) -> None:
    """If the second run is really slower somewhere, the check flags exactly that: its gate is the real gate."""
    slow = lambda case: 1.6 if case.query == "debit" else 1.0  # noqa: E731
    result = aa_result(read_run(make_run(seed=11)), read_run(make_run(seed=12, slowdown=slow)), 10.0)
    assert {c.case.split()[1] for c in result.false_alarms} == {"debit"}


@pytest.mark.services
@pytest.mark.slow
def test_the_aa_command_runs_twice_and_reports(tmp_path: Path) -> None:
    """`balance-bench aa --quick` makes two runs, prints the table and summary line, and writes aa.json."""
    proc = run_cli("aa", "--quick", "--out", str(tmp_path), "--threshold", "50")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "false alarms at 50%" in proc.stdout and "detectable" in proc.stdout
    (directory,) = [p for p in tmp_path.iterdir() if p.name.endswith("-aa")]
    doc = json.loads((directory / "aa.json").read_text())
    assert doc["trials"] == [3, 3] and (directory / "b" / "report.html").exists()
    assert (proc.returncode == 1) == (doc["false_alarms"] > 0)


def test_the_aa_command_judges_two_existing_runs(make_run: Callable[..., Path], tmp_path: Path) -> None:
    """`aa --runs A B` judges runs made already: full case labels in the table, exit 1 exactly on a false alarm."""
    wide = {**os.environ, "COLUMNS": "250"}  # rich wraps a table to the terminal: keep each label on one line
    same = run_cli("aa", "--runs", str(make_run(seed=11)), str(make_run(seed=12)), "--threshold", "10", env=wide)
    assert same.returncode == 0, same.stderr[-2000:]
    assert "[warm, with_012, optimized" in same.stdout and "false alarms at 10%: 0 of" in same.stdout
    slow = lambda case: 1.6 if case.query == "debit" else 1.0  # noqa: E731
    changed = run_cli("aa", "--runs", str(make_run(seed=13)), str(make_run(seed=14, slowdown=slow)), env=wide)
    assert changed.returncode == 1 and "FALSE ALARM" in changed.stdout
    missing = run_cli("aa", "--runs", str(tmp_path / "nope"), str(tmp_path / "nope2"))
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1


def test_every_figure_of_the_check_on_runs_whose_numbers_are_known(tmp_path: Path) -> None:
    """A write 50% slower against an unmoved floor, flat trials: each case's figures, the summary and aa.json."""
    from balance_bench.coordinates import CacheState, Coordinates, Migration
    from tests.reports.conftest import trial_run

    credit = Coordinates(Kind.WRITE, "credit", CacheState.INVALIDATE, Migration.WITH_012, "tiny", "optimized", "x")
    floor = Coordinates(Kind.REFERENCE, "raw_pg_select_1", CacheState.RAW, Migration.WITH_012, "tiny", "optimized",
                        "balance")
    first = trial_run(tmp_path / "a", {credit: {1: 1.0, 2: 1.0}, floor: {1: 0.05, 2: 0.05}})
    second = trial_run(tmp_path / "b", {credit: {1: 1.5, 2: 1.5}, floor: {1: 0.05, 2: 0.05}})
    result = aa_result(first, second, 10.0)
    assert (result.first, result.second, result.threshold_pct, result.trials) == (
        str(tmp_path / "a"), str(tmp_path / "b"), 10.0, (2, 2))
    write, ref = result.cases
    assert (write.case, write.kind, write.p_value, write.gate_p, write.flagged) == (
        credit.label, Kind.WRITE, 0.0, 0.0, True)
    assert write.detectable_pct == pytest.approx(10.0)  # no spread: the gate catches anything beyond its threshold
    assert write.change_pct == pytest.approx(50.0) and write.floor_change_pct == pytest.approx(50.0)
    assert (ref.kind, ref.p_value, ref.gate_p, ref.floor_change_pct, ref.flagged) == (
        Kind.REFERENCE, 1.0, 1.0, None, False)
    assert ref.change_pct == pytest.approx(0.0)
    text = write_aa(tmp_path, result).read_text(encoding="utf-8")
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=1)
    assert list(doc) == ["first", "second", "threshold_pct", "trials", "cases", "false_alarms",
                         "median_abs_change_pct", "median_detectable_pct", "resolvable_pct"]
    assert doc["false_alarms"] == 1 and doc["median_abs_change_pct"] == pytest.approx(50.0)
    assert (doc["median_detectable_pct"], doc["resolvable_pct"]) == (pytest.approx(10.0), pytest.approx(10.0))
    assert doc["cases"][0] == {"case": credit.label, "kind": "write", "change_pct": pytest.approx(50.0),
                               "floor_change_pct": pytest.approx(50.0), "p_value": 0.0, "gate_p": 0.0,
                               "detectable_pct": pytest.approx(10.0), "flagged": True}


def test_a_same_commit_shift_just_over_the_threshold_is_no_false_alarm(tmp_path: Path) -> None:
    """Issue 10's A/A pair: 20 trials a side, a write truly +10.5% between the runs against an unmoved floor, 1%
    spread. The old gate (two-sided p < 0.01 and > 10%) raised a false alarm here; this one is not shown slower by
    MORE than 10%, while the detectable slowdown it states at 10% sits just above 10%."""
    from balance_bench.coordinates import CacheState, Coordinates, Migration
    from tests.reports.conftest import trial_run

    credit = Coordinates(Kind.WRITE, "credit", CacheState.INVALIDATE, Migration.WITH_012, "tiny", "optimized", "x")
    floor = Coordinates(Kind.REFERENCE, "raw_pg_select_1", CacheState.RAW, Migration.WITH_012, "tiny", "optimized",
                        "balance")
    wobble = [math.exp(0.01 * ((i * 7 % 20) - 9.5) / 5.77) for i in range(20)]  # logs spread ~1%, mean 0
    floors = dict.fromkeys(range(1, 21), 0.05)
    first = trial_run(tmp_path / "a", {credit: dict(enumerate(wobble, 1)), floor: floors})
    second = trial_run(tmp_path / "b", {credit: {t: 1.105 * w for t, w in enumerate(reversed(wobble), 1)},
                                        floor: floors})
    (write, _) = aa_result(first, second, 10.0).cases
    assert write.floor_change_pct == pytest.approx(10.5) and write.p_value is not None and write.p_value < 0.01
    assert write.gate_p is not None and write.gate_p > 0.01 and not write.flagged
    assert write.detectable_pct is not None and 10.0 < write.detectable_pct < 13.0
    slower = trial_run(tmp_path / "c", {credit: {t: 1.3 * w for t, w in enumerate(wobble, 1)}, floor: floors})
    assert aa_result(first, slower, 10.0).cases[0].flagged


def _case(name: str, kind: Kind, change: float, floor: float | None, detectable: float | None,
          flagged: bool = False) -> AACase:
    return AACase(case=name, kind=kind, change_pct=change, floor_change_pct=floor, p_value=0.5, gate_p=0.5,
                  detectable_pct=detectable, flagged=flagged)


def test_the_summary_figures_of_cases_whose_numbers_are_given() -> None:
    """Against the floor where measured, plainly otherwise, reference cases left out: |-8|, |-3|, |2| -> 3; the
    detectable median of 4 and 6 (none left out) is 5; twenty detectable 1..20 resolve at the 19th."""
    cases = (_case("a", Kind.READ, -8.0, None, 4.0), _case("b", Kind.WRITE, 5.0, -3.0, None, flagged=True),
             _case("c", Kind.READ, 20.0, 2.0, 6.0), _case("floor", Kind.REFERENCE, 100.0, None, 90.0, flagged=True))
    result = AAResult(first="a", second="b", threshold_pct=10.0, trials=(3, 3), cases=cases)
    assert [c.case for c in result.gated] == ["a", "b", "c"]
    assert [c.case for c in result.false_alarms] == ["b", "floor"]
    assert result.median_abs_change_pct == 3.0 and result.median_detectable_pct == 5.0
    assert result.resolvable_pct == 6.0
    twenty = tuple(_case(str(d), Kind.READ, 0.0, None, float(d)) for d in (7, 3, 20, 1, 15, 2, 19, 4, 5, 6, 8, 9,
                                                                           10, 11, 12, 13, 14, 16, 17, 18))
    assert AAResult("a", "b", 10.0, (3, 3), twenty).resolvable_pct == 19.0
    assert AAResult("a", "b", 10.0, (3, 3), twenty[:1]).resolvable_pct == 7.0


def test_with_nothing_gated_the_summary_figures_are_none() -> None:
    """Only reference cases, or none at all: no median, no detectable size, nothing resolvable."""
    only_floor = (_case("floor", Kind.REFERENCE, 5.0, None, 3.0),)
    for cases in [(), only_floor]:
        result = AAResult("a", "b", 10.0, (1, 1), cases)
        assert (result.median_abs_change_pct, result.median_detectable_pct, result.resolvable_pct) == (None, None, None)
    undetectable = AAResult("a", "b", 10.0, (1, 1), (_case("a", Kind.READ, 5.0, None, None),))
    assert (undetectable.median_detectable_pct, undetectable.resolvable_pct) == (None, None)
    assert undetectable.median_abs_change_pct == 5.0
