"""scripts/counter_stability.py: per counter, how many cases are identical across runs and the largest relative
difference, from hand-made runs whose differences are known; a run without plan counters is refused."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.reports.runs import Run
from balance_bench.results import CaseResult, Design, PlanCounters, PlanFacts, ServerTraffic, Summary, Traffic
from balance_bench.statistics import TimingStats
from tests.reports.conftest import build_run

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "counter_stability.py"
READ = Coordinates(Kind.READ, "find_by_user_id", CacheState.NOCACHE, Migration.WITH_012, "small", "optimized",
                   "typical")
DEBIT = Coordinates(Kind.WRITE, "debit", CacheState.INVALIDATE, Migration.WITH_012, "small", "optimized", "balance")
WARM = READ.with_(cache="warm")
REFERENCE = Coordinates(Kind.REFERENCE, "raw_pg_select_1", CacheState.RAW, Migration.WITH_012, "small", "optimized",
                        "balance")


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("counter_stability_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _case(coords: Coordinates, signature: str | None = "Seq Scan on t", hit: int = 4, read: int = 0,
          received: float = 474.0) -> CaseResult:
    stats = TimingStats(0.1, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0, 0.1)
    plan = None if signature is None else PlanFacts("p", None, None, None, None, (), (),
                                                     counters=PlanCounters(signature, hit, read, 0, 0, 2.0))
    return CaseResult(coords=coords, params={}, rounds=1, stats=stats, trial_medians_ms={1: 0.1}, plan=plan,
                      traffic=Traffic(3, ServerTraffic(1.0, 51.0, received), ServerTraffic(0.0, 0.0, 0.0, 0.0)))


def _run(name: str, cases: list[CaseResult]) -> Run:
    return Run(path=Path(name), summary=Summary(environment={}, design=Design(2, 0, 1.0), cases=cases), _raw={})


def test_each_counter_counts_identical_cases_and_its_largest_difference(script: ModuleType) -> None:
    """Three runs: the read identical; the write's blocks 39, 41, 39 (split moved too); the warm read without a plan
    counts for traffic only; the reference case is left out, whatever it did."""
    runs = [_run("a", [_case(READ), _case(DEBIT, hit=39), _case(WARM, None), _case(REFERENCE, "x", hit=1)]),
            _run("b", [_case(READ, hit=0, read=4), _case(DEBIT, hit=41, received=475.0), _case(WARM, None),
                       _case(REFERENCE, "y", hit=9)]),
            _run("c", [_case(READ), _case(DEBIT, hit=39), _case(WARM, None), _case(REFERENCE, "z", hit=90)])]
    rows = {row.counter: row for row in script.stability(runs)}
    assert (rows["signature"].cases, rows["signature"].identical, rows["signature"].largest_pct) == (2, 2, None)
    blocks = rows["shared_blocks"]
    assert (blocks.cases, blocks.identical, blocks.worst, blocks.values) == (2, 1, DEBIT.label, "39.0 | 41.0 | 39.0")
    assert blocks.largest_pct == pytest.approx((41 / 39 - 1) * 100)
    assert (rows["shared_hit"].identical, rows["shared_read"].identical) == (0, 1)
    assert math.isinf(rows["shared_read"].largest_pct)  # 0 in two runs, 4 in one
    assert (rows["pg_round_trips"].cases, rows["pg_round_trips"].identical) == (3, 3)
    assert rows["pg_bytes_received"].largest_pct == pytest.approx((475 / 474 - 1) * 100)


def test_a_different_plan_is_an_infinite_difference(script: ModuleType) -> None:
    """A signature that differs between runs is not identical, and its difference is not a percentage."""
    rows = {row.counter: row for row in script.stability([_run("a", [_case(READ)]),
                                                           _run("b", [_case(READ, "Index Scan using i on t")])])}
    assert rows["signature"].identical == 0 and math.isinf(rows["signature"].largest_pct)
    assert rows["signature"].values == "Seq Scan on t | Index Scan using i on t"


def test_the_printout_has_a_line_per_counter_and_the_worst_cases(script: ModuleType) -> None:
    """The table names the runs, one line per counter with its figures, then the worst case of each that moved."""
    runs = [_run("a", [_case(DEBIT, hit=39)]), _run("b", [_case(DEBIT, hit=41)])]
    text = script.render(runs, script.stability(runs))
    assert text.startswith("2 runs: a, b\n")
    assert "shared blocks                  1         0               5.1%" in text
    assert "plan                           1         1                  —" in text
    assert f"  shared blocks: {DEBIT.label}: 39.0 | 41.0" in text


def test_main_reads_run_directories_and_writes_json(script: ModuleType, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Two synthetic runs of the same plans: every plan counter identical; --json holds one object per counter."""
    target = tmp_path / "stability.json"
    first, second = build_run(tmp_path / "a", seed=1), build_run(tmp_path / "b", seed=2)
    assert script.main([str(first), str(second), "--json", str(target)]) == 0
    assert capsys.readouterr().out.startswith("2 runs: a, b\n")
    rows = json.loads(target.read_text(encoding="utf-8"))
    signature = next(row for row in rows if row["counter"] == "signature")
    assert signature["cases"] > 0 and signature["identical"] == signature["cases"]


def test_main_refuses_a_run_without_plan_counters(script: ModuleType, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A version 3 summary has no plan counters: exit 2, naming the run and how to rewrite it."""
    old = build_run(tmp_path / "old", seed=1)
    doc = json.loads((old / "summary.json").read_text(encoding="utf-8"))
    doc["schema_version"] = 3
    (old / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    assert script.main([str(old), str(build_run(tmp_path / "new", seed=2))]) == 2
    assert f"balance-bench summarise {old} rewrites it" in capsys.readouterr().err


def test_main_needs_two_runs(script: ModuleType, tmp_path: Path) -> None:
    """One run is a usage error (argparse's exit 2)."""
    with pytest.raises(SystemExit) as raised:
        script.main([str(tmp_path)])
    assert raised.value.code == 2
