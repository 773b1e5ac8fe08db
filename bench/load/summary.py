"""Turn the master's step captures into ``load.json``'s records: exact percentiles, rates, the checks.

Every latency figure comes from the union of the processes' raw samples
(``percentiles``); Locust's own (bucketed) percentiles, read from its CSV, sit
beside them for comparison. Database calls per second come from
``pg_stat_statements`` when it is readable, else from ``pg_stat_database``'s
``xact_commit`` (each model call is one autocommit transaction on the run's
private copy).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from balance_bench.bench.load.capture import Capture, Ledger
from balance_bench.bench.load.correctness import conservation, staleness
from balance_bench.bench.load.percentiles import latency_stats
from balance_bench.bench.load.plan import StepSpec, pool_label
from balance_bench.bench.load.probes import deltas, statement_deltas
from balance_bench.coordinates import CacheUse, Migration
from balance_bench.load_records import (
    CacheFamily,
    ConservationResult,
    OperationResult,
    StalenessResult,
    StatementResult,
    StepResult,
)

__all__ = ["step_result", "locust_figures", "conservation_results", "staleness_results", "processes",
           "STATEMENTS_SOURCE", "XACT_SOURCE"]

STATEMENTS_SOURCE = "pg_stat_statements"
XACT_SOURCE = "pg_stat_database.xact_commit"


def locust_figures(csv_path: Path) -> dict[tuple[str, str], dict[str, float]]:
    """Locust's own per-step figures from its ``locust_stats.csv``: (step label, operation) -> p50/p95/p99."""
    if not csv_path.exists():
        return {}
    frame = pd.read_csv(csv_path)
    found = {}
    for row in frame.to_dict("records"):
        if row.get("Name") == "Aggregated":
            continue
        figures = {q: _number(row.get(f"{q[1:]}%")) for q in ("p50", "p95", "p99")}
        found[(str(row["Type"]), str(row["Name"]))] = {q: v for q, v in figures.items() if v is not None}
    return found


def _number(value: Any) -> float | None:
    """A CSV cell as a float; None for Locust's "N/A" and empty cells."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def step_result(capture: Capture, run_dir: Path, locust: Mapping[tuple[str, str], Mapping[str, float]]) -> StepResult:
    """One step's record, from its capture (and Locust's CSV figures for that step)."""
    doc = capture.doc
    step = StepSpec.from_dict(doc["step"], f"{capture.path}: step")
    seconds = float(doc["window"]["seconds"])
    workers = doc["workers"].values()
    failures: dict[str, int] = defaultdict(int)
    for worker in workers:
        for op, n in worker["failures"].items():
            failures[op] += int(n)
    operations = []
    all_parts: list[np.ndarray[Any, Any]] = []
    for op in sorted(set(capture.operations()) | {o for o in failures if o != "setup"}):
        parts = list(capture.samples(op).values())
        all_parts += parts
        stats = latency_stats(parts)
        theirs = locust.get((step.label, op), {})
        operations.append(OperationResult(
            operation=op, requests=int(stats["count"] or 0), failures=failures.get(op, 0),
            throughput_rps=(stats["count"] or 0) / seconds,
            mean_ms=_optional(stats["mean_ms"]), p50_ms=_optional(stats["p50_ms"]),
            p95_ms=_optional(stats["p95_ms"]), p99_ms=_optional(stats["p99_ms"]), max_ms=_optional(stats["max_ms"]),
            locust_p50_ms=theirs.get("p50"), locust_p95_ms=theirs.get("p95"), locust_p99_ms=theirs.get("p99")))
    overall = latency_stats(all_parts)
    families = _cache_families(worker["cache"] for worker in workers)
    hits = sum(f.hits for f in families)
    looked_up = hits + sum(f.misses for f in families)
    pg = deltas(doc["postgres"]["before"], doc["postgres"]["after"])
    statements = None
    if doc["postgres"]["statements_before"] is not None and doc["postgres"]["statements_after"] is not None:
        statements = [StatementResult(**s) for s in statement_deltas(doc["postgres"]["statements_before"],
                                                                     doc["postgres"]["statements_after"], seconds)]
    if statements is not None:
        db_calls, source = sum(s.calls for s in statements) / seconds, STATEMENTS_SOURCE
    else:
        db_calls, source = pg["xact_commit"] / seconds, XACT_SOURCE
    errors = [e for worker in workers for e in worker["errors"]]
    return StepResult(
        index=step.index, trial=step.trial, migration=step.migration, cache=step.cache,
        connections=pool_label(step.pool), users=step.users, processes=len(doc["workers"]), window_s=seconds,
        requests=int(overall["count"] or 0), failures=sum(v for k, v in failures.items() if k != "setup"),
        throughput_rps=(overall["count"] or 0) / seconds, mean_ms=_optional(overall["mean_ms"]),
        p50_ms=_optional(overall["p50_ms"]), p95_ms=_optional(overall["p95_ms"]), p99_ms=_optional(overall["p99_ms"]),
        max_ms=_optional(overall["max_ms"]), operations=operations, cache_families=families,
        hit_rate=hits / looked_up if step.cache is CacheUse.ON and looked_up else None, postgres=pg,
        db_calls_per_s=db_calls,
        db_calls_source=source, redis=deltas(doc["redis"]["before"], doc["redis"]["after"]),
        arrays=str(capture.path.parent.joinpath(doc["arrays"]).relative_to(run_dir)),
        users_at_end=int(doc["users"]["at_end"]), statements=statements, errors=errors[:10])


def _cache_families(per_worker: Iterable[Mapping[str, list[int]]]) -> list[CacheFamily]:
    totals: dict[str, list[int]] = {}
    for cache in per_worker:
        for family, counts in cache.items():
            total = totals.setdefault(family, [0, 0, 0, 0])
            for i, value in enumerate(counts):
                total[i] += int(value)
    return [CacheFamily(family, h, m, e, r, h / (h + m) if h + m else None)
            for family, (h, m, e, r) in sorted(totals.items())]


def conservation_results(captures: Iterable[Capture], sums: Mapping[Migration, tuple[Decimal, Decimal]]
                         ) -> list[ConservationResult]:
    """Per database copy (migration state): before + committed credits - committed debits against after."""
    ledgers: dict[Migration, Ledger] = {migration: Ledger() for migration in sums}
    for capture in captures:
        ledgers[Migration(capture.doc["step"]["migration"])].add(capture.ledger())
    results = []
    for migration, (before, after) in sums.items():
        outcome = conservation(before, after, ledgers[migration])
        ledger = outcome.ledger
        results.append(ConservationResult(
            migration=migration, sum_before=str(before), sum_after=str(after), credits=str(ledger.credits),
            debits=str(ledger.debits), credit_n=ledger.credit_n, debit_n=ledger.debit_n,
            rejected_n=ledger.rejected_n, ambiguous_n=ledger.ambiguous_n, difference=str(outcome.difference),
            status=outcome.status))
    return results


def staleness_results(captures: list[Capture], migrations: Iterable[Migration]) -> list[StalenessResult]:
    """Per database copy: every logged read against the writes that finished before it began, over all steps."""
    results = []
    for migration in migrations:
        mine = [c for c in captures if c.doc["step"]["migration"] == migration]
        reads = _concat(c.log("reads") for c in mine)
        writes = _concat(c.log("writes") for c in mine)
        outcome = staleness(reads, writes)
        results.append(StalenessResult(migration=migration, reads=outcome.reads, writes=outcome.writes,
                                       checked=outcome.checked, violations=outcome.violations,
                                       examples=outcome.examples, status=outcome.status))
    return results


def _concat(logs: Iterable[dict[str, np.ndarray[Any, Any]]]) -> dict[str, np.ndarray[Any, Any]]:
    logs = list(logs)
    if not logs:
        return {"id": np.zeros(0, np.int64), "version": np.zeros(0, np.int64), "t": np.zeros(0)}
    return {k: np.concatenate([log[k] for log in logs]) for k in ("id", "version", "t")}


def processes(captures: Iterable[Capture]) -> list[dict[str, Any]]:
    """Each Locust process that generated load: host, pid, psycopg's wait function and the overlap check."""
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for capture in captures:
        for worker, entry in capture.doc["workers"].items():
            info = dict(entry["process"])
            seen.setdefault((str(info.get("host")), int(info.get("pid", 0))), {"worker": worker, **info})
    return list(seen.values())
