"""The summarise stage: a run directory's raw artifacts (benchmarks.json, plans/) into ``summary.json``.

It runs after the benchmarks (``balance-bench run`` calls it; ``balance-bench
summarise RUN_DIR`` does it for a plain ``pytest bench/`` run), analyses every
plan once and keeps the facts the report needs, so nothing downstream re-reads
raw timings to compute statistics or re-analyses plans. Statistics are computed
from every raw timing (not pytest-benchmark's rounded summary), so p95/p99 and
the IQR mean the same thing in every run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from balance_bench.errors import BenchError
from balance_bench.reports.analyse import analyse
from balance_bench.reports.plans import load_plan
from balance_bench.results import BENCHMARKS_FILE, CaseResult, Summary, write_summary

__all__ = ["timing_stats", "case_results", "build_summary", "summarise"]


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


def summarise(run_dir: Path) -> Path:
    """Write ``run_dir/summary.json`` from the run's raw artifacts; a BenchError line if they are unusable."""
    path = run_dir / BENCHMARKS_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"{path}: no such file (run the benchmarks first: balance-bench run, or pytest bench/)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchError(f"{path}: not a readable pytest-benchmark JSON file ({exc})") from None
    environment = (document.get("balance_bench") or {}).get("environment") if isinstance(document, dict) else None
    if not isinstance(environment, dict):
        raise BenchError(f"{path}: has no balance-bench environment record (was it written by pytest bench/?)")
    return write_summary(run_dir, build_summary(run_dir, document, environment))
