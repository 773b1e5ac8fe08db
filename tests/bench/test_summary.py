"""The summarise stage: raw trial entries grouped into cases, per-trial medians by hand, plans analysed once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from balance_bench.bench.summary import summarise
from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.errors import BenchError
from balance_bench.results import BENCHMARKS_FILE, plan_file, read_summary

PLANS = Path(__file__).parents[1] / "plans" / "data" / "pg15"
COLD = Coordinates(Kind.READ, "find_by_user_id", CacheState.COLD, Migration.WITH_012, "tiny", "optimized", "whale")
FLOOR = Coordinates(Kind.REFERENCE, "raw_pg_find_by_id", CacheState.RAW, Migration.WITH_012, "tiny", "optimized",
                    "balance")


def _entry(coords: Coordinates, trial: int, ms: list[float], **extra: Any) -> dict[str, Any]:
    return {"name": f"test[{coords.id}-t{trial}]", "stats": {"data": [m / 1000 for m in ms]},
            "extra_info": {**coords.as_dict(), "trial": trial, "params": {"user_id": 3}, **extra}}


def _run(tmp_path: Path, entries: list[dict[str, Any]], with_plan: bool = True) -> Path:
    run = tmp_path / "run"
    (run / "plans").mkdir(parents=True)
    if with_plan:
        doc = {"format": "balance-bench-plan", "schema_version": 1, "case": COLD.as_dict(), "sql": "SELECT 1",
               "params": {}, "settings": {}, "plan": json.loads((PLANS / "nested_loop.json").read_text())}
        (run / plan_file(COLD)).write_text(json.dumps(doc), encoding="utf-8")
    document = {"benchmarks": entries, "balance_bench": {"environment": {"python": "3.11"},
                                                          "design": {"trials": 2, "order_seed": 5, "budget_s": 1.0}}}
    (run / BENCHMARKS_FILE).write_text(json.dumps(document), encoding="utf-8")
    return run


def test_trials_of_a_case_become_one_record_with_each_trial_median(tmp_path: Path) -> None:
    """Trial 1 [1, 2, 3] ms and trial 2 [4, 5, 6, 7] ms: medians 2 and 5.5, overall median 4 of 7 rounds."""
    run = _run(tmp_path, [
        _entry(COLD, 1, [3.0, 1.0, 2.0], cache_hits=0, cache_misses=5, plan_file=plan_file(COLD)),
        _entry(COLD, 2, [7.0, 4.0, 6.0, 5.0], cache_hits=0, cache_misses=6),
        {"name": "someone_elses_benchmark", "stats": {"data": [0.1]}, "extra_info": {}},
        _entry(FLOOR, 1, []),  # never ran: no data
    ])
    summary = read_summary(summarise(run))
    (case,) = summary.cases
    assert case.coords == COLD and case.rounds == 7 and case.trials == 2 and case.params == {"user_id": 3}
    assert case.trial_medians_ms == {1: pytest.approx(2.0), 2: pytest.approx(5.5)}
    assert case.median_ms == pytest.approx(4.0) and case.stats.max_ms == pytest.approx(7.0)
    assert (case.cache_hits, case.cache_misses) == (0, 11)
    assert summary.design.trials == 2 and summary.design.order_seed == 5


def test_traffic_counted_in_one_trial_is_the_cases_and_a_case_without_it_has_none(tmp_path: Path) -> None:
    """The traffic pass runs in the first trial a case runs in, whichever that is; its record reaches the summary."""
    counted = {"calls": 3, "postgres": {"round_trips": 1, "bytes_sent": 51, "bytes_received": 14800},
               "redis": {"round_trips": 3, "bytes_sent": 13829, "bytes_received": 30, "commands": 3}}
    run = _run(tmp_path, [_entry(COLD, 1, [1.0]), _entry(COLD, 2, [1.0], traffic=counted), _entry(FLOOR, 1, [0.1])])
    cold, floor = read_summary(summarise(run)).cases
    assert cold.traffic is not None and cold.traffic.as_dict() == counted
    assert floor.traffic is None


def _index_names(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["Index Name"]} if "Index Name" in node else set()
        return own.union(*(_index_names(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_index_names(v) for v in node))
    return set()


def test_plan_facts_are_analysed_once_and_kept(tmp_path: Path) -> None:
    """The plan's indexes (read from its JSON here, independently), node table and findings land in the summary."""
    run = _run(tmp_path, [_entry(COLD, 1, [1.0], plan_file=plan_file(COLD))])
    (case,) = read_summary(summarise(run)).cases
    raw = json.loads((PLANS / "nested_loop.json").read_text())
    assert case.plan is not None and set(case.plan.indexes_used) == _index_names(raw)
    assert len(case.plan.nodes) >= 3 and case.plan.nodes[0].depth == 0
    assert case.plan.execution_ms == raw[0]["Execution Time"]


def test_overhead_ratio_is_computed_within_each_trial(tmp_path: Path) -> None:
    """Model/raw 0.22/0.20 and 0.33/0.30 in two trials: 1.1 in both, over 200 pairs."""
    overhead = lambda m, r: {"model": "find_by_id (nocache)", "model_ms": m, "raw_ms": r, "pairs": 100}  # noqa: E731
    run = _run(tmp_path, [_entry(FLOOR, 1, [0.2], overhead=overhead(0.22, 0.20)),
                          _entry(FLOOR, 2, [0.3], overhead=overhead(0.33, 0.30))], with_plan=False)
    (case,) = read_summary(summarise(run)).cases
    assert case.overhead is not None and case.overhead.pairs == 200
    assert case.overhead.ratio.value == pytest.approx(1.1) and case.overhead.ratio.half_width == pytest.approx(0)


@pytest.mark.parametrize("damage", ["plan", "benchmarks", "environment", "empty"])
def test_unusable_artifacts_are_one_line_naming_the_file(tmp_path: Path, damage: str) -> None:
    """A plan that is not a plan, truncated JSON, a foreign JSON or no timed case: one BenchError line."""
    run = _run(tmp_path, [_entry(COLD, 1, [1.0], plan_file=plan_file(COLD))])
    target = run / BENCHMARKS_FILE
    if damage == "plan":
        target = run / plan_file(COLD)
        target.write_text(json.dumps({"hello": "world"}))
    elif damage == "benchmarks":
        target.write_text(target.read_text()[:100])
    elif damage == "environment":
        target.write_text(json.dumps({"benchmarks": []}))
    else:
        doc = json.loads(target.read_text())
        doc["benchmarks"] = []
        target.write_text(json.dumps(doc))
    with pytest.raises(BenchError) as info:
        summarise(run)
    assert "\n" not in str(info.value) and str(target) in str(info.value)
    assert not (run / "summary.json").exists()


def test_a_real_run_is_summarised_again_identically(real_run_dir: Path, tmp_path: Path) -> None:
    """Summarising a real run's raw artifacts again gives the summary the run wrote."""
    copy = tmp_path / "copy"
    shutil.copytree(real_run_dir, copy)
    before = (copy / "summary.json").read_text()
    summarise(copy)
    assert json.loads((copy / "summary.json").read_text()) == json.loads(before)


def test_plan_facts_copy_every_figure_of_the_analysis() -> None:
    """Each fact the report reads is the analyser's, field for field (SQL redacted, empty SQL as none)."""
    from balance_bench.bench.summary import plan_facts
    from balance_bench.plans.analysis import analyse
    from balance_bench.plans.parser import read_plan

    analysis = analyse(read_plan(PLANS / "initplan.json"), query="find_by_id")
    facts = plan_facts(analysis, "plans/x.json", "SELECT 1 -- postgresql://u:hunter2@db/x")
    assert (facts.file, facts.execution_ms, facts.planning_ms, facts.total_ms) == (
        "plans/x.json", analysis.execution_ms, analysis.planning_ms, analysis.total_ms)
    assert facts.sql is not None and "hunter2" not in facts.sql and facts.sql.startswith("SELECT 1 -- ")
    assert facts.planning_ms is not None and facts.total_ms is not None
    assert facts.node_types == tuple(sorted({n.node_type for n in analysis.nodes}))
    assert [(f.code, f.node, f.message) for f in facts.findings] == [
        (f.code, f.node, f.message) for f in analysis.findings]
    assert [tuple(vars(row).values()) for row in facts.nodes] == [
        (n.label, n.depth, n.subplan_name, n.exclusive_ms, n.actual_rows, n.plan_rows, n.loops, n.shared_hit,
         n.shared_read) for n in analysis.nodes]
    assert any(n.subplan_name for n in facts.nodes) and any(n.shared_hit for n in facts.nodes)
    assert plan_facts(analysis, "plans/x.json", "").sql is None and plan_facts(analysis, "f", None).sql is None
    spill = analyse(read_plan(PLANS / "sort_spill.json"), query="get_by_user")
    assert [(f.code, f.node, f.message) for f in plan_facts(spill, "f", None).findings] == [
        (f.code, f.node, f.message) for f in spill.findings] and any(f.node == "#1 Sort" for f in spill.findings)


def test_cases_come_in_the_matrixs_order_and_foreign_or_empty_entries_are_skipped(tmp_path: Path) -> None:
    """Entries without our coordinates, stats or data are not cases; a missing trial number is trial 1; cases
    follow the matrix's order whatever the file's, and a case the matrix lacks comes last."""
    from balance_bench.matrix import all_cases

    order = [c for c in all_cases(("tiny",)) if c in (COLD, FLOOR)]
    extra = COLD.with_(experiment="pagination", variant="keyset")
    untrialled = _entry(order[1], 1, [2.0, 4.0])
    del untrialled["extra_info"]["trial"]
    run = _run(tmp_path, [
        _entry(extra, 1, [1.0]), untrialled, _entry(order[0], 2, [1.0]),
        {"name": "no_extra_info", "stats": {"data": [0.1]}},
        {"name": "no_stats", "extra_info": {**COLD.as_dict(), "trial": 3}},
        {"name": "no_data", "stats": {}, "extra_info": {**COLD.as_dict(), "trial": 4}},
    ], with_plan=False)
    cases = read_summary(summarise(run)).cases
    assert [c.coords for c in cases] == [*order, extra]
    assert cases[0].trial_medians_ms == {2: pytest.approx(1.0)} and cases[1].trial_medians_ms == {1: pytest.approx(3.0)}


def test_overhead_names_its_model_and_counts_pairs_with_medians_across_trials(tmp_path: Path) -> None:
    """Model and raw medians are the medians of the per-trial figures; a record without model or pairs says ""/0."""
    named = {"model": "find_by_id (nocache)", "pairs": 100}
    run = _run(tmp_path, [_entry(FLOOR, t, [0.2], overhead={**named, "model_ms": m, "raw_ms": r})
                          for t, (m, r) in enumerate([(0.22, 0.20), (0.33, 0.30), (0.44, 0.40)], start=1)],
               with_plan=False)
    (case,) = read_summary(summarise(run)).cases
    assert case.overhead is not None
    assert (case.overhead.model, case.overhead.pairs) == ("find_by_id (nocache)", 300)
    assert (case.overhead.model_ms, case.overhead.raw_ms) == (pytest.approx(0.33), pytest.approx(0.30))
    bare = _run(tmp_path / "bare", [_entry(FLOOR, 1, [0.2], overhead={"model_ms": 0.22, "raw_ms": 0.2})],
                with_plan=False)
    (plain,) = read_summary(summarise(bare)).cases
    assert plain.overhead is not None and (plain.overhead.model, plain.overhead.pairs) == ("", 0)


def _document(run: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((run / BENCHMARKS_FILE).read_text(encoding="utf-8"))
    return document


def _rewrite(run: Path, document: Any) -> None:
    (run / BENCHMARKS_FILE).write_text(json.dumps(document), encoding="utf-8")


def test_cache_counters_sum_the_trials_that_counted_and_stay_none_when_none_did(tmp_path: Path) -> None:
    """Hits 0 then 4 (a trial without a count adds nothing) sum to 4; misses never counted stay none."""
    run = _run(tmp_path, [_entry(COLD, 1, [1.0], cache_hits=0), _entry(COLD, 2, [1.0]),
                          _entry(COLD, 3, [1.0], cache_hits=4, cache_misses=None)], with_plan=False)
    (case,) = read_summary(summarise(run)).cases
    assert (case.cache_hits, case.cache_misses) == (4, None)


def test_the_first_trial_that_names_a_plan_or_counts_traffic_is_the_cases(tmp_path: Path) -> None:
    """A plan file named in trial 2 (none in trial 1) is analysed; a later trial's other name and traffic are not
    read."""
    first = {"calls": 2, "postgres": {"round_trips": 1, "bytes_sent": 10, "bytes_received": 20},
             "redis": {"round_trips": 0, "bytes_sent": 0, "bytes_received": 0, "commands": 0}}
    later = {**first, "calls": 5}
    run = _run(tmp_path, [_entry(COLD, 1, [1.0]), _entry(COLD, 2, [1.0], plan_file=plan_file(COLD), traffic=first),
                          _entry(COLD, 3, [1.0], plan_file="plans/never-written.json", traffic=later)])
    (case,) = read_summary(summarise(run)).cases
    assert case.plan is not None and case.plan.file == plan_file(COLD) and case.plan.sql == "SELECT 1"
    assert case.traffic is not None and case.traffic.as_dict() == first


def test_damaged_traffic_in_the_benchmarks_names_the_file_and_the_case(tmp_path: Path) -> None:
    """Traffic recorded with no calls is refused naming benchmarks.json, the case and the field."""
    bad = {"calls": 0, "postgres": {"round_trips": 1, "bytes_sent": 1, "bytes_received": 1},
           "redis": {"round_trips": 0, "bytes_sent": 0, "bytes_received": 0, "commands": 0}}
    run = _run(tmp_path, [_entry(COLD, 1, [1.0], traffic=bad)], with_plan=False)
    with pytest.raises(BenchError) as info:
        summarise(run)
    assert str(info.value) == f"benchmarks.json: {COLD.id}.traffic.calls must be at least 1"
    assert not (run / "summary.json").exists()


def test_bad_coordinates_in_the_benchmarks_name_the_file_and_the_entry(tmp_path: Path) -> None:
    """An entry with an unknown cache state is refused naming benchmarks.json and the entry (? when unnamed)."""
    entry = _entry(COLD, 1, [1.0])
    entry["extra_info"]["cache"] = "lukewarm"
    run = _run(tmp_path, [entry], with_plan=False)
    with pytest.raises(BenchError) as info:
        summarise(run)
    assert str(info.value) == f"benchmarks.json: {entry['name']}: 'lukewarm' is not a valid CacheState"
    del entry["name"]
    run = _run(tmp_path / "unnamed", [entry], with_plan=False)
    with pytest.raises(BenchError) as info:
        summarise(run)
    assert str(info.value) == "benchmarks.json: ?: 'lukewarm' is not a valid CacheState"


def test_entries_with_null_extra_info_stats_or_params_are_handled(tmp_path: Path) -> None:
    """extra_info or stats of null are not cases; params of null are no params; a trial of null is trial 1."""
    entry = _entry(COLD, 1, [2.0])
    entry["extra_info"].update(params=None, trial=None)
    run = _run(tmp_path, [entry, {"name": "a", "stats": None, "extra_info": {**COLD.as_dict(), "trial": 2}},
                          {"name": "b", "stats": {"data": [0.1]}, "extra_info": None}], with_plan=False)
    (case,) = read_summary(summarise(run)).cases
    assert case.params == {} and case.trial_medians_ms == {1: pytest.approx(2.0)} and case.rounds == 1


def test_overhead_that_is_not_a_record_or_has_no_ratio_is_none(tmp_path: Path) -> None:
    """An overhead that is not an object is ignored; one whose raw time is 0 in every trial has no ratio: none."""
    run = _run(tmp_path, [_entry(FLOOR, 1, [0.2], overhead="0.22/0.20")], with_plan=False)
    assert read_summary(summarise(run)).cases[0].overhead is None
    zero = {"model": "m", "pairs": 5, "model_ms": 0.2, "raw_ms": 0.0}
    run = _run(tmp_path / "zero", [_entry(FLOOR, 1, [0.2], overhead=zero)], with_plan=False)
    assert read_summary(summarise(run)).cases[0].overhead is None


def test_overhead_pairs_and_medians_count_each_trial_once_in_trial_order(tmp_path: Path) -> None:
    """The model named is the first trial's; a trial recorded twice counts its last record once."""
    run = _run(tmp_path, [
        _entry(FLOOR, 1, [0.2], overhead={"model": "first", "pairs": 10, "model_ms": 0.4, "raw_ms": 0.2}),
        _entry(FLOOR, 2, [0.2], overhead={"model": "second", "pairs": 20, "model_ms": 0.6, "raw_ms": 0.3}),
        _entry(FLOOR, 2, [0.2], overhead={"model": "second", "pairs": 40, "model_ms": 0.8, "raw_ms": 0.4}),
    ], with_plan=False)
    (case,) = read_summary(summarise(run)).cases
    assert case.overhead is not None
    assert (case.overhead.model, case.overhead.pairs) == ("first", 50)
    assert (case.overhead.model_ms, case.overhead.raw_ms) == (pytest.approx(0.6), pytest.approx(0.3))
    assert case.overhead.ratio.value == pytest.approx(2.0) and case.overhead.ratio.trials == 2


def test_cases_of_several_scales_follow_the_matrix_of_those_scales(tmp_path: Path) -> None:
    """Scales in the order the file first names them, then the matrix's order within them."""
    small = COLD.with_(scale="small")
    run = _run(tmp_path, [_entry(COLD, 1, [1.0]), _entry(FLOOR, 1, [1.0]), _entry(small, 1, [1.0])],
               with_plan=False)
    from balance_bench.matrix import all_cases

    expected = [c for c in all_cases(("tiny", "small")) if c in (COLD, FLOOR, small)]
    assert [c.coords for c in read_summary(summarise(run)).cases] == expected


def test_a_run_without_a_design_record_is_one_trial_and_a_stated_one_is_read(tmp_path: Path) -> None:
    """No design: 1 trial, no seed, no budget, no order; trials 0 is read as 1; a recorded order is kept."""
    run = _run(tmp_path, [_entry(COLD, 1, [1.0])], with_plan=False)
    document = _document(run)
    del document["balance_bench"]["design"]
    _rewrite(run, document)
    design = read_summary(summarise(run)).design
    assert (design.trials, design.order_seed, design.budget_s, design.order) == (1, None, None, "")
    document["balance_bench"]["design"] = {"trials": 0, "order_seed": 0, "budget_s": 0.5}
    _rewrite(run, document)
    design = read_summary(summarise(run)).design
    assert (design.trials, design.order_seed, design.budget_s, design.order) == (1, 0, 0.5, "")
    document["balance_bench"]["design"]["order"] = "comparison blocks"
    _rewrite(run, document)
    assert read_summary(summarise(run)).design.order == "comparison blocks"


def test_the_environment_and_selected_experiments_reach_the_summary(tmp_path: Path) -> None:
    """The run's environment is the summary's; an experiment selected in the run's record is summarised."""
    run = _run(tmp_path, [_entry(COLD, 1, [1.0])], with_plan=False)
    summary = read_summary(summarise(run))
    assert summary.environment == {"python": "3.11"} and summary.experiments == []
    document = _document(run)
    document["balance_bench"]["experiments"] = {
        "selected": ["guide_table", "pagination"],
        "experiments": {"pagination": {"scales": {"tiny": {"with_012": {"check": "passed"}}}}}}
    _rewrite(run, document)
    (pagination,) = read_summary(summarise(run)).experiments  # a run of when guide_table was selectable summarises
    assert (pagination.name, pagination.scale, pagination.checks) == ("pagination", "tiny", {"with_012": "passed"})


@pytest.mark.parametrize(("document", "expected"), [
    ({"benchmarks": [], "balance_bench": {"environment": {}}}, "holds no timed case of the matrix"),
    ({"balance_bench": {"environment": {}}}, "holds no timed case of the matrix"),
    ({"benchmarks": [], "balance_bench": {"environment": []}},
     "has no balance-bench environment record (was it written by pytest bench/?)"),
    ({"benchmarks": [], "balance_bench": "x"}, "has no balance-bench environment record (was it written by pytest "
                                                "bench/?)"),
    ([], "has no balance-bench environment record (was it written by pytest bench/?)"),
])
def test_a_benchmarks_file_without_our_record_or_cases_says_which(tmp_path: Path, document: Any,
                                                                  expected: str) -> None:
    """No environment record, or no timed case: one line naming the file and what it lacks; nothing written."""
    run = _run(tmp_path, [], with_plan=False)
    _rewrite(run, document)
    with pytest.raises(BenchError) as info:
        summarise(run)
    assert str(info.value) == f"{run / BENCHMARKS_FILE}: {expected}"
    assert not (run / "summary.json").exists()


def test_a_missing_or_unreadable_benchmarks_file_says_what_to_do(tmp_path: Path) -> None:
    """No benchmarks.json: run the benchmarks first; bytes that are not UTF-8 or not JSON: not readable."""
    with pytest.raises(BenchError) as info:
        summarise(tmp_path)
    assert str(info.value) == (f"{tmp_path / BENCHMARKS_FILE}: no such file (run the benchmarks first: "
                               "balance-bench run, or pytest bench/)")
    (tmp_path / BENCHMARKS_FILE).write_bytes(b'{"benchmarks": "\xe9"}')
    with pytest.raises(BenchError) as info:
        summarise(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / BENCHMARKS_FILE}: not a readable pytest-benchmark JSON file (")
    (tmp_path / BENCHMARKS_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(BenchError) as info:
        summarise(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / BENCHMARKS_FILE}: not a readable pytest-benchmark JSON file (")


def test_plan_facts_sort_indexes_and_node_types() -> None:
    """Indexes and node types are listed sorted and once, whatever the plan's order."""
    from balance_bench.bench.summary import plan_facts
    from balance_bench.plans.analysis import analyse
    from balance_bench.plans.parser import read_plan

    analysis = analyse(read_plan(PLANS / "nested_loop.json"), query="find_by_user_id")
    facts = plan_facts(analysis, "f", None)
    raw = json.loads((PLANS / "nested_loop.json").read_text())
    assert list(facts.indexes_used) == sorted(_index_names(raw))
    assert list(facts.node_types) == sorted(set(facts.node_types)) and len(facts.node_types) >= 2


def test_a_foreign_entry_before_ours_does_not_end_the_cases(tmp_path: Path) -> None:
    """An entry that is not one of ours, first in the file, is skipped and the cases after it are read."""
    run = _run(tmp_path, [{"name": "someone_elses", "stats": {"data": [0.1]}, "extra_info": {}},
                          _entry(COLD, 1, [1.0])], with_plan=False)
    assert [c.coords for c in read_summary(summarise(run)).cases] == [COLD]


def test_a_plan_is_judged_against_its_cases_query_even_when_the_file_names_no_case(tmp_path: Path) -> None:
    """A bare EXPLAIN capture (a sequential scan) as the plan of a find_by_address case: the guide's index for that
    query is reported as not used."""
    address = Coordinates(Kind.READ, "find_by_address", CacheState.NOCACHE, Migration.WITHOUT_012, "tiny",
                          "optimized", "address")
    run = _run(tmp_path, [_entry(address, 1, [1.0], plan_file=plan_file(address))], with_plan=False)
    (run / plan_file(address)).write_text((PLANS / "seq_scan_filter.json").read_text(), encoding="utf-8")
    (case,) = read_summary(summarise(run)).cases
    assert case.plan is not None
    (finding,) = [f for f in case.plan.findings if f.code == "index-not-used"]
    assert finding.message.startswith("the guide says find_by_address uses idx_balances_address")


def test_a_utf8_benchmarks_file_reads_the_same_under_an_ascii_locale(tmp_path: Path) -> None:
    """benchmarks.json is read as UTF-8 whatever the machine's locale: a non-ASCII environment value comes back."""
    import locale

    run = _run(tmp_path, [_entry(COLD, 1, [1.0])], with_plan=False)
    document = _document(run)
    document["balance_bench"]["environment"] = {"host": "café-π"}
    (run / BENCHMARKS_FILE).write_bytes(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        written = summarise(run)
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert read_summary(written).environment == {"host": "café-π"}


def test_summarise_gives_every_plan_its_counters(tmp_path: Path) -> None:
    """summary.json is version 4 and the case's plan carries the counters of its plan file (nested_loop.json)."""
    run = _run(tmp_path, [_entry(COLD, 1, [1.0], plan_file=plan_file(COLD)), _entry(COLD, 2, [1.1])])
    summarise(run)
    doc = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == 4
    root = json.loads((PLANS / "nested_loop.json").read_text(encoding="utf-8"))[0]["Plan"]
    assert doc["cases"][0]["plan"]["counters"] == {
        "signature": "Nested Loop > [Nested Loop > [Index Scan using idx_balances_user_token on balances; Memoize > "
                     "Index Scan using tokens_pkey on tokens]; Index Scan using users_pkey on users]",
        "shared_hit": root["Shared Hit Blocks"], "shared_read": root["Shared Read Blocks"], "temp_read": 0,
        "temp_written": 0, "rows": root["Actual Rows"]}


def _top_up(run: Path, number: int, first: int, entries: list[dict[str, Any]], cases: list[str]) -> None:
    from balance_bench.results import top_up_file

    document = {"benchmarks": entries, "balance_bench": {
        "environment": {"python": "other"}, "design": {"trials": 99},
        "top_up": {"first_trial": first, "trials": len({e["extra_info"]["trial"] for e in entries}), "cases": cases}}}
    (run / top_up_file(number)).write_text(json.dumps(document), encoding="utf-8")


def test_top_up_trials_join_the_runs_by_trial_number_and_the_design_says_what_each_added(tmp_path: Path) -> None:
    """Trials 1-2 from the run, 3-4 from top-up 1 and 5 from top-up 2 make five trial medians of one case; the
    environment and design stay the run's, with one record per top-up in the order they ran."""
    run = _run(tmp_path, [_entry(COLD, 1, [1.0]), _entry(COLD, 2, [2.0])])
    _top_up(run, 2, 5, [_entry(COLD, 5, [5.0])], [COLD.id])
    _top_up(run, 1, 3, [_entry(COLD, 3, [3.0]), _entry(COLD, 4, [4.0])], [COLD.id, FLOOR.id])
    summary = read_summary(summarise(run))
    (case,) = summary.cases
    assert case.trial_medians_ms == {t: pytest.approx(float(t)) for t in range(1, 6)} and case.rounds == 5
    assert summary.environment == {"python": "3.11"} and summary.design.trials == 2
    assert [(t.first_trial, t.trials, t.cases) for t in summary.design.top_ups] == [(3, 2, 2), (5, 1, 1)]


def test_a_damaged_top_up_file_is_one_line_naming_it(tmp_path: Path) -> None:
    """A top-up file without its record stops the summary with the file's name, not a KeyError."""
    from balance_bench.results import top_up_file

    run = _run(tmp_path, [_entry(COLD, 1, [1.0])])
    (run / top_up_file(1)).write_text(json.dumps({"benchmarks": [], "balance_bench": {}}), encoding="utf-8")
    with pytest.raises(BenchError, match=r"benchmarks-top-up-1\.json: not a readable top-up file of this run"):
        summarise(run)
