"""summary.json: version 2 round-trips, version 1 still loads as one trial, and bad records are one clear line."""

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
    PlanFacts,
    PlanNodeRow,
    ServerTraffic,
    Summary,
    Traffic,
    VariantInfo,
    new_run_dir,
    read_summary,
    write_summary,
)
from balance_bench.statistics import Estimate, TimingStats

COORDS = Coordinates(Kind.READ, "find_by_id", CacheState.COLD, Migration.WITH_012, "tiny", "optimized", "balance")
STATS = TimingStats(0.1, 0.2, 0.21, 0.3, 0.4, 0.05, 0.06, 0.5)


def _summary() -> Summary:
    plan = PlanFacts(file="plans/x.json", sql="SELECT 1", execution_ms=0.1, planning_ms=0.05, total_ms=0.09,
                     indexes_used=("balances_pkey",), node_types=("Index Scan",),
                     findings=(FindingFact("misestimate", "#1 Index Scan", "planner expected 1 row"),),
                     nodes=(PlanNodeRow("#1 Index Scan", 0, None, 0.09, 1.0, 1.0, 1.0, 3, 0),))
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


def test_version_3_round_trips_every_field(tmp_path: Path) -> None:
    """What write_summary writes, read_summary reads back unchanged, experiment records included."""
    summary = replace(_summary(), experiments=[EXPERIMENT])
    loaded = read_summary(write_summary(tmp_path, summary))
    assert loaded == summary and loaded.schema_version == SCHEMA_VERSION == 3
    assert loaded.cases[0].median_ci.trials == 3
    assert loaded.experiments[0].figures["with_012.offset_depth"].has_interval


def test_a_version_2_summary_loads_without_experiments(tmp_path: Path) -> None:
    """A version 2 summary (before experiments) still loads; an 'experiments' key in it is not trusted."""
    doc = json.loads(_summary().to_json())
    doc["schema_version"] = 2
    doc["experiments"] = [{"name": "ignored"}]
    loaded = read_summary(_write(tmp_path / "summary.json", doc))
    assert loaded.schema_version == 2 and loaded.experiments == [] and loaded.cases == _summary().cases


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


@pytest.mark.parametrize("version", [0, 4, 99, "2", True, None])
def test_unknown_versions_are_refused_with_what_to_do(tmp_path: Path, version: object) -> None:
    """A version this release does not know is one line naming the file and the readable versions."""
    path = _write(tmp_path / "summary.json", {"schema_version": version, "environment": {}, "cases": []})
    with pytest.raises(BenchError) as info:
        read_summary(path)
    assert str(path) in str(info.value) and "reads versions 1, 2, 3" in str(info.value)


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
                     nodes=(PlanNodeRow("", 2, "InitPlan 1", None, None, None, None, None, None),))
    summary = _summary()
    bare = Summary(environment={}, design=summary.design, cases=[
        CaseResult(coords=COORDS, params={}, rounds=1, stats=STATS, trial_medians_ms={1: 0.2}, plan=plan)])
    loaded = read_summary(write_summary(tmp_path, bare))
    assert loaded == bare and loaded.cases[0].plan == plan
