"""summary.json: version 4 round-trips, versions 1-3 still load (1 as one trial, 1-3 without plan counters), and bad
records are one clear line."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.errors import BenchError
from balance_bench.results import (
    SCHEMA_VERSION,
    CaseResult,
    Design,
    ExperimentResult,
    FindingFact,
    Overhead,
    PlanCounters,
    PlanFacts,
    PlanNodeRow,
    ServerTraffic,
    Summary,
    Traffic,
    VariantInfo,
    new_run_dir,
    plan_document,
    plan_file,
    read_summary,
    write_summary,
)
from balance_bench.statistics import Estimate, TimingStats

COORDS = Coordinates(Kind.READ, "find_by_id", CacheState.COLD, Migration.WITH_012, "tiny", "optimized", "balance")
STATS = TimingStats(0.1, 0.2, 0.21, 0.3, 0.4, 0.05, 0.06, 0.5)
COUNTERS = PlanCounters("Limit > Index Scan using balances_pkey on balances", 3, 1, 0, 0, 1.0)


def _summary() -> Summary:
    plan = PlanFacts(file="plans/x.json", sql="SELECT 1", execution_ms=0.1, planning_ms=0.05, total_ms=0.09,
                     indexes_used=("balances_pkey",), node_types=("Index Scan",),
                     findings=(FindingFact("misestimate", "#1 Index Scan", "planner expected 1 row"),),
                     nodes=(PlanNodeRow("#1 Index Scan", 0, None, 0.09, 1.0, 1.0, 1.0, 3, 0),), counters=COUNTERS)
    case = CaseResult(coords=COORDS, params={"id": 7}, rounds=30, stats=STATS,
                      trial_medians_ms={1: 0.2, 2: 0.25, 3: 0.22}, cache_hits=0, cache_misses=36, plan=plan,
                      overhead=Overhead("find_by_id (nocache)", 900, 0.3, 0.28, Estimate(1.07, 1.05, 1.09, 3)),
                      traffic=Traffic(3, ServerTraffic(1, 51, 474), ServerTraffic(3, 539, 30, commands=3)))
    return Summary(environment={"postgres": {"version": "18"}}, design=Design(3, 11, 1.2), cases=[case])


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


EXPERIMENT = ExperimentResult(
    name="pagination", title="Pagination depth", question="cursor-based pagination", scale="tiny",
    variants=(VariantInfo("offset", "the guide's", "plain", "no change"),), migrations=("with_012",),
    checks={"with_012": "passed"},
    figures={"with_012.offset_depth": Estimate(1.8, 1.6, 2.0, 3),
             "with_012.offset.lag.ms": Estimate(2.0, None, None, 1)},
    ratios={"offset_depth": ("offset-get_by_user-page-last", "offset-get_by_user-page-1")},
    conclusion="OFFSET is slower at depth.", notes={"replica": {"replica": "embedded", "apply_delay_ms": 0}})


def test_version_4_round_trips_every_field(tmp_path: Path) -> None:
    """What write_summary writes, read_summary reads back unchanged, plan counters and experiments included."""
    summary = replace(_summary(), experiments=[EXPERIMENT])
    loaded = read_summary(write_summary(tmp_path, summary))
    assert loaded == summary and loaded.schema_version == SCHEMA_VERSION == 4
    assert loaded.cases[0].plan is not None and loaded.cases[0].plan.counters == COUNTERS
    assert loaded.cases[0].median_ci.trials == 3
    assert loaded.experiments[0].figures["with_012.offset_depth"].has_interval


def test_a_version_2_summary_loads_without_experiments(tmp_path: Path) -> None:
    """A version 2 summary (before experiments) still loads; an 'experiments' key in it is not trusted."""
    doc = json.loads(_summary().to_json())
    doc["schema_version"] = 2
    doc["experiments"] = [{"name": "ignored"}]
    loaded = read_summary(_write(tmp_path / "summary.json", doc))
    assert loaded.schema_version == 2 and loaded.experiments == [] and loaded.cases == _without_counters(_summary())


def _without_counters(summary: Summary) -> list[CaseResult]:
    """The summary's cases as a reader of a version before 4 sees them: their plans without counters."""
    return [replace(c, plan=None if c.plan is None else replace(c.plan, counters=None)) for c in summary.cases]


@pytest.mark.parametrize("version", [2, 3])
def test_a_summary_before_version_4_loads_without_plan_counters(tmp_path: Path, version: int) -> None:
    """Versions 2 and 3 had no plan counters: their plans load with counters None, whatever the file holds there."""
    doc = json.loads(_summary().to_json())
    doc["schema_version"] = version
    doc["cases"][0]["plan"]["counters"] = "not read before version 4"
    loaded = read_summary(_write(tmp_path / "summary.json", doc))
    assert loaded.cases[0].plan is not None and loaded.cases[0].plan.counters is None
    assert loaded.cases[0].plan.indexes_used == ("balances_pkey",)


@pytest.mark.parametrize("name", ["signature", "shared_hit", "shared_read", "temp_read", "temp_written", "rows"])
def test_a_version_4_plan_missing_a_counter_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    """Every counter of a version 4 plan is required: one left out is refused naming the file, the case and it."""
    doc = json.loads(_summary().to_json())
    del doc["cases"][0]["plan"]["counters"][name]
    assert _refusal(tmp_path, doc) == f"cases[0].plan.counters lacks {name}"


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda p: p.pop("counters"), "cases[0].plan lacks counters"),
    (lambda p: p.update(counters=None), "cases[0].plan lacks counters"),
    (lambda p: p.update(counters=[]), "cases[0].plan.counters is not an object: []"),
    (lambda p: p["counters"].update(signature=None), "cases[0].plan.counters lacks signature"),
    (lambda p: p["counters"].update(signature=" "), "cases[0].plan.counters.signature is empty"),
    (lambda p: p["counters"].update(signature=3), "cases[0].plan.counters.signature is not a string: 3"),
    (lambda p: p["counters"].update(shared_hit=1.5), "cases[0].plan.counters.shared_hit is not a count: 1.5"),
    (lambda p: p["counters"].update(shared_read=-1), "cases[0].plan.counters.shared_read is not a count: -1"),
    (lambda p: p["counters"].update(temp_read="0"), "cases[0].plan.counters.temp_read is not a number: '0'"),
    (lambda p: p["counters"].update(temp_written=True), "cases[0].plan.counters.temp_written is not a number: True"),
    (lambda p: p["counters"].update(rows="1"), "cases[0].plan.counters.rows is not a number: '1'"),
])
def test_a_damaged_version_4_counter_record_is_refused_naming_the_field(tmp_path: Path, damage: Any,
                                                                        expected: str) -> None:
    """A version 4 plan's counters, absent, null or mistyped, are one line naming the file and the field."""
    doc = json.loads(_summary().to_json())
    damage(doc["cases"][0]["plan"])
    assert _refusal(tmp_path, doc) == expected


def test_a_version_4_counter_the_plan_did_not_print_is_null(tmp_path: Path) -> None:
    """Blocks and rows may be null (a plan without BUFFERS or ANALYZE) while their keys are there: they load as
    None, and the sums of None are None."""
    doc = json.loads(_summary().to_json())
    doc["cases"][0]["plan"]["counters"].update(shared_hit=None, shared_read=None, temp_read=None, temp_written=None,
                                               rows=None)
    counters = read_summary(_write(tmp_path / "summary.json", doc)).cases[0].plan.counters  # type: ignore[union-attr]
    assert counters == PlanCounters(COUNTERS.signature, None, None, None, None, None)
    assert (counters.shared_blocks, counters.temp_blocks) == (None, None)


def test_plan_counters_sum_hit_and_read_and_temp_read_and_written() -> None:
    """Shared blocks are hit plus read; temp blocks read plus written; one side unknown makes the sum unknown."""
    assert (PlanCounters("x", 3, 4, 5, 6, 1.0).shared_blocks, PlanCounters("x", 3, 4, 5, 6, 1.0).temp_blocks) == (7, 11)
    assert PlanCounters("x", 3, None, None, 6, 1.0).shared_blocks is None
    assert PlanCounters("x", 3, None, None, 6, 1.0).temp_blocks is None


def test_a_plan_without_counters_is_never_written(tmp_path: Path) -> None:
    """The writer refuses a plan whose counters are missing (the reader would refuse the file) and writes nothing."""
    summary = _summary()
    case = summary.cases[0]
    assert case.plan is not None
    bare = replace(summary, cases=[replace(case, plan=replace(case.plan, counters=None))])
    with pytest.raises(ValueError, match="its plan has no counters"):
        write_summary(tmp_path, bare)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage,field", [
    (lambda e: e.pop("figures"), "figures"),
    (lambda e: e["figures"].update({"x": [1.0, None]}), "figures.x"),
    (lambda e: e["ratios"].update({"r": ["only-one"]}), "ratios.r"),
    (lambda e: e.update({"notes": []}), "notes"),
    (lambda e: e["variants"][0].pop("name"), "variants[0]"),
])
def test_a_damaged_experiment_record_is_one_line_naming_the_field(tmp_path: Path, damage: Any, field: str) -> None:
    """A broken experiment record is refused with one BenchError naming the record and the field."""
    doc = json.loads(replace(_summary(), experiments=[EXPERIMENT]).to_json())
    damage(doc["experiments"][0])
    with pytest.raises(BenchError, match=re.escape("experiments[0]")) as raised:
        read_summary(_write(tmp_path / "summary.json", doc))
    assert field.split(".")[0].split("[")[0] in str(raised.value) and "\n" not in str(raised.value)


V1_CASE = {
    "name": "test_read[tiny-with_012-find_by_id-cold-optimized-balance]", "kind": "read", "query": "find_by_id",
    "cache": "cold", "migration": "with_012", "scale": "tiny", "projection": "optimized", "param_kind": "balance",
    "params": {"id": 7}, "rounds": 20, "min_ms": 0.1, "median_ms": 0.2, "mean_ms": 0.21, "p95_ms": 0.3,
    "p99_ms": 0.4, "stddev_ms": 0.05, "iqr_ms": 0.06, "max_ms": 0.5, "cache_hits": 0, "cache_misses": 20,
    "plan_file": "plans/x.json", "execution_ms": 0.1, "planning_ms": 0.05, "indexes_used": ["balances_pkey"],
    "node_types": ["Index Scan"], "overhead": None,
}


def test_a_version_1_summary_loads_as_one_trial(tmp_path: Path) -> None:
    """An older run stays readable: one trial, its median, no interval, the plan facts it had."""
    summary = read_summary(_write(tmp_path / "summary.json",
                                  {"schema_version": 1, "environment": {}, "cases": [V1_CASE]}))
    case = summary.cases[0]
    assert summary.schema_version == 1 and summary.design.trials == 1
    assert case.coords == COORDS and case.trial_medians_ms == {1: 0.2} and case.trials == 1
    assert not case.median_ci.has_interval
    assert case.plan is not None and case.plan.indexes_used == ("balances_pkey",) and case.plan.nodes == ()


@pytest.mark.parametrize("version", [0, 5, 99, "2", "4", True, None])
def test_unknown_versions_are_refused_with_what_to_do(tmp_path: Path, version: object) -> None:
    """A version this release does not know is one line naming the file and the readable versions."""
    path = _write(tmp_path / "summary.json", {"schema_version": version, "environment": {}, "cases": []})
    with pytest.raises(BenchError) as info:
        read_summary(path)
    assert str(path) in str(info.value) and "reads versions 1, 2, 3, 4)" in str(info.value)
    assert str(info.value).endswith("; use the balance-bench release that wrote it, or re-run the benchmarks with "
                                    "this one")


def _v2_case() -> dict[str, Any]:
    return json.loads(_summary().to_json())["cases"][0]


@pytest.mark.parametrize(("damage", "message"), [
    (lambda c: c.update(median_ms="fast"), "median_ms is not a number"),
    (lambda c: c.update(p99_ms=True), "p99_ms is not a number"),
    (lambda c: c.update(rounds=2.5), "rounds is not a count"),
    (lambda c: c.pop("rounds"), "lacks rounds"),
    (lambda c: c.pop("trial_medians_ms"), "lacks trial_medians_ms"),
    (lambda c: c.update(trial_medians_ms={"first": 0.2}), "non-numeric trial"),
    (lambda c: c.update(trial_medians_ms={}), "trial_medians_ms is empty"),
    (lambda c: c.update(cache="lukewarm"), "lukewarm"),
    (lambda c: c.pop("query"), "lacks query"),
    (lambda c: c.update(params=[1]), "params is not an object"),
    (lambda c: c["plan"].update(indexes_used="balances_pkey"), "indexes_used is not a list of strings"),
    (lambda c: c["overhead"].update(ratio=[1.0, 2.0]), "expected \\[value, low, high, trials\\]"),
    (lambda c: c["traffic"].update(calls=0), "traffic.calls must be at least 1"),
    (lambda c: c["traffic"].pop("postgres"), "traffic lacks postgres"),
    (lambda c: c["traffic"]["redis"].pop("commands"), "traffic.redis lacks commands"),
    (lambda c: c["traffic"]["postgres"].update(round_trips="one"), "round_trips is not a number"),
    (lambda c: c["traffic"]["redis"].update(bytes_sent=-1), "traffic.redis has a negative count"),
    (lambda c: c.update(traffic=[1]), "traffic is not an object"),
])
def test_wrong_types_and_missing_fields_are_one_line_naming_the_field(tmp_path: Path, damage: Any,
                                                                      message: str) -> None:
    """Every damaged record is refused with one line naming the file and the field; nothing is written."""
    case = _v2_case()
    damage(case)
    path = _write(tmp_path / "summary.json", {"schema_version": 2, "environment": {}, "design": {"trials": 3},
                                              "cases": [case]})
    before = sorted(tmp_path.iterdir())
    with pytest.raises(BenchError, match=message) as info:
        read_summary(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("version", [2, 3])
def test_a_summary_written_before_traffic_was_counted_still_loads(tmp_path: Path, version: int) -> None:
    """Traffic is optional in versions 2 and 3: a case without it loads with none; a written one comes back."""
    case = _v2_case()
    case.pop("traffic")
    summary = read_summary(_write(tmp_path / "summary.json", {"schema_version": version, "environment": {},
                                                              "design": {"trials": 3}, "cases": [case]}))
    assert summary.cases[0].traffic is None
    assert _summary().cases[0].traffic == read_summary(write_summary(tmp_path, _summary())).cases[0].traffic
    assert _summary().cases[0].traffic is not None


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    """A URL password anywhere in the environment is redacted on write."""
    summary = _summary()
    leaky = Summary(environment={"dsn": "postgresql://u:hunter2@db/x"}, design=summary.design, cases=summary.cases)
    text = write_summary(tmp_path, leaky).read_text(encoding="utf-8")
    assert "hunter2" not in text and "u:***@db" in text


def test_run_directories_never_collide(tmp_path: Path) -> None:
    """Two run directories made in the same second get distinct names under --out."""
    first, second = new_run_dir(tmp_path, ("tiny",)), new_run_dir(tmp_path, ("tiny",))
    assert first != second and first.is_dir() and second.is_dir()
    assert new_run_dir(tmp_path, ("tiny",), label="aa").name.split("-")[-1] in {"aa", "2", "3"}


def test_every_optional_plan_field_may_be_null_and_every_value_round_trips(tmp_path: Path) -> None:
    """A plan without timings, SQL or node figures loads (null is not "missing"); empty strings, a nested node's
    depth and its subplan name come back exactly as written."""
    plan = PlanFacts(file="", sql=None, execution_ms=None, planning_ms=None, total_ms=None, indexes_used=(),
                     node_types=("Result",), findings=(FindingFact("", None, ""),),
                     nodes=(PlanNodeRow("", 2, "InitPlan 1", None, None, None, None, None, None),),
                     counters=PlanCounters("Result", None, None, None, None, None))
    summary = _summary()
    bare = Summary(environment={}, design=summary.design, cases=[
        CaseResult(coords=COORDS, params={}, rounds=1, stats=STATS, trial_medians_ms={1: 0.2}, plan=plan)])
    loaded = read_summary(write_summary(tmp_path, bare))
    assert loaded == bare and loaded.cases[0].plan == plan


# --- the loader fed wrong types and missing fields (issue 12) -------------------------------------------------


def _v3_doc() -> dict[str, Any]:
    return json.loads(replace(_summary(), experiments=[EXPERIMENT]).to_json())


def _refusal(tmp_path: Path, doc: Any) -> str:
    """The one-line BenchError reading ``doc`` gives; the file's name is in it and nothing was written beside it."""
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(BenchError) as info:
        read_summary(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert sorted(tmp_path.iterdir()) == before
    return message.removeprefix(f"{path}: ")


def _case_of(doc: dict[str, Any]) -> dict[str, Any]:
    case: dict[str, Any] = doc["cases"][0]
    return case


_STAT_NAMES = ("min_ms", "median_ms", "mean_ms", "p95_ms", "p99_ms", "stddev_ms", "iqr_ms", "max_ms")


@pytest.mark.parametrize("name", [*_STAT_NAMES, "rounds", "trial_medians_ms", "kind", "query", "cache", "migration",
                                  "scale", "projection", "param_kind"])
@pytest.mark.parametrize("how", ["missing", "null"])
def test_each_required_case_field_missing_or_null_is_named(tmp_path: Path, name: str, how: str) -> None:
    """A case without one of its required fields (or with it null) is refused naming the case and the field."""
    doc = _v3_doc()
    if how == "missing":
        del _case_of(doc)[name]
    else:
        _case_of(doc)[name] = None
    message = _refusal(tmp_path, doc)
    if name in ("kind", "cache", "migration") and how == "null":
        assert message.startswith("cases[0]: ") and "None" in message
    elif name in ("query", "scale", "projection", "param_kind") and how == "null":
        assert message == f"cases[0].{name} is not a non-empty string"
    else:
        assert message == f"cases[0] lacks {name}"


@pytest.mark.parametrize("name", _STAT_NAMES)
@pytest.mark.parametrize(("value", "shown"), [("0.2", "'0.2'"), (True, "True"), (False, "False"), ([0.2], "[0.2]"),
                                              ({"ms": 0.2}, "{'ms': 0.2}"), (float("nan"), "nan"),
                                              (float("inf"), "inf"), (float("-inf"), "-inf")])
def test_each_timing_figure_of_a_wrong_type_is_named_with_its_value(tmp_path: Path, name: str, value: Any,
                                                                    shown: str) -> None:
    """A timing that is text, a boolean, a list, an object or not finite is refused with the field and the value."""
    doc = _v3_doc()
    _case_of(doc)[name] = value
    assert _refusal(tmp_path, doc) == f"cases[0].{name} is not a number: {shown}"


@pytest.mark.parametrize("name", ["rounds", "cache_hits", "cache_misses"])
@pytest.mark.parametrize(("value", "message"), [
    (-1, "is not a count: -1"), (2.5, "is not a count: 2.5"), (-0.5, "is not a count: -0.5"),
    ("3", "is not a number: '3'"), (True, "is not a number: True"),
])
def test_each_count_of_a_case_must_be_a_whole_non_negative_number(tmp_path: Path, name: str, value: Any,
                                                                  message: str) -> None:
    """Rounds and cache counters are counts: negative, fractional, textual or boolean ones are refused by name."""
    doc = _v3_doc()
    _case_of(doc)[name] = value
    assert _refusal(tmp_path, doc) == f"cases[0].{name} {message}"


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda d: d["cases"].__setitem__(0, "a case"), "cases[0] is not an object: 'a case'"),
    (lambda d: d["cases"].__setitem__(0, None), "cases[0] is not an object: None"),
    (lambda d: d["cases"].append([1]), "cases[1] is not an object: [1]"),
    (lambda d: _case_of(d).update(params="id=7"), "cases[0].params is not an object: 'id=7'"),
    (lambda d: _case_of(d).update(trial_medians_ms=[0.2, 0.25]),
     "cases[0].trial_medians_ms is not an object: [0.2, 0.25]"),
    (lambda d: _case_of(d).update(trial_medians_ms={"1": "fast"}),
     "cases[0].trial_medians_ms.1 is not a number: 'fast'"),
    (lambda d: _case_of(d).update(trial_medians_ms={"1": None}), "cases[0].trial_medians_ms lacks 1"),
    (lambda d: _case_of(d).update(trial_medians_ms={"-1": 0.2}),
     "cases[0].trial_medians_ms has a non-numeric trial '-1'"),
    (lambda d: _case_of(d).update(trial_medians_ms={"t1": 0.2}),
     "cases[0].trial_medians_ms has a non-numeric trial 't1'"),
    (lambda d: _case_of(d).update(trial_medians_ms={}), "cases[0].trial_medians_ms is empty"),
    (lambda d: _case_of(d).update(query=7), "cases[0].query is not a non-empty string"),
    (lambda d: _case_of(d).update(param_kind=""), "cases[0].param_kind is not a non-empty string"),
    (lambda d: _case_of(d).update(projection="everything"),
     "cases[0]: unknown projection 'everything'; known: legacy, explicit_joined, optimized"),
    (lambda d: _case_of(d).update(migration="with_013"), "cases[0]: 'with_013' is not a valid Migration"),
])
def test_a_damaged_case_is_refused_naming_the_case_and_the_field(tmp_path: Path, damage: Any, expected: str) -> None:
    """Cases that are not objects, and a case's params and per-trial medians of the wrong shape, are named exactly."""
    doc = _v3_doc()
    damage(doc)
    assert _refusal(tmp_path, doc) == expected


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda p: p.clear() or p.update(file=None), "cases[0].plan lacks file"),
    (lambda p: p.pop("file"), "cases[0].plan lacks file"),
    (lambda p: p.update(file=3), "cases[0].plan.file is not a string: 3"),
    (lambda p: p.update(sql=["SELECT 1"]), "cases[0].plan.sql is not a string: ['SELECT 1']"),
    (lambda p: p.update(execution_ms="0.1"), "cases[0].plan.execution_ms is not a number: '0.1'"),
    (lambda p: p.update(planning_ms=False), "cases[0].plan.planning_ms is not a number: False"),
    (lambda p: p.update(total_ms=float("inf")), "cases[0].plan.total_ms is not a number: inf"),
    (lambda p: p.update(indexes_used="balances_pkey"),
     "cases[0].plan.indexes_used is not a list of strings: 'balances_pkey'"),
    (lambda p: p.update(indexes_used=["balances_pkey", 1]),
     "cases[0].plan.indexes_used is not a list of strings: ['balances_pkey', 1]"),
    (lambda p: p.update(node_types={"Index Scan": 1}),
     "cases[0].plan.node_types is not a list of strings: {'Index Scan': 1}"),
    (lambda p: p.update(node_types=[None]), "cases[0].plan.node_types is not a list of strings: [None]"),
    (lambda p: p.update(findings={"code": "x"}), "cases[0].plan.findings is not a list: {'code': 'x'}"),
    (lambda p: p.update(findings=["misestimate"]), "cases[0].plan.findings[0] is not an object: 'misestimate'"),
    (lambda p: p["findings"][0].pop("code"), "cases[0].plan.findings[0] lacks code"),
    (lambda p: p["findings"][0].pop("message"), "cases[0].plan.findings[0] lacks message"),
    (lambda p: p["findings"][0].update(code=1), "cases[0].plan.findings[0].code is not a string: 1"),
    (lambda p: p["findings"][0].update(node=1), "cases[0].plan.findings[0].node is not a string: 1"),
    (lambda p: p["findings"][0].update(message=["x"]), "cases[0].plan.findings[0].message is not a string: ['x']"),
    (lambda p: p.update(nodes="#1 Index Scan"), "cases[0].plan.nodes is not a list: '#1 Index Scan'"),
    (lambda p: p["nodes"].append(None), "cases[0].plan.nodes[1] is not an object: None"),
    (lambda p: p["nodes"][0].pop("label"), "cases[0].plan.nodes[0] lacks label"),
    (lambda p: p["nodes"][0].pop("depth"), "cases[0].plan.nodes[0] lacks depth"),
    (lambda p: p["nodes"][0].update(label=0), "cases[0].plan.nodes[0].label is not a string: 0"),
    (lambda p: p["nodes"][0].update(depth=-1), "cases[0].plan.nodes[0].depth is not a count: -1"),
    (lambda p: p["nodes"][0].update(depth=0.5), "cases[0].plan.nodes[0].depth is not a count: 0.5"),
    (lambda p: p["nodes"][0].update(subplan_name=1), "cases[0].plan.nodes[0].subplan_name is not a string: 1"),
    (lambda p: p["nodes"][0].update(exclusive_ms="x"), "cases[0].plan.nodes[0].exclusive_ms is not a number: 'x'"),
    (lambda p: p["nodes"][0].update(actual_rows=True), "cases[0].plan.nodes[0].actual_rows is not a number: True"),
    (lambda p: p["nodes"][0].update(plan_rows=[1]), "cases[0].plan.nodes[0].plan_rows is not a number: [1]"),
    (lambda p: p["nodes"][0].update(loops="1"), "cases[0].plan.nodes[0].loops is not a number: '1'"),
    (lambda p: p["nodes"][0].update(shared_hit=1.5), "cases[0].plan.nodes[0].shared_hit is not a count: 1.5"),
    (lambda p: p["nodes"][0].update(shared_read=-3), "cases[0].plan.nodes[0].shared_read is not a count: -3"),
])
def test_a_damaged_plan_record_is_refused_naming_the_field(tmp_path: Path, damage: Any, expected: str) -> None:
    """Each field of a case's plan facts, its findings and its node rows: missing or mistyped, named by its path."""
    doc = _v3_doc()
    damage(_case_of(doc)["plan"])
    assert _refusal(tmp_path, doc) == expected


def test_a_plan_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    """A plan record that is a string is refused as such."""
    doc = _v3_doc()
    _case_of(doc)["plan"] = "plans/x.json"
    assert _refusal(tmp_path, doc) == "cases[0].plan is not an object: 'plans/x.json'"


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda o: o.pop("model"), "cases[0].overhead lacks model"),
    (lambda o: o.pop("pairs"), "cases[0].overhead lacks pairs"),
    (lambda o: o.pop("model_ms"), "cases[0].overhead lacks model_ms"),
    (lambda o: o.pop("raw_ms"), "cases[0].overhead lacks raw_ms"),
    (lambda o: o.update(model=1), "cases[0].overhead.model is not a string: 1"),
    (lambda o: o.update(pairs=-1), "cases[0].overhead.pairs is not a count: -1"),
    (lambda o: o.update(model_ms="0.3"), "cases[0].overhead.model_ms is not a number: '0.3'"),
    (lambda o: o.update(raw_ms=[0.2]), "cases[0].overhead.raw_ms is not a number: [0.2]"),
    (lambda o: o.update(ratio=1.07), "cases[0].overhead.ratio: expected [value, low, high, trials]"),
    (lambda o: o.update(ratio=[1.07, 1.05, 1.09]), "cases[0].overhead.ratio: expected [value, low, high, trials]"),
    (lambda o: o.update(ratio=[1.07, 1.05, 1.09, 3, 4]),
     "cases[0].overhead.ratio: expected [value, low, high, trials]"),
    (lambda o: o.update(ratio=[1.07, "1.05", 1.09, 3]), "cases[0].overhead.ratio: '1.05' is not a number"),
    (lambda o: o.update(ratio=[1.07, 1.05, True, 3]), "cases[0].overhead.ratio: True is not a number"),
    (lambda o: o.update(ratio=[None, 1.05, 1.09, 3]),
     "cases[0].overhead.ratio: an estimate needs a value and a trial count"),
    (lambda o: o.update(ratio=[1.07, 1.05, 1.09, None]),
     "cases[0].overhead.ratio: an estimate needs a value and a trial count"),
])
def test_a_damaged_overhead_record_is_refused_naming_the_field(tmp_path: Path, damage: Any, expected: str) -> None:
    """The model-against-raw record: each field missing or mistyped, the ratio's four-number form checked."""
    doc = _v3_doc()
    damage(_case_of(doc)["overhead"])
    assert _refusal(tmp_path, doc) == expected


def test_an_overhead_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    """An overhead record that is a number is refused as such."""
    doc = _v3_doc()
    _case_of(doc)["overhead"] = 1.07
    assert _refusal(tmp_path, doc) == "cases[0].overhead is not an object: 1.07"


@pytest.mark.parametrize("server", ["postgres", "redis"])
@pytest.mark.parametrize("name", ["round_trips", "bytes_sent", "bytes_received"])
def test_each_traffic_figure_missing_mistyped_or_negative_is_named(tmp_path: Path, server: str, name: str) -> None:
    """Round trips and bytes of either server: required, numbers, never negative; each refusal names the server."""
    for value, expected in [(None, f"cases[0].traffic.{server} lacks {name}"),
                            ("1", f"cases[0].traffic.{server}.{name} is not a number: '1'"),
                            (-1, f"cases[0].traffic.{server} has a negative count")]:
        doc = _v3_doc()
        _case_of(doc)["traffic"][server][name] = value
        assert _refusal(tmp_path, doc) == expected


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda t: t.pop("calls"), "cases[0].traffic lacks calls"),
    (lambda t: t.update(calls=0), "cases[0].traffic.calls must be at least 1"),
    (lambda t: t.update(calls=-2), "cases[0].traffic.calls is not a count: -2"),
    (lambda t: t.update(calls=1.5), "cases[0].traffic.calls is not a count: 1.5"),
    (lambda t: t.pop("postgres"), "cases[0].traffic lacks postgres"),
    (lambda t: t.update(postgres=None), "cases[0].traffic lacks postgres"),
    (lambda t: t.pop("redis"), "cases[0].traffic lacks redis"),
    (lambda t: t.update(redis=[3, 539, 30]), "cases[0].traffic.redis is not an object: [3, 539, 30]"),
    (lambda t: t.update(postgres="none"), "cases[0].traffic.postgres is not an object: 'none'"),
    (lambda t: t["redis"].pop("commands"), "cases[0].traffic.redis lacks commands"),
    (lambda t: t["redis"].update(commands=-1), "cases[0].traffic.redis has a negative count"),
    (lambda t: t["redis"].update(commands="3"), "cases[0].traffic.redis.commands is not a number: '3'"),
    (lambda t: t["postgres"].update(commands=-1), "cases[0].traffic.postgres has a negative count"),
    (lambda t: t["postgres"].update(commands=True), "cases[0].traffic.postgres.commands is not a number: True"),
])
def test_a_damaged_traffic_record_is_refused_naming_the_field(tmp_path: Path, damage: Any, expected: str) -> None:
    """A case's traffic: calls at least one, both servers present, Redis's command count required."""
    doc = _v3_doc()
    damage(_case_of(doc)["traffic"])
    assert _refusal(tmp_path, doc) == expected


@pytest.mark.parametrize("name", ["name", "title", "question", "conclusion", "figures", "ratios", "checks"])
def test_each_required_experiment_field_missing_is_named(tmp_path: Path, name: str) -> None:
    """An experiment record without its name, texts, figures, ratios or checks is refused naming the field."""
    doc = _v3_doc()
    del doc["experiments"][0][name]
    assert _refusal(tmp_path, doc) == f"experiments[0] lacks {name}"


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda d: d["experiments"].__setitem__(0, "pagination"), "experiments[0] is not an object: 'pagination'"),
    (lambda d: d.update(experiments={"pagination": {}}), "experiments is not a list: {'pagination': {}}"),
    (lambda d: d["experiments"][0].update(name=["pagination"]), "experiments[0].name is not a string: ['pagination']"),
    (lambda d: d["experiments"][0].update(title=1), "experiments[0].title is not a string: 1"),
    (lambda d: d["experiments"][0].update(question=True), "experiments[0].question is not a string: True"),
    (lambda d: d["experiments"][0].update(scale=1), "experiments[0].scale is not a string: 1"),
    (lambda d: d["experiments"][0].update(conclusion={}), "experiments[0].conclusion is not a string: {}"),
    (lambda d: d["experiments"][0].update(variants={"offset": {}}),
     "experiments[0].variants is not a list: {'offset': {}}"),
    (lambda d: d["experiments"][0].update(variants=["offset"]),
     "experiments[0].variants[0] is not an object: 'offset'"),
    (lambda d: d["experiments"][0]["variants"][0].pop("name"), "experiments[0].variants[0] lacks name"),
    (lambda d: d["experiments"][0]["variants"][0].pop("description"), "experiments[0].variants[0] lacks description"),
    (lambda d: d["experiments"][0]["variants"][0].pop("layout"), "experiments[0].variants[0] lacks layout"),
    (lambda d: d["experiments"][0]["variants"][0].pop("schema"), "experiments[0].variants[0] lacks schema"),
    (lambda d: d["experiments"][0]["variants"][0].update(schema=0),
     "experiments[0].variants[0].schema is not a string: 0"),
    (lambda d: d["experiments"][0].update(migrations="with_012"),
     "experiments[0].migrations is not a list of strings: 'with_012'"),
    (lambda d: d["experiments"][0].update(checks=["passed"]), "experiments[0].checks is not an object: ['passed']"),
    (lambda d: d["experiments"][0]["checks"].update(with_012=None), "experiments[0].checks lacks with_012"),
    (lambda d: d["experiments"][0]["checks"].update(with_012=True),
     "experiments[0].checks.with_012 is not a string: True"),
    (lambda d: d["experiments"][0].update(figures=[]), "experiments[0].figures is not an object: []"),
    (lambda d: d["experiments"][0]["figures"].update(x=None), "experiments[0].figures.x is empty"),
    (lambda d: d["experiments"][0]["figures"].update(x="1.8"),
     "experiments[0].figures.x: expected [value, low, high, trials]"),
    (lambda d: d["experiments"][0]["figures"].update(x=[1.8, None, None, "3"]),
     "experiments[0].figures.x: '3' is not a number"),
    (lambda d: d["experiments"][0].update(ratios=[["a", "b"]]), "experiments[0].ratios is not an object: [['a', 'b']]"),
    (lambda d: d["experiments"][0]["ratios"].update(r="a/b"),
     "experiments[0].ratios.r is not a [numerator, denominator] pair of case ids"),
    (lambda d: d["experiments"][0]["ratios"].update(r=["a", "b", "c"]),
     "experiments[0].ratios.r is not a [numerator, denominator] pair of case ids"),
    (lambda d: d["experiments"][0]["ratios"].update(r=["a", 2]),
     "experiments[0].ratios.r is not a [numerator, denominator] pair of case ids"),
    (lambda d: d["experiments"][0]["ratios"].update(r=[1, "b"]),
     "experiments[0].ratios.r is not a [numerator, denominator] pair of case ids"),
    (lambda d: d["experiments"][0].update(notes="replica"), "experiments[0].notes is not an object: 'replica'"),
    (lambda d: d["experiments"][0].update(notes=[]), "experiments[0].notes is not an object: []"),
])
def test_a_damaged_experiment_is_refused_naming_the_field(tmp_path: Path, damage: Any, expected: str) -> None:
    """Every field of an experiment record and its variants, checks, figures, ratios and notes, named exactly."""
    doc = _v3_doc()
    damage(doc)
    assert _refusal(tmp_path, doc) == expected


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda d: d.pop("design"), "lacks design"),
    (lambda d: d.update(design=[3, 11]), "design is not an object: [3, 11]"),
    (lambda d: d["design"].pop("trials"), "design lacks trials"),
    (lambda d: d["design"].update(trials=2.5), "design.trials is not a count: 2.5"),
    (lambda d: d["design"].update(order_seed=-1), "design.order_seed is not a count: -1"),
    (lambda d: d["design"].update(order_seed="11"), "design.order_seed is not a number: '11'"),
    (lambda d: d["design"].update(budget_s="1.2"), "design.budget_s is not a number: '1.2'"),
    (lambda d: d["design"].update(confidence="95%"), "design.confidence is not a number: '95%'"),
    (lambda d: d["design"].update(order=["blocks"]), "design.order is not a string: ['blocks']"),
])
def test_a_damaged_design_is_refused_naming_the_field(tmp_path: Path, damage: Any, expected: str) -> None:
    """The run's design (trials, order seed, budget, confidence): missing or mistyped, named exactly."""
    doc = _v3_doc()
    damage(doc)
    assert _refusal(tmp_path, doc) == expected


@pytest.mark.parametrize(("doc", "expected"), [
    ([], "not a balance-bench summary (no schema_version)"),
    ("summary", "not a balance-bench summary (no schema_version)"),
    ({"environment": {}, "cases": []}, "not a balance-bench summary (no schema_version)"),
    ({"schema_version": 3, "cases": []}, "lacks environment"),
    ({"schema_version": 3, "environment": [], "cases": []}, "environment is not an object: []"),
    ({"schema_version": 3, "environment": {}}, "lacks cases"),
    ({"schema_version": 3, "environment": {}, "cases": {}}, "cases is not a list: {}"),
    ({"schema_version": 3, "environment": {}, "cases": [], "design": {"trials": 1}, "experiments": "none"},
     "experiments is not a list: 'none'"),
])
def test_a_document_of_the_wrong_shape_is_refused_with_what_it_lacks(tmp_path: Path, doc: Any, expected: str) -> None:
    """A JSON file that is not a summary, or lacks its environment or cases list, says so in one line."""
    assert _refusal(tmp_path, doc) == expected


def test_a_summary_that_cannot_be_read_says_why_and_what_to_do(tmp_path: Path) -> None:
    """No file, a directory, bytes that are not UTF-8, truncated JSON: each one line naming the path and the cause."""
    missing = tmp_path / "run" / "summary.json"
    with pytest.raises(BenchError) as info:
        read_summary(missing)
    assert str(info.value) == (f"{missing}: no such file (is this a balance-bench run directory? after a plain "
                               "pytest run: balance-bench summarise RUN_DIR)")
    with pytest.raises(BenchError) as info:
        read_summary(tmp_path)
    assert str(info.value) == f"{tmp_path}: cannot read it (Is a directory)"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"schema_version": 3, "environment": {"host": "caf\xe9"}}')
    with pytest.raises(BenchError) as info:
        read_summary(latin)
    assert str(info.value) == f"{latin}: not UTF-8 text (bad byte at offset 50)"  # the é
    truncated = tmp_path / "truncated.json"
    truncated.write_text(_summary().to_json()[:50], encoding="utf-8")
    with pytest.raises(BenchError) as info:
        read_summary(truncated)
    assert str(info.value).startswith(f"{truncated}: not valid JSON: ")
    assert str(info.value).endswith(" (the text ends early: truncated?)") and "\n" not in str(info.value)


def test_a_summary_is_written_and_read_as_utf8(tmp_path: Path) -> None:
    """The summary is written and read as UTF-8: a non-ASCII environment value comes back exactly."""
    summary = replace(_summary(), environment={"host": "café-π"})
    assert read_summary(write_summary(tmp_path, summary)).environment == {"host": "café-π"}


# --- known answers: what the loader makes of a document written by hand ---------------------------------------

CASE_V3 = {
    "name": "tiny-with_012-find_by_id-cold-optimized-balance", "kind": "read", "query": "find_by_id", "cache": "cold",
    "migration": "with_012", "scale": "tiny", "projection": "optimized", "param_kind": "balance",
    "experiment": "", "variant": "", "params": {"id": 7}, "rounds": 30, "trials": 2,
    "min_ms": 0.1, "median_ms": 0.2, "mean_ms": 0.21, "p95_ms": 0.3, "p99_ms": 0.4, "stddev_ms": 0.05,
    "iqr_ms": 0.06, "max_ms": 0.5, "trial_medians_ms": {"1": 0.2, "2": 0.25},
    "median_ci_ms": [0.22, 0.1, 0.3, 2], "cache_hits": 0, "cache_misses": 36,
}


def _hand_written(tmp_path: Path, case: dict[str, Any], version: int = 3, **top: Any) -> Summary:
    doc = {"schema_version": version, "environment": {"postgres": "18"}, "design": {"trials": 2},
           "cases": [case], **top}
    return read_summary(_write(tmp_path / "summary.json", doc))


def test_a_hand_written_case_loads_field_for_field(tmp_path: Path) -> None:
    """Every figure of a case written by hand comes back as written; what it lacks is none, empty or the default."""
    summary = _hand_written(tmp_path, CASE_V3)
    (case,) = summary.cases
    assert summary.environment == {"postgres": "18"} and summary.schema_version == 3 and summary.experiments == []
    assert summary.design == Design(trials=2, order_seed=None, budget_s=None, confidence=0.95)
    assert case.coords == COORDS and case.params == {"id": 7} and case.rounds == 30
    assert case.stats == STATS and case.trial_medians_ms == {1: 0.2, 2: 0.25}
    assert (case.cache_hits, case.cache_misses) == (0, 36)
    assert (case.plan, case.overhead, case.traffic) == (None, None, None)


def test_zeros_are_read_as_zeros_not_as_missing(tmp_path: Path) -> None:
    """A figure of 0 is a measurement: timings, trial medians, counts, traffic and node figures of 0 stay 0."""
    case = {**CASE_V3, **dict.fromkeys(_STAT_NAMES, 0), "rounds": 0, "trial_medians_ms": {"1": 0, "2": 0},
            "cache_hits": 0, "cache_misses": 0,
            "plan": {"file": "", "execution_ms": 0, "planning_ms": 0, "total_ms": 0,
                     "findings": [{"code": "", "message": ""}],
                     "nodes": [{"label": "", "depth": 0, "exclusive_ms": 0, "actual_rows": 0, "plan_rows": 0,
                                "loops": 0, "shared_hit": 0, "shared_read": 0}]},
            "overhead": {"model": "", "pairs": 0, "model_ms": 0, "raw_ms": 0, "ratio": [0, 0, 0, 0]},
            "traffic": {"calls": 1, "postgres": {"round_trips": 0, "bytes_sent": 0, "bytes_received": 0},
                        "redis": {"round_trips": 0, "bytes_sent": 0, "bytes_received": 0, "commands": 0}}}
    (loaded,) = _hand_written(tmp_path, case, design={"trials": 0, "order_seed": 0, "budget_s": 0}).cases
    assert loaded.stats == TimingStats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0) and loaded.rounds == 0
    assert loaded.trial_medians_ms == {1: 0.0, 2: 0.0}
    assert loaded.plan == PlanFacts(file="", sql=None, execution_ms=0.0, planning_ms=0.0, total_ms=0.0,
                                    indexes_used=(), node_types=(), findings=(FindingFact("", None, ""),),
                                    nodes=(PlanNodeRow("", 0, None, 0.0, 0.0, 0.0, 0.0, 0, 0),))
    assert loaded.overhead == Overhead("", 0, 0.0, 0.0, Estimate(0.0, 0.0, 0.0, 0))
    assert loaded.traffic == Traffic(1, ServerTraffic(0.0, 0.0, 0.0), ServerTraffic(0.0, 0.0, 0.0, commands=0.0))
    summary = _hand_written(tmp_path, case, design={"trials": 0, "order_seed": 0, "budget_s": 0})
    assert (summary.design.trials, summary.design.order_seed, summary.design.budget_s) == (0, 0, 0.0)


def test_values_are_read_as_the_types_the_records_declare(tmp_path: Path) -> None:
    """Whole-number timings become floats, whole floats counts become ints, trial keys become ints."""
    case = {**CASE_V3, "median_ms": 2, "rounds": 30.0, "cache_misses": 36.0, "trial_medians_ms": {"10": 3, "2": 1}}
    (loaded,) = _hand_written(tmp_path, case).cases
    assert type(loaded.stats.median_ms) is float and loaded.stats.median_ms == 2.0
    assert type(loaded.rounds) is int and loaded.rounds == 30 and type(loaded.cache_misses) is int
    assert loaded.trial_medians_ms == {10: 3.0, 2: 1.0} and all(type(v) is float for v in
                                                                  loaded.trial_medians_ms.values())


def test_optional_fields_left_out_or_null_load_as_none_or_their_defaults(tmp_path: Path) -> None:
    """Params, cache counters, plan, overhead, traffic, experiment scale and notes, design extras: all optional."""
    case = {k: v for k, v in CASE_V3.items() if k not in ("params", "cache_hits", "experiment", "variant")}
    case.update(cache_misses=None, plan=None, overhead=None, traffic=None)
    experiment = {"name": "antipattern", "title": "t", "question": "q", "scale": None, "figures": {}, "ratios": {},
                  "checks": {}, "conclusion": "c", "variants": None, "migrations": None, "notes": None}
    summary = _hand_written(tmp_path, case, design={"trials": 2, "order_seed": None, "budget_s": None,
                                                   "confidence": None, "interval": "something else"},
                            experiments=[experiment])
    (loaded,) = summary.cases
    assert loaded.params == {} and (loaded.cache_hits, loaded.cache_misses) == (None, None)
    assert (loaded.plan, loaded.overhead, loaded.traffic) == (None, None, None)
    assert loaded.coords.experiment == "" and loaded.coords.variant == ""
    assert summary.design == Design(trials=2, order_seed=None, budget_s=None, confidence=0.95,
                                    interval="20%-trimmed mean across trials with Yuen's interval "
                                             "(log scale for latencies and ratios)")
    assert summary.experiments == [ExperimentResult(
        name="antipattern", title="t", question="q", scale="", variants=(), migrations=(), checks={}, figures={},
        ratios={}, conclusion="c", notes={})]


def test_a_stated_design_is_read_as_stated(tmp_path: Path) -> None:
    """Trials, order seed, budget and a confidence other than the default come back as written."""
    summary = _hand_written(tmp_path, CASE_V3, design={"trials": 7, "order_seed": 11, "budget_s": 1.5,
                                                      "confidence": 0.9, "order": "comparison blocks"})
    assert summary.design == Design(trials=7, order_seed=11, budget_s=1.5, confidence=0.9,
                                    order="comparison blocks")


def test_an_overhead_without_a_ratio_is_no_overhead(tmp_path: Path) -> None:
    """Version 2 and 3: an overhead record whose ratio is null is dropped, not read as a ratio of 0."""
    case = {**CASE_V3, "overhead": {"model": "m", "pairs": 10, "model_ms": 0.3, "raw_ms": 0.2, "ratio": None}}
    assert _hand_written(tmp_path, case).cases[0].overhead is None
    case["overhead"]["ratio"] = [1.5, 1.4, 1.6, 2]
    assert _hand_written(tmp_path, case).cases[0].overhead == Overhead("m", 10, 0.3, 0.2, Estimate(1.5, 1.4, 1.6, 2))


def test_a_version_1_case_reads_its_own_plan_and_overhead_fields(tmp_path: Path) -> None:
    """Version 1 kept plan facts flat on the case and the overhead ratio as one number; traffic it never had."""
    v1 = {**V1_CASE, "overhead": {"model": "find_by_id (nocache)", "pairs": 900, "model_ms": 0.3, "raw_ms": 0.25,
                                  "ratio": 1.2},
          "traffic": "not read in version 1", "trial_medians_ms": "not read in version 1",
          "plan": "not read in version 1"}
    summary = read_summary(_write(tmp_path / "summary.json",
                                  {"schema_version": 1, "environment": {}, "cases": [v1], "design": "not read",
                                   "experiments": "not read"}))
    (case,) = summary.cases
    assert summary.design == Design(trials=1, order_seed=None, budget_s=None) and summary.experiments == []
    assert case.plan == PlanFacts(file="plans/x.json", sql=None, execution_ms=0.1, planning_ms=0.05, total_ms=None,
                                  indexes_used=("balances_pkey",), node_types=("Index Scan",))
    assert case.overhead == Overhead("find_by_id (nocache)", 900, 0.3, 0.25, Estimate(1.2, None, None, 1))
    assert case.traffic is None and case.rounds == 20 and case.trial_medians_ms == {1: 0.2}
    assert (case.cache_hits, case.cache_misses) == (0, 20)


def test_a_version_1_case_without_plan_file_or_with_zero_overhead(tmp_path: Path) -> None:
    """Version 1: no plan file means no plan facts at all; an overhead of zeros is read as zeros."""
    v1 = {**V1_CASE, "plan_file": None, "overhead": {"model": "", "pairs": 0, "model_ms": 0, "raw_ms": 0, "ratio": 0}}
    (case,) = read_summary(_write(tmp_path / "summary.json",
                                  {"schema_version": 1, "environment": {}, "cases": [v1]})).cases
    assert case.plan is None
    assert case.overhead == Overhead("", 0, 0.0, 0.0, Estimate(0.0, None, None, 1))


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda c: c.update(plan_file=3), "cases[0].plan_file is not a string: 3"),
    (lambda c: c.update(execution_ms="0.1"), "cases[0].execution_ms is not a number: '0.1'"),
    (lambda c: c.update(planning_ms=True), "cases[0].planning_ms is not a number: True"),
    (lambda c: c.update(indexes_used="balances_pkey"),
     "cases[0].indexes_used is not a list of strings: 'balances_pkey'"),
    (lambda c: c.update(node_types=[1]), "cases[0].node_types is not a list of strings: [1]"),
    (lambda c: c.update(overhead=[1]), "cases[0].overhead is not an object: [1]"),
    (lambda c: c.update(overhead={"pairs": 1, "model_ms": 1, "raw_ms": 1, "ratio": 1}),
     "cases[0].overhead lacks model"),
    (lambda c: c.update(overhead={"model": "m", "model_ms": 1, "raw_ms": 1, "ratio": 1}),
     "cases[0].overhead lacks pairs"),
    (lambda c: c.update(overhead={"model": "m", "pairs": 1, "raw_ms": 1, "ratio": 1}),
     "cases[0].overhead lacks model_ms"),
    (lambda c: c.update(overhead={"model": "m", "pairs": 1, "model_ms": 1, "ratio": 1}),
     "cases[0].overhead lacks raw_ms"),
    (lambda c: c.update(overhead={"model": "m", "pairs": 1, "model_ms": 1, "raw_ms": 1}),
     "cases[0].overhead lacks ratio"),
    (lambda c: c.update(overhead={"model": "m", "pairs": 1, "model_ms": 1, "raw_ms": 1, "ratio": [1, 1, 1, 1]}),
     "cases[0].overhead.ratio is not a number: [1, 1, 1, 1]"),
])
def test_a_damaged_version_1_case_is_refused_naming_the_field(tmp_path: Path, damage: Any, expected: str) -> None:
    """Version 1's own fields (flat plan facts, a one-number overhead ratio) are validated as strictly."""
    case = dict(V1_CASE)
    damage(case)
    assert _refusal(tmp_path, {"schema_version": 1, "environment": {}, "cases": [case]}) == expected


def test_a_version_3_summary_with_null_experiments_has_none(tmp_path: Path) -> None:
    """Version 3 with experiments null or left out loads with no experiments."""
    assert _hand_written(tmp_path, CASE_V3, experiments=None).experiments == []
    assert _hand_written(tmp_path, CASE_V3).experiments == []


def test_experiment_figures_ratios_checks_and_variants_load_as_written(tmp_path: Path) -> None:
    """A hand-written experiment: every figure, ratio pair, check, variant and note comes back as written."""
    experiment = {"name": "pagination", "title": "Pagination depth", "question": "q?", "scale": "tiny",
                  "variants": [{"name": "offset", "description": "d", "layout": "l", "schema": "s"},
                               {"name": "keyset", "description": "", "layout": "", "schema": ""}],
                  "migrations": ["without_012", "with_012"], "checks": {"with_012": "passed", "without_012": ""},
                  "figures": {"with_012.depth": [1.8, 1.6, 2.0, 3], "with_012.offset.lag.ms": [2, None, None, 1]},
                  "ratios": {"depth": ["a-case", "b-case"]}, "conclusion": "", "notes": {"k": [1, 2]}}
    (loaded,) = _hand_written(tmp_path, CASE_V3, experiments=[experiment]).experiments
    assert loaded == ExperimentResult(
        name="pagination", title="Pagination depth", question="q?", scale="tiny",
        variants=(VariantInfo("offset", "d", "l", "s"), VariantInfo("keyset", "", "", "")),
        migrations=("without_012", "with_012"), checks={"with_012": "passed", "without_012": ""},
        figures={"with_012.depth": Estimate(1.8, 1.6, 2.0, 3), "with_012.offset.lag.ms": Estimate(2.0, None, None, 1)},
        ratios={"depth": ("a-case", "b-case")}, conclusion="", notes={"k": [1, 2]})


# --- the records' own figures and the writer's exact output -------------------------------------------------------


def test_a_case_names_counts_and_estimates_itself() -> None:
    """name is the coordinates' id; trials count the medians; median_ci drops non-positive trials, and with none
    left falls back to the overall median without an interval."""
    case = CaseResult(coords=COORDS, params={}, rounds=3, stats=STATS, trial_medians_ms={1: 0.0, 2: 2.0, 3: 2.0})
    assert case.name == "tiny-with_012-find_by_id-cold-optimized-balance" and case.trials == 3
    assert case.median_ms == 0.2
    assert case.median_ci == Estimate(2.0, 2.0, 2.0, 2)
    flat = replace(case, trial_medians_ms={1: 0.0, 2: -1.0})
    assert flat.median_ci == Estimate(0.2, None, None, 0)
    assert replace(case, trial_medians_ms={1: 4.0}).median_ci == Estimate(4.0, None, None, 1)


def test_plan_shape_traffic_bytes_and_an_experiments_cases() -> None:
    """A plan's shape is (node types, indexes); a server's bytes are both directions; an experiment's cases are
    those of its name at its scale."""
    plan = PlanFacts(file="f", sql=None, execution_ms=None, planning_ms=None, total_ms=None,
                     indexes_used=("i",), node_types=("Index Scan", "Limit"))
    assert plan.shape == (("Index Scan", "Limit"), ("i",))
    assert ServerTraffic(2, 51, 474).bytes == 525
    mine = CaseResult(coords=COORDS.with_(experiment="pagination", variant="offset"), params={}, rounds=1,
                      stats=STATS, trial_medians_ms={1: 0.2})
    other_scale = replace(mine, coords=mine.coords.with_(scale="small"))
    other_name = replace(mine, coords=mine.coords.with_(experiment="antipattern"))
    plain = replace(mine, coords=COORDS)
    assert EXPERIMENT.cases([plain, other_name, mine, other_scale, mine]) == [mine, mine]


def test_the_written_json_is_exactly_the_documented_form(tmp_path: Path) -> None:
    """summary.json's keys and values, by hand: version 4 whatever the record says, every case field, design,
    plan counters, overhead, traffic (Postgres without commands) and experiments."""
    summary = replace(_summary(), schema_version=1, experiments=[EXPERIMENT])
    text = write_summary(tmp_path, summary).read_text(encoding="utf-8")
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=1)
    assert list(doc) == ["schema_version", "environment", "design", "cases", "experiments"]
    assert doc["schema_version"] == 4 and doc["environment"] == {"postgres": {"version": "18"}}
    assert doc["design"] == {"trials": 3, "order_seed": 11, "budget_s": 1.2, "confidence": 0.95,
                             "interval": "20%-trimmed mean across trials with Yuen's interval "
                                         "(log scale for latencies and ratios)", "order": "", "top_ups": [],
                             "reduced_share": None}
    (case,) = doc["cases"]
    median_ci = case.pop("median_ci_ms")
    assert len(median_ci) == 4 and median_ci[3] == 3 and median_ci[1] < median_ci[0] < median_ci[2]
    assert case == {
        "name": "tiny-with_012-find_by_id-cold-optimized-balance", "kind": "read", "query": "find_by_id",
        "cache": "cold", "migration": "with_012", "scale": "tiny", "projection": "optimized",
        "param_kind": "balance", "experiment": "", "variant": "", "params": {"id": 7}, "rounds": 30, "trials": 3,
        "min_ms": 0.1, "median_ms": 0.2, "mean_ms": 0.21, "p95_ms": 0.3, "p99_ms": 0.4, "stddev_ms": 0.05,
        "iqr_ms": 0.06, "max_ms": 0.5, "trial_medians_ms": {"1": 0.2, "2": 0.25, "3": 0.22},
        "cache_hits": 0, "cache_misses": 36,
        "plan": {"file": "plans/x.json", "sql": "SELECT 1", "execution_ms": 0.1, "planning_ms": 0.05,
                 "total_ms": 0.09, "indexes_used": ["balances_pkey"], "node_types": ["Index Scan"],
                 "findings": [{"code": "misestimate", "node": "#1 Index Scan", "message": "planner expected 1 row"}],
                 "nodes": [{"label": "#1 Index Scan", "depth": 0, "subplan_name": None, "exclusive_ms": 0.09,
                            "actual_rows": 1.0, "plan_rows": 1.0, "loops": 1.0, "shared_hit": 3, "shared_read": 0}],
                 "counters": {"signature": "Limit > Index Scan using balances_pkey on balances", "shared_hit": 3,
                              "shared_read": 1, "temp_read": 0, "temp_written": 0, "rows": 1.0}},
        "overhead": {"model": "find_by_id (nocache)", "pairs": 900, "model_ms": 0.3, "raw_ms": 0.28,
                     "ratio": [1.07, 1.05, 1.09, 3]},
        "traffic": {"calls": 3, "postgres": {"round_trips": 1, "bytes_sent": 51, "bytes_received": 474},
                    "redis": {"round_trips": 3, "bytes_sent": 539, "bytes_received": 30, "commands": 3}},
    }
    assert doc["experiments"] == [{
        "name": "pagination", "title": "Pagination depth", "question": "cursor-based pagination", "scale": "tiny",
        "variants": [{"name": "offset", "description": "the guide's", "layout": "plain", "schema": "no change"}],
        "migrations": ["with_012"], "checks": {"with_012": "passed"},
        "figures": {"with_012.offset_depth": [1.8, 1.6, 2.0, 3], "with_012.offset.lag.ms": [2.0, None, None, 1]},
        "ratios": {"offset_depth": ["offset-get_by_user-page-last", "offset-get_by_user-page-1"]},
        "conclusion": "OFFSET is slower at depth.", "notes": {"replica": {"replica": "embedded", "apply_delay_ms": 0}},
    }]


def test_trial_medians_are_written_in_trial_order_and_absent_records_as_null(tmp_path: Path) -> None:
    """Trials are written sorted (10 after 9, as numbers); a case without plan, overhead or traffic writes nulls,
    and a Redis command count of 0 is written, not dropped."""
    case = CaseResult(coords=COORDS, params={}, rounds=1, stats=STATS, trial_medians_ms={10: 1.0, 9: 2.0, 1: 3.0})
    doc = json.loads(replace(_summary(), cases=[case]).to_json())["cases"][0]
    assert list(doc["trial_medians_ms"]) == ["1", "9", "10"]
    assert (doc["plan"], doc["overhead"], doc["traffic"], doc["cache_hits"]) == (None, None, None, None)
    traffic = Traffic(1, ServerTraffic(0, 0, 0), ServerTraffic(1, 2, 3, commands=0))
    assert traffic.as_dict() == {"calls": 1, "postgres": {"round_trips": 0, "bytes_sent": 0, "bytes_received": 0},
                                 "redis": {"round_trips": 1, "bytes_sent": 2, "bytes_received": 3, "commands": 0}}


def test_writing_leaves_only_the_summary_and_stringifies_what_json_cannot_hold(tmp_path: Path) -> None:
    """The temporary file is renamed over summary.json (none left behind); a path in the environment is written as
    its text and a password in it as ***."""
    summary = replace(_summary(), environment={"out": Path("/runs/x"), "dsn": "postgresql://u:pw@h/db"})
    (tmp_path / "summary.json").write_text("old", encoding="utf-8")
    target = write_summary(tmp_path, summary)
    assert target == tmp_path / "summary.json" and sorted(tmp_path.iterdir()) == [target]
    assert json.loads(target.read_text(encoding="utf-8"))["environment"] == {"out": "/runs/x",
                                                                              "dsn": "postgresql://u:***@h/db"}


def test_a_plan_file_name_is_the_case_id_with_unsafe_characters_replaced() -> None:
    """Letters, digits, _, . and - stay; anything else (a slash, a space, a colon) becomes _."""
    odd = COORDS.with_(query="by ID/2:x", experiment="a.b", variant="v W")
    assert plan_file(COORDS) == "plans/tiny-with_012-find_by_id-cold-optimized-balance.json"
    assert plan_file(odd) == "plans/tiny-with_012-by_ID_2_x-cold-optimized-balance-a.b-v_W.json"


def test_a_plan_document_carries_the_case_sql_params_and_settings_redacted() -> None:
    """The plan file's JSON: its format and version, the case's coordinates, the SQL, parameters (any type as text),
    planner settings and EXPLAIN's plan; a password anywhere is ***."""
    text = plan_document(COORDS, "SELECT 1 -- postgresql://u:secret@h/db", {"at": Path("/x"), "id": 7},
                         {"work_mem": "4MB"}, [{"Plan": {"Node Type": "Result"}}])
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=1)
    assert doc == {"format": "balance-bench-plan", "schema_version": 1, "case": COORDS.as_dict(),
                   "sql": "SELECT 1 -- postgresql://u:***@h/db", "params": {"at": "/x", "id": 7},
                   "settings": {"work_mem": "4MB"}, "plan": [{"Plan": {"Node Type": "Result"}}]}


def test_run_directories_are_named_by_time_scales_and_label_and_numbered_when_taken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """<YYYYmmdd-HHMMSS>-<scales>[-label], made with its parents; the same name again gets -2, then -3."""
    import datetime as real

    class Fixed(real.datetime):
        @classmethod
        def now(cls, tz: real.tzinfo | None = None) -> Fixed:
            return cls(2026, 11, 26, 10, 15, 0)

    monkeypatch.setattr("balance_bench.results.datetime", Fixed)
    out = tmp_path / "deep" / "runs"
    first = new_run_dir(out, ("tiny", "small"))
    assert first == out / "20261126-101500-tiny-small" and first.is_dir()
    assert new_run_dir(out, ("tiny", "small")) == out / "20261126-101500-tiny-small-2"
    assert new_run_dir(out, ("tiny", "small")) == out / "20261126-101500-tiny-small-3"
    assert new_run_dir(out, ("tiny",), label="aa") == out / "20261126-101500-tiny-aa"
    assert new_run_dir(out, ("tiny",), label="") == out / "20261126-101500-tiny"


def test_a_version_1_plan_without_timings_has_none(tmp_path: Path) -> None:
    """Version 1: a plan file named without execution or planning time loads with both none."""
    v1 = {k: v for k, v in V1_CASE.items() if k not in ("execution_ms", "planning_ms", "indexes_used", "node_types")}
    (case,) = read_summary(_write(tmp_path / "summary.json",
                                  {"schema_version": 1, "environment": {}, "cases": [v1]})).cases
    assert case.plan == PlanFacts(file="plans/x.json", sql=None, execution_ms=None, planning_ms=None, total_ms=None,
                                  indexes_used=(), node_types=())


def test_empty_experiment_texts_stay_empty(tmp_path: Path) -> None:
    """An experiment whose name, title, question and a variant's name are empty strings loads them as empty."""
    experiment = {"name": "", "title": "", "question": "", "scale": "", "conclusion": "", "figures": {},
                  "ratios": {}, "checks": {}, "variants": [{"name": "", "description": "", "layout": "",
                                                             "schema": ""}]}
    (loaded,) = _hand_written(tmp_path, CASE_V3, experiments=[experiment]).experiments
    assert (loaded.name, loaded.title, loaded.question, loaded.scale, loaded.conclusion) == ("", "", "", "", "")
    assert loaded.variants == (VariantInfo("", "", "", ""),)


def test_a_utf8_summary_reads_the_same_under_an_ascii_locale(tmp_path: Path) -> None:
    """summary.json is read as UTF-8 whatever the machine's locale: non-ASCII text written unescaped comes back."""
    import locale

    doc = {"schema_version": 3, "environment": {"host": "café-π"}, "design": {"trials": 2}, "cases": [CASE_V3]}
    path = tmp_path / "summary.json"
    path.write_bytes(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        summary = read_summary(path)
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert summary.environment == {"host": "café-π"}


def test_top_up_files_are_found_in_the_order_they_were_written(tmp_path: Path) -> None:
    """Top-up 10 comes after 2 (numbers, not text); a file that only looks like one is ignored."""
    from balance_bench.results import top_up_file, top_up_files

    for name in (top_up_file(10), top_up_file(2), "benchmarks-top-up-x.json", "benchmarks.json"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert [p.name for p in top_up_files(tmp_path)] == ["benchmarks-top-up-2.json", "benchmarks-top-up-10.json"]


def test_the_designs_top_ups_round_trip_and_a_summary_written_before_them_has_none(tmp_path: Path) -> None:
    """Each top-up's first trial, trials and cases survive writing and reading; an older design reads as none."""
    from balance_bench.results import TopUpRecord

    design = replace(_summary().design, top_ups=(TopUpRecord(21, 8, 4), TopUpRecord(29, 3, 2)))
    summary = replace(_summary(), design=design)
    assert read_summary(write_summary(tmp_path, summary)).design.top_ups == design.top_ups
    doc = json.loads(_summary().to_json())
    del doc["design"]["top_ups"]
    assert read_summary(_write(tmp_path / "old.json", doc)).design.top_ups == ()
