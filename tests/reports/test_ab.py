"""The in-run A/B judge: within-trial ratios, a regression only beyond the threshold, and its documents."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.reports.ab import (
    AB_FILE,
    AB_FORMAT,
    AB_MD_FILE,
    REGRESSION,
    ABCase,
    ABResult,
    ab_case,
    ab_markdown,
    judge_ab,
    ordered_cases,
    write_ab,
)
from balance_bench.reports.counter_gate import CounterChange, CounterComparison
from balance_bench.reports.time_gate import FASTER, NO_CHANGE, NOT_TESTED, SLOWER
from balance_bench.statistics import Estimate

from .conftest import trial_run

COORDS = Coordinates(Kind.READ, "find_by_id", CacheState.NOCACHE, Migration.WITH_012, "small", OPTIMIZED, "balance")
DRIFT = [1.0, 1.4, 0.8, 1.9, 1.1, 0.7, 1.6, 1.2, 0.9, 1.3]
"""The machine's state per trial: both sides of a trial move together by up to 2.7x."""


def _sides(ratio: float, wobble: float = 0.01) -> tuple[dict[int, float], dict[int, float]]:
    """Baseline and candidate per trial: the drift shared, the candidate ``ratio`` times the baseline (± wobble)."""
    baseline = {t: 0.4 * d for t, d in enumerate(DRIFT, start=1)}
    candidate = {t: v * ratio * math.exp(wobble * (-1) ** t * (t % 3)) for t, v in baseline.items()}
    return baseline, candidate


def _case(ratio: float, threshold: float = 5.0, wobble: float = 0.01) -> ABCase:
    a, b = _sides(ratio, wobble)
    return ab_case(COORDS, a, b, 0.4, 0.4 * ratio, threshold)


def test_a_slowdown_beyond_the_threshold_is_a_regression_despite_drift_across_trials() -> None:
    """+20% in every trial, while the trials themselves drift 2.7x: the within-trial ratio sees the 20%."""
    case = _case(1.20)
    assert case.regression and case.verdict == REGRESSION
    assert case.ratio is not None and case.ratio.low is not None and case.ratio.low > 1.15
    assert case.change_pct == pytest.approx(20.0, abs=1.0)


def test_a_slowdown_within_the_threshold_is_slower_but_no_regression() -> None:
    """+3% shown beyond doubt is slower, not a regression at 5%; the same at a 0.5% threshold is one."""
    assert not _case(1.03).regression and _case(1.03).verdict == SLOWER
    assert _case(1.03, threshold=0.5).regression


def test_the_same_code_on_both_sides_is_no_change_and_faster_is_faster() -> None:
    """Ratios scattered around 1 are no significant change; a clear speed-up is faster, never a regression."""
    assert _case(1.0, wobble=0.03).verdict == NO_CHANGE
    assert _case(0.8).verdict == FASTER and not _case(0.8).regression


def test_one_trial_is_not_tested_and_not_a_regression() -> None:
    """One shared trial gives a ratio but no interval, no test and no regression, however large."""
    case = ab_case(COORDS, {1: 1.0}, {1: 3.0}, 1.0, 3.0, 5.0)
    assert case.verdict == NOT_TESTED and not case.regression and case.detectable_pct is None
    assert case.interval_text() == "+200.0%"


def test_the_detectable_slowdown_lies_above_the_threshold_and_grows_with_spread() -> None:
    tight, loose = _case(1.0, wobble=0.005), _case(1.0, wobble=0.05)
    assert tight.detectable_pct is not None and loose.detectable_pct is not None
    assert 5.0 < tight.detectable_pct < loose.detectable_pct


def _result(cases: tuple[ABCase, ...], counters: tuple[CounterComparison, ...] = ()) -> ABResult:
    sides = ({"side": "a", "role": "baseline", "model": "checkout", "settings": {}, "postgres": "embedded"},
             {"side": "b", "role": "candidate", "model": "checkout", "settings": {"work_mem": "1MB"},
              "postgres": "embedded"})
    return ABResult(directory="/tmp/ab", threshold_pct=5.0, blocks_pct=10.0, sides=sides, trials=10, cases=cases,
                    counters=counters)


def _plan_change(coords: Coordinates) -> CounterComparison:
    change = CounterChange("signature", "Index Scan using balances_pkey on balances", "Seq Scan on balances", True)
    return CounterComparison(coords, 0.4, 6.6, (change,), ())


def test_the_result_fails_on_a_time_or_a_counter_regression_and_not_otherwise() -> None:
    quiet = _result((_case(1.0, wobble=0.03), _case(1.02)))
    assert not quiet.failed and quiet.regressions == [] and quiet.counter_regressions == []
    assert _result((_case(1.2),)).failed
    other = COORDS.with_(query="find_by_address", param_kind="address")
    counted = _result((_case(1.0, wobble=0.03),), (_plan_change(other),))
    assert counted.failed and [c.coords for c in counted.counter_regressions] == [other]


def test_the_summary_figures_are_medians_over_the_cases() -> None:
    """Median distance and detectable slowdown across cases; 90% resolve: the case at index int(0.9 n)."""
    cases = tuple(_case(r, wobble=w) for r, w in ((1.0, 0.01), (1.02, 0.02), (1.04, 0.04)))
    result = _result(cases)
    changes = sorted(abs(c.change_pct or 0.0) for c in cases)
    detectable = sorted(c.detectable_pct or 0.0 for c in cases)
    assert result.median_abs_change_pct == pytest.approx(changes[1])
    assert result.median_detectable_pct == pytest.approx(detectable[1])
    assert result.resolvable_pct == pytest.approx(detectable[2])
    assert "0 in time and 0 in counters, of 3 cases" in result.summary_line()


def test_the_cases_are_ordered_regressions_first_then_largest_change() -> None:
    small, big, regression = _case(1.01), _case(1.04), _case(1.3)
    assert ordered_cases(_result((small, regression, big))) == [regression, big, small]


def test_ab_json_names_its_format_the_sides_and_every_regression() -> None:
    result = _result((_case(1.2), _case(1.0, wobble=0.03)), (_plan_change(COORDS),))
    doc = json.loads(result.to_json())
    assert (doc["format"], doc["version"], doc["failed"]) == (AB_FORMAT, 1, True)
    assert doc["sides"][1]["settings"] == {"work_mem": "1MB"}
    assert [r["evidence"] for r in doc["regressions"]] == ["time", "counters"]
    assert doc["summary"]["time_regressions"] == 1 and len(doc["cases"]) == 2


def test_ab_markdown_answers_first_and_stays_within_forty_lines() -> None:
    many = tuple(_case(1.2 + k / 100) for k in range(60))
    text = ab_markdown(_result(many))
    lines = text.splitlines()
    assert lines[0] == "# A/B: ❌ regression" and len(lines) == 40
    assert lines[-1] == "… and 30 more in ab.json"  # 9 lines before the table's rows, one for this line
    exactly = ab_markdown(_result(many[:30])).splitlines()
    assert len(exactly) == 39 and "more in" not in exactly[-1]
    assert "work_mem=1MB" in text
    assert ab_markdown(_result((_case(1.0, wobble=0.03),))).splitlines()[0] == "# A/B: ✅ no regression"


def _fixed(ratio: Estimate | None, gate_p: float | None = 0.0012, detectable: float | None = 7.25) -> ABCase:
    """A case with known figures, for the exact text of every document."""
    return ABCase(coords=COORDS, baseline_ms=0.4, candidate_ms=0.48, ratio=ratio, p_value=0.0004, gate_p=gate_p,
                  detectable_pct=detectable, threshold_pct=5.0)


def test_a_cases_interval_and_line_read_exactly_so() -> None:
    label = "small find_by_id [nocache, with_012, optimized, balance]"
    case = _fixed(Estimate(1.2, 1.1, 1.35, 10))
    assert case.interval_text() == "+20.0% [+10.0, +35.0]"
    assert case.line() == (f"{label}: 0.4 → 0.48 ms, +20.0% [+10.0, +35.0] over 10 paired trials; gate p=0.0012 "
                           "for slower by more than 5%")
    assert _fixed(Estimate(1.2, None, None, 1), gate_p=None).line() == (
        f"{label}: 0.4 → 0.48 ms, +20.0% over 1 paired trials; gate p=n/a for slower by more than 5%")
    assert _fixed(Estimate(1.2, 1.1, None, 3)).interval_text() == "+20.0%"
    assert _fixed(None).interval_text() == "—" and "— over 0 paired trials" in _fixed(None).line()
    assert case.short_label == "find_by_id nocache 012 balance"
    legacy = ABCase(COORDS.with_(projection="legacy", migration="without_012"), 1, 1, None, None, None, None, 5.0)
    assert legacy.short_label == "find_by_id nocache no 012 legacy balance"


def test_a_cases_record_holds_every_figure() -> None:
    assert _fixed(Estimate(1.2, 1.1, 1.35, 10)).as_dict() == {
        "case": "small find_by_id [nocache, with_012, optimized, balance]", "coordinates": COORDS.as_dict(),
        "baseline_ms": 0.4, "candidate_ms": 0.48, "change_pct": pytest.approx(20.0), "ratio": [1.2, 1.1, 1.35, 10],
        "p_value": 0.0004, "gate_p": 0.0012, "detectable_pct": 7.25, "verdict": REGRESSION}
    assert _fixed(None).as_dict()["ratio"] is None and _fixed(None).as_dict()["change_pct"] is None


def test_a_trial_missing_a_side_or_timed_at_zero_is_left_out_of_the_ratios() -> None:
    """Trial 7 has no candidate, trial 6 a zero on either side: the tests use the five trials with both sides."""
    a = dict.fromkeys(range(1, 8), 0.4)
    b = {t: 0.48 * (1 + 0.01 * (-1) ** t) for t in range(1, 6)}
    for zero_a, zero_b in ((0.0, 0.5), (0.5, 0.0)):
        case = ab_case(COORDS, {**a, 6: zero_a}, {**b, 6: zero_b}, 0.4, 0.48, 5.0)
        assert case.ratio is not None and case.ratio.trials == 5
        assert case.p_value is not None and case.gate_p is not None and case.detectable_pct is not None
        assert case.regression


def test_the_summary_line_reads_exactly_so() -> None:
    cases = (_fixed(Estimate(1.2, 1.1, 1.35, 10), detectable=7.25), _fixed(Estimate(0.99, 0.98, 1.0, 10),
                                                                           gate_p=0.9, detectable=9.5))
    assert _result(cases).summary_line() == (
        "regressions at 5%: 1 in time and 0 in counters, of 2 cases; median distance between the sides 10.5%; "
        "median detectable slowdown 8.4%; 90% of cases resolve a slowdown of 9.5% or more")
    empty = _result(())
    assert (empty.median_abs_change_pct, empty.median_detectable_pct, empty.resolvable_pct) == (None, None, None)
    assert "the sides —; median detectable slowdown —; 90% of cases resolve a slowdown of — or more" in \
        empty.summary_line()


def test_ab_json_holds_the_design_and_the_figures() -> None:
    result = _result((_fixed(Estimate(1.2, 1.1, 1.35, 10)),), (_plan_change(COORDS),))
    doc = json.loads(result.to_json())
    assert {k: doc[k] for k in ("directory", "threshold_pct", "blocks_threshold_pct", "alpha", "power", "trials")} \
        == {"directory": "/tmp/ab", "threshold_pct": 5.0, "blocks_threshold_pct": 10.0, "alpha": 0.01, "power": 0.8,
            "trials": 10}
    assert doc["summary"] == {"cases": 1, "time_regressions": 1, "counter_regressions": 1,
                              "median_abs_change_pct": pytest.approx(20.0), "median_detectable_pct": 7.25,
                              "resolvable_pct": 7.25}
    assert doc["regressions"] == [
        {"case": COORDS.label, "evidence": "time", "line": result.cases[0].line()},
        {"case": COORDS.label, "evidence": "counters", "line": result.counters[0].line()}]
    assert doc["cases"] == [result.cases[0].as_dict() | {"change_pct": pytest.approx(20.0)}]
    assert doc["sides"][0] == {"side": "a", "role": "baseline", "model": "checkout", "settings": {},
                               "postgres": "embedded"}


def test_ab_markdown_reads_exactly_so() -> None:
    result = _result((_fixed(Estimate(1.2, 1.1, 1.35, 10)),), (_plan_change(COORDS),))
    assert ab_markdown(result) == (
        "# A/B: ❌ regression\n\n"
        f"{result.summary_line()}.\n\n"
        "- baseline: checkout on embedded\n"
        "- candidate: checkout, settings work_mem=1MB on embedded\n\n"
        "| evidence | case | change | time |\n|---|---|---|---|\n"
        f"| time | {COORDS.label} | +20.0% [+10.0, +35.0] | 0.4 → 0.48 ms |\n"
        f"| counters | {COORDS.label} | {result.counters[0].cause} | 0.4 → 6.6 ms |\n")
    two = ABResult("/tmp/ab", 5.0, 10.0, ({"role": "baseline", "model": "m", "postgres": "p",
                                           "settings": {"work_mem": "1MB", "jit": "off"}},), 0, (), ())
    assert "- baseline: m, settings work_mem=1MB, jit=off on p" in ab_markdown(two).splitlines()
    sparse = ABResult("/tmp/ab", 5.0, 10.0, ({"side": "a"}, {}), 0, (), ())
    assert ab_markdown(sparse).splitlines()[4:6] == ["- a: ? on ?", "- ?: ? on ?"]


def test_judge_ab_pairs_the_sides_by_coordinates_and_reads_what_each_side_was(tmp_path: Path) -> None:
    """A case only one side has is left out; the ratio is per trial; the sides come from each run's environment."""
    other = COORDS.with_(query="find_by_address", param_kind="address")
    only_b = COORDS.with_(query="total_balance", param_kind="system")
    a_values = {t: 0.4 * d for t, d in enumerate(DRIFT, start=1)}
    baseline = trial_run(tmp_path / "a", {COORDS: a_values, other: a_values})
    candidate = trial_run(tmp_path / "b", {COORDS: {t: v * 1.25 for t, v in a_values.items()}, only_b: a_values})
    side_b = {"side": "b", "role": "candidate", "model": "git main (abc)", "settings": {}, "postgres": "embedded"}
    candidate = replace(candidate, summary=replace(candidate.summary, environment={"ab_side": side_b}))
    result = judge_ab(tmp_path, baseline, candidate, threshold_pct=5.0, blocks_pct=10.0)
    assert [c.coords for c in result.cases] == [COORDS]
    assert result.cases[0].ratio is not None and result.cases[0].ratio.value == pytest.approx(1.25)
    assert result.cases[0].regression and result.trials == len(DRIFT)
    assert result.sides == ({"side": "a"}, side_b)
    assert result.directory == str(tmp_path) and (result.threshold_pct, result.blocks_pct) == (5.0, 10.0)
    assert [c.coords for c in result.counters] == [COORDS] and not result.counter_regressions
    assert judge_ab(tmp_path, baseline, candidate, threshold_pct=30.0).regressions == []
    assert (result.cases[0].baseline_ms, result.cases[0].candidate_ms) == (
        baseline.case(COORDS).median_ms, candidate.case(COORDS).median_ms)  # type: ignore[union-attr]
    assert judge_ab(tmp_path, baseline, trial_run(tmp_path / "c", {only_b: a_values})).trials == 0


def test_write_ab_writes_both_documents(tmp_path: Path) -> None:
    result = _result((_fixed(Estimate(1.2, 1.1, 1.35, 10)),))
    json_path, md_path = write_ab(tmp_path, result)
    assert (json_path.name, md_path.name) == (AB_FILE, AB_MD_FILE)
    assert json.loads(json_path.read_text(encoding="utf-8")) == json.loads(result.to_json())
    assert md_path.read_text(encoding="utf-8") == ab_markdown(result)


def test_a_case_without_a_ratio_sorts_as_no_change() -> None:
    unknown, slight = _fixed(None, gate_p=None), _fixed(Estimate(1.005, 1.0, 1.01, 10), gate_p=0.9)
    assert ordered_cases(_result((unknown, slight))) == [slight, unknown]
