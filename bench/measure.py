"""From pytest-benchmark's raw timings to the run's ``summary.json`` records.

Statistics are computed here from every raw timing (not pytest-benchmark's
rounded summary), so p95/p99 and the IQR mean the same thing in every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from balance_bench.results import CaseResult, Summary

__all__ = ["timing_stats", "case_results", "build_summary"]


def timing_stats(seconds: list[float]) -> dict[str, float]:
    """min/median/mean/p95/p99/stddev/IQR/max in milliseconds from raw per-call timings in seconds."""
    ms = np.asarray(seconds, dtype=float) * 1000.0
    q1, median, q3, p95, p99 = np.percentile(ms, [25, 50, 75, 95, 99])
    return {
        "min_ms": float(ms.min()),
        "median_ms": float(median),
        "mean_ms": float(ms.mean()),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "stddev_ms": float(ms.std(ddof=1)) if ms.size > 1 else 0.0,
        "iqr_ms": float(q3 - q1),
        "max_ms": float(ms.max()),
    }


def _plan_facts(run_dir: Path, plan_file: str | None, query: str) -> dict[str, Any]:
    if not plan_file:
        return {}
    from balance_bench.reports.analyse import analyse
    from balance_bench.reports.plans import load_plan

    analysis = analyse(load_plan(run_dir / plan_file), query=query)
    return {
        "execution_ms": analysis.execution_ms,
        "planning_ms": analysis.planning_ms,
        "indexes_used": sorted(analysis.indexes_used),
        "node_types": sorted({node.node_type for node in analysis.nodes}),
    }


def case_results(run_dir: Path, benchmarks: list[dict[str, Any]]) -> list[CaseResult]:
    """One ``CaseResult`` per benchmark that carries our coordinates in ``extra_info``."""
    results = []
    for bench in benchmarks:
        info = bench.get("extra_info") or {}
        if "query" not in info or not bench.get("stats", {}).get("data"):
            continue
        plan_file = info.get("plan_file")
        results.append(
            CaseResult(
                name=bench["name"],
                kind=info["kind"],
                query=info["query"],
                cache=info["cache"],
                migration=info["migration"],
                scale=info["scale"],
                projection=info["projection"],
                param_kind=info["param_kind"],
                params=info.get("params", {}),
                rounds=len(bench["stats"]["data"]),
                cache_hits=info.get("cache_hits"),
                cache_misses=info.get("cache_misses"),
                plan_file=plan_file,
                overhead=info.get("overhead"),
                **timing_stats(bench["stats"]["data"]),
                **_plan_facts(run_dir, plan_file, info["query"]),
            )
        )
    return results


def build_summary(run_dir: Path, output_json: dict[str, Any], environment: dict[str, Any]) -> Summary:
    """The run's summary from pytest-benchmark's JSON document and the captured environment."""
    return Summary(environment=environment, cases=case_results(run_dir, output_json.get("benchmarks", [])))
