"""The summarise stage: a run directory's raw artifacts (benchmarks.json, plans/) into ``summary.json``.

A run's top-up sessions (``bench.top_up``: more trials of the cases of undecided verdicts) wrote their own
pytest-benchmark files; their entries join the run's by trial number, and the design records what each
added. Experiments' figures and conclusions are computed here too
(``experiment_results``). It runs after the benchmarks (``balance-bench run`` calls it; ``balance-bench
summarise RUN_DIR`` does it for a plain ``pytest bench/`` run). It groups
pytest-benchmark's entries (one per case and trial) by their coordinates, keeps
each trial's median, computes the distribution of every raw timing, and
analyses every plan once, keeping the facts the report shows, so nothing
downstream re-reads raw timings for statistics or re-analyses a plan.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from balance_bench.bench.experiments.summary import experiment_results
from balance_bench.coordinates import Coordinates
from balance_bench.errors import BenchError, redact
from balance_bench.matrix import all_cases
from balance_bench.plans.analysis import PlanAnalysis, analyse
from balance_bench.plans.parser import read_plan
from balance_bench.plans.signature import plan_counters
from balance_bench.results import (
    BENCHMARKS_FILE,
    CaseResult,
    Design,
    FindingFact,
    Overhead,
    PlanCounters,
    PlanFacts,
    PlanNodeRow,
    Summary,
    TopUpRecord,
    Traffic,
    top_up_files,
    traffic_record,
    write_summary,
)
from balance_bench.statistics import ratio_estimate, timing_stats

__all__ = ["plan_facts", "case_results", "build_summary", "summarise"]


def plan_facts(analysis: PlanAnalysis, file: str, sql: str | None,
               counters: PlanCounters | None = None) -> PlanFacts:
    """The analyser's result, and the plan's counters, as the record the report reads."""
    return PlanFacts(
        file=file,
        sql=redact(sql) if sql else None,
        execution_ms=analysis.execution_ms,
        planning_ms=analysis.planning_ms,
        total_ms=analysis.total_ms,
        indexes_used=tuple(sorted(analysis.indexes_used)),
        node_types=tuple(sorted({node.node_type for node in analysis.nodes})),
        findings=tuple(FindingFact(f.code, f.node, f.message) for f in analysis.findings),
        nodes=tuple(PlanNodeRow(label=n.label, depth=n.depth, subplan_name=n.subplan_name,
                                exclusive_ms=n.exclusive_ms, actual_rows=n.actual_rows, plan_rows=n.plan_rows,
                                loops=n.loops, shared_hit=n.shared_hit, shared_read=n.shared_read)
                    for n in analysis.nodes),
        counters=counters,
    )


@dataclass
class _Group:
    """Every pytest-benchmark entry of one case, across its trials."""

    coords: Coordinates
    params: dict[str, Any]
    seconds: dict[int, list[float]] = field(default_factory=dict)
    hits: int | None = None
    misses: int | None = None
    plan_file: str | None = None
    overhead: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    traffic: Traffic | None = None

    def add(self, trial: int, data: list[float], info: dict[str, Any]) -> None:
        self.seconds.setdefault(trial, []).extend(data)
        for name in ("cache_hits", "cache_misses"):
            if info.get(name) is not None:
                current = getattr(self, name.removeprefix("cache_"))
                setattr(self, name.removeprefix("cache_"), (current or 0) + int(info[name]))
        self.plan_file = self.plan_file or info.get("plan_file")
        if isinstance(info.get("overhead"), dict):
            self.overhead.append((trial, info["overhead"]))
        if self.traffic is None and info.get("traffic") is not None:
            self.traffic = traffic_record(info["traffic"], BENCHMARKS_FILE, f"{self.coords.id}.traffic")


def _overhead(entries: list[tuple[int, dict[str, Any]]]) -> Overhead | None:
    if not entries:
        return None
    by_trial = dict(entries)
    ratio = ratio_estimate({t: float(o["model_ms"]) for t, o in by_trial.items()},
                           {t: float(o["raw_ms"]) for t, o in by_trial.items()})
    if ratio is None:
        return None
    return Overhead(
        model=str(entries[0][1].get("model", "")),
        pairs=sum(int(o.get("pairs", 0)) for o in by_trial.values()),
        model_ms=statistics.median(float(o["model_ms"]) for o in by_trial.values()),
        raw_ms=statistics.median(float(o["raw_ms"]) for o in by_trial.values()),
        ratio=ratio,
    )


def _plan(run_dir: Path, file: str | None, query: str) -> PlanFacts | None:
    if not file:
        return None
    plan = read_plan(run_dir / file)
    return plan_facts(analyse(plan, query=query), file, plan.sql, plan_counters(plan))


def _groups(benchmarks: Iterable[dict[str, Any]]) -> list[_Group]:
    groups: dict[Coordinates, _Group] = {}
    for bench in benchmarks:
        info = bench.get("extra_info") or {}
        data = (bench.get("stats") or {}).get("data")
        if "query" not in info or not data:
            continue  # not one of ours, or it never ran
        coords = Coordinates.from_dict(info, f"{BENCHMARKS_FILE}: {bench.get('name', '?')}")
        group = groups.setdefault(coords, _Group(coords, dict(info.get("params") or {})))
        group.add(int(info.get("trial") or 1), list(data), info)
    order = {c: i for i, c in enumerate(all_cases(tuple(dict.fromkeys(c.scale for c in groups))))}
    return sorted(groups.values(), key=lambda g: order.get(g.coords, len(order)))


def case_results(run_dir: Path, benchmarks: list[dict[str, Any]]) -> list[CaseResult]:
    """One ``CaseResult`` per case that carries our coordinates in ``extra_info``, in the matrix's order."""
    results = []
    for group in _groups(benchmarks):
        every = [s * 1000.0 for trial in sorted(group.seconds) for s in group.seconds[trial]]
        results.append(CaseResult(
            coords=group.coords,
            params=group.params,
            rounds=len(every),
            stats=timing_stats(every),
            trial_medians_ms={t: statistics.median(s) * 1000.0 for t, s in sorted(group.seconds.items())},
            cache_hits=group.hits,
            cache_misses=group.misses,
            plan=_plan(run_dir, group.plan_file, group.coords.query),
            overhead=_overhead(group.overhead),
            traffic=group.traffic,
        ))
    return results


def _design(record: dict[str, Any], top_ups: tuple[TopUpRecord, ...] = ()) -> Design:
    design = record.get("design") or {}
    return Design(trials=int(design.get("trials") or 1), order_seed=design.get("order_seed"),
                  budget_s=design.get("budget_s"), order=str(design.get("order") or ""), top_ups=top_ups,
                  reduced_share=design.get("reduced_share"))


def _top_up(path: Path) -> tuple[TopUpRecord, list[dict[str, Any]]]:
    """A top-up file's record and entries; a BenchError line if it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        raw = document["balance_bench"]["top_up"]
        record = TopUpRecord(first_trial=int(raw["first_trial"]), trials=int(raw["trials"]), cases=len(raw["cases"]))
        benchmarks = list(document.get("benchmarks", []))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BenchError(f"{path}: not a readable top-up file of this run ({exc.__class__.__name__}: {exc})"
                         ) from None
    return record, benchmarks


def build_summary(run_dir: Path, document: dict[str, Any]) -> Summary:
    """The run's summary from pytest-benchmark's JSON document (with our ``balance_bench`` record), and the
    entries of its top-up files."""
    record = document.get("balance_bench") or {}
    top_ups = [_top_up(path) for path in top_up_files(run_dir)]
    benchmarks = [*document.get("benchmarks", []), *(entry for _, entries in top_ups for entry in entries)]
    cases = case_results(run_dir, benchmarks)
    return Summary(environment=record["environment"], design=_design(record, tuple(t for t, _ in top_ups)),
                   cases=cases, experiments=experiment_results(record.get("experiments"), cases))


def summarise(run_dir: Path) -> Path:
    """Write ``run_dir/summary.json`` from the run's raw artifacts; a BenchError line if they are unusable."""
    path = run_dir / BENCHMARKS_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"{path}: no such file (run the benchmarks first: balance-bench run, or pytest bench/)"
                         ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchError(f"{path}: not a readable pytest-benchmark JSON file ({exc})") from None
    record = document.get("balance_bench") if isinstance(document, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("environment"), dict):
        raise BenchError(f"{path}: has no balance-bench environment record (was it written by pytest bench/?)")
    summary = build_summary(run_dir, document)
    if not summary.cases:
        raise BenchError(f"{path}: holds no timed case of the matrix")
    return write_summary(run_dir, summary)
