"""Run directories for the report tests: a realistic synthetic one, or a real quick run when the session has one.

The synthetic run has the real matrix's coordinates (from ``balance_bench.matrix``) in
shuffled trials, raw timings shaped like this machine's (a drift per trial,
log-normal rounds with a few outliers, local socket magnitudes), real EXPLAIN
captures from ``data/plans`` as its plan files, and an environment with the
keys ``bench.environment`` records; the real summarise stage writes its
summary.json. Tests
that need specific numbers build their own with ``make_run``; tests that only
check properties of any report take ``run_dir``, which is a real quick run
whenever a ``real_run_dir`` fixture exists (tests/conftest.py may add one).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from balance_bench.bench.summary import summarise
from balance_bench.coordinates import EXPLICIT_JOINED, LEGACY, OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.matrix import all_cases
from balance_bench.reports.runs import Run
from balance_bench.results import (
    BENCHMARKS_FILE,
    PLANS_DIR,
    CaseResult,
    Design,
    Summary,
    plan_document,
    plan_file,
)
from balance_bench.scales import SCALES
from balance_bench.statistics import TimingStats

PLAN_DATA = Path(__file__).parents[1] / "plans" / "data" / "pg15"

# Median ms on the database path with 012, per (query, param_kind): local-socket magnitudes.
NOCACHE_MS = {
    ("find_by_id", "balance"): 0.22,
    ("find_by_user_id", "typical"): 0.40,
    ("find_by_user_id", "whale"): 2.6,
    ("find_by_user_id_and_token_id", "pair"): 0.24,
    ("get_by_user", "typical"): 0.33,
    ("get_by_user", "whale"): 0.55,
    ("total_balance_by_user", "typical"): 0.28,
    ("total_balance_by_user", "whale"): 1.1,
    ("total_balance", "system"): 6.0,
    ("find_by_address", "address"): 0.30,
    ("find_by_token_id", "popular"): 3.2,
}
WITHOUT_012_FACTOR = {"find_by_id": 1.0, "total_balance": 1.0}  # the rest lose an index: seq scans
WRITE_MS = {"create": (0.55, 0.80), "credit": (0.45, 0.52), "debit": (0.46, 0.53), "delete": (0.50, 0.66)}
REFERENCE_MS = {
    "raw_pg_select_1": 0.045,
    "raw_pg_find_by_id": 0.09,
    "raw_redis_get": 0.035,
    "raw_redis_get_decode": 0.05,
}
# Which real capture stands in for each query's plan, (without 012, with 012).
PLANS = {
    "find_by_id": ("index_scan.json", "index_scan.json"),
    "find_by_user_id": ("seq_scan_filter.json", "nested_loop.json"),
    "find_by_user_id_and_token_id": ("find_by_user_id_and_token_id_baseline.json", "find_by_user_id_and_token_id.json"),
    "get_by_user": ("sort_spill.json", "get_by_user.json"),
    "total_balance_by_user": ("seq_scan_filter.json", "total_balance_by_user.json"),
    "total_balance": ("parallel.json", "parallel.json"),
    "find_by_address": ("seq_scan_filter.json", "misestimate.json"),
    "find_by_token_id": ("seq_scan_filter.json", "lossy_bitmap.json"),
}
PROJECTION_FACTOR = {LEGACY: 1.3, EXPLICIT_JOINED: 1.2, OPTIMIZED: 1.0}
EVIL = "<script>alert('x')</script>"


def median_ms(case: Coordinates) -> float:
    """The synthetic median of a case, before any slowdown."""
    if case.kind is Kind.REFERENCE:
        return REFERENCE_MS[case.query]
    if case.kind is Kind.WRITE:
        return WRITE_MS[case.query][case.migration is Migration.WITH_012]
    base = NOCACHE_MS[(case.query, case.param_kind)]
    if case.migration is Migration.WITHOUT_012:
        base *= WITHOUT_012_FACTOR.get(case.query, 8.0)
    base *= PROJECTION_FACTOR[case.projection]
    if case.cache is CacheState.COLD:
        return base + 0.12
    if case.cache is CacheState.GUIDE_COLD:  # one Redis round trip less than ours on a miss
        return base + 0.08
    if case.cache is CacheState.WARM:
        return 0.07 + (0.25 if case.param_kind == "whale" else 0.0)
    return base


SIZE_GROWTH = 0.2
"""With ``by_size``: an indexed read's database time grows as (rows / 1,000) ** this (about x2.5 per 100x rows)."""
SCAN_GROWTH = 0.5
"""With ``by_size``: what a read that loses its index without 012 grows by on top (a scan: x0.7 at 1,000 rows, x7 at
100,000 and x22 at 1,000,000), so 012 is slower at ``tiny`` and faster from ``small`` up."""


def sized_median_ms(case: Coordinates, rows: int) -> float:
    """The synthetic median of a case at ``rows`` balances (``build_run(by_size=True)``): the database part of a read
    grows with the table, faster without 012's index; a hit, a write and a raw reference do not."""
    if case.kind is not Kind.READ:
        return median_ms(case)
    growth = (rows / 1_000) ** SIZE_GROWTH
    base = NOCACHE_MS[(case.query, case.param_kind)] * growth * PROJECTION_FACTOR[case.projection]
    if case.migration is Migration.WITHOUT_012 and case.query not in WITHOUT_012_FACTOR:
        base *= 0.7 * (rows / 1_000) ** SCAN_GROWTH
    if case.cache is CacheState.COLD:
        return base + 0.12
    if case.cache is CacheState.GUIDE_COLD:
        return base + 0.08
    if case.cache is CacheState.WARM:
        return median_ms(case)
    return base


def traffic(case: Coordinates) -> dict[str, Any]:
    """Traffic per call shaped like the model's: a statement when the case reaches PostgreSQL; a miss 3 Redis
    round trips (the guide's design 2), a hit or an invalidation 1; legacy and whales move more bytes."""
    reads_pg = case.cache.reaches_database and not (case.kind is Kind.REFERENCE and "redis" in case.query)
    size = 474 * (40 if case.param_kind == "whale" else 1) * (1.5 if case.projection == LEGACY else 1.0)
    redis_trips = {CacheState.COLD: 3, CacheState.GUIDE_COLD: 2, CacheState.WARM: 1,
                   CacheState.INVALIDATE: 1}.get(case.cache, 0)
    if case.kind is Kind.REFERENCE and "redis" in case.query:
        redis_trips = 1
    return {"calls": 3,
            "postgres": {"round_trips": 1 if reads_pg else 0, "bytes_sent": 51 if reads_pg else 0,
                         "bytes_received": size if reads_pg else 0},
            "redis": {"round_trips": redis_trips, "bytes_sent": 43 * redis_trips,
                      "bytes_received": 30 + (size if case.cache is CacheState.WARM else 0) if redis_trips else 0,
                      "commands": redis_trips}}


def environment(scales: tuple[str, ...], by_size: bool = False) -> dict[str, Any]:
    """An environment shaped like ``bench.environment.capture_environment``'s; ``by_size``: each dataset records its
    scale's own row counts (else 20,000 balances whatever the scale)."""
    return {
        "captured_at": "2026-01-15T10:00:00+00:00",
        "postgres": {
            "version": "18.1",
            "settings": {"work_mem": "4MB", "random_page_cost": "4", "jit": "on", "shared_buffers": "128MB"},
        },
        "redis": {"version": "6.2.14"},
        "services": {"postgres": "embedded", "redis": "embedded", "redis_prefix": "bb:test:"},
        "machine": {"cpu": "Test CPU @ 3.0GHz", "cores": 8, "memory_gib": 16.0, "platform": "Linux-6.1-x86_64"},
        "python": "3.11.2",
        "packages": {"balance-bench": "0.1.0", "SQLAlchemy": "2.0.36", "pandas": "2.3.3"},
        "git": {"commit": "77ac75a" + "0" * 33, "dirty": False},
        "datasets": [
            {
                "scale": s,
                "seed": 42,
                "database": f"balance_bench_{s}",
                "fingerprint": "abc123",
                "rows": ({"users": SCALES[s].users, "tokens": SCALES[s].tokens, "balances": SCALES[s].balances}
                         if by_size else {"users": 1000, "tokens": 50, "balances": 20000}),
                "params": {"typical_user_id": 17, "whale_user_id": 3, "balance_id": 123},
            }
            for s in scales
        ],
        "settings": {"dsn": "embedded", "redis_url": "embedded", "scales": list(scales), "seed": 42, "quick": True},
        "index_sizes": {
            s: {
                "idx_balances_user_token": 458752,
                "idx_balances_token_id": 196608,
                "idx_balances_address": 1318912,
                "idx_balances_user_created": 622592,
                "idx_balances_user_usd": 630784,
            }
            for s in scales
        },
    }


def _plan_file(run_dir: Path, case: Coordinates, sql: str, plans: dict[str, tuple[str, str]]) -> str:
    without, with_ = plans.get(case.query, ("index_scan.json", "index_scan.json"))
    source = PLAN_DATA / (with_ if case.migration is Migration.WITH_012 else without)
    relative = plan_file(case)
    (run_dir / relative).write_text(
        plan_document(case, sql, {"user_id": 17}, {"work_mem": "4MB"}, json.loads(source.read_text(encoding="utf-8"))),
        encoding="utf-8")
    return relative


def build_run(
    run_dir: Path,
    *,
    scales: tuple[str, ...] = ("tiny",),
    trials: int = 6,
    rounds: int = 40,
    seed: int = 0,
    drift: float = 0.05,
    noise: float = 0.15,
    slowdown: Callable[[Coordinates], float] | None = None,
    evil: bool = False,
    env: dict[str, Any] | None = None,
    plans: dict[str, tuple[str, str]] | None = None,
    counted: bool = True,
    order: str | None = None,
    by_size: bool = False,
    queries: tuple[str, ...] | None = None,
) -> Path:
    """Write the raw artifacts of a synthetic run into ``run_dir`` and summarise them with the real stage.

    Each of ``trials`` trials has its own machine state: a drift factor (log-normal, sd ``drift``) shared by
    every case of that trial, as a real machine's moves; rounds scatter around it (sd ``noise``, 2% outliers).
    ``slowdown`` multiplies chosen cases' timings; ``evil`` puts markup into names, params, SQL, find_by_id's
    parameter kind and the environment; ``env`` is merged over the default environment; ``plans`` overrides
    which capture stands in for a query's plans; ``counted`` gives each case its traffic (a run made before
    traffic was counted has none). ``by_size`` makes reads slower on larger scales (``sized_median_ms``) and records
    each scale's real row count; ``queries`` keeps only those queries' cases, reads, writes or references (a smaller
    run renders faster).
    """
    plans = {**PLANS, **(plans or {})}
    rng = np.random.default_rng(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / PLANS_DIR).mkdir(exist_ok=True)
    cases = [c for c in all_cases(scales) if queries is None or c.query in queries]
    if evil:
        cases = [c.with_(param_kind=f"{EVIL}$x^2$") if c.query == "find_by_id" else c for c in cases]
    states = np.exp(rng.normal(0.0, drift, trials))
    benchmarks, planned = [], set()
    for trial in range(1, trials + 1):
        for position, case in enumerate(rng.permutation(len(cases)), start=1):
            coords = cases[case]
            factor = slowdown(coords) if slowdown else 1.0
            plain = coords.with_(param_kind="balance") if evil and coords.query == "find_by_id" else coords
            base = sized_median_ms(plain, SCALES[coords.scale].balances) if by_size else median_ms(plain)
            seconds = base * factor * states[trial - 1] / 1000.0 * np.exp(rng.normal(0.0, noise, rounds))
            seconds[rng.random(rounds) < 0.02] *= 3.0
            params: dict[str, Any] = {"user_id": 17, **({"note": EVIL} if evil else {})}
            extra: dict[str, Any] = {**coords.as_dict(), "trial": trial, "position": position, "params": params}
            if counted:
                extra["traffic"] = traffic(coords)
            if coords.cache.reaches_database and coords.kind is not Kind.REFERENCE and coords.id not in planned:
                sql = f"SELECT /* {coords.query} */ id, user_id FROM balances WHERE user_id = %(user_id)s"
                extra["plan_file"] = _plan_file(run_dir, coords, sql + (f" -- {EVIL}" if evil else ""), plans)
                planned.add(coords.id)
            if coords.cache in (CacheState.COLD, CacheState.WARM):
                extra["cache_hits"] = rounds if coords.cache is CacheState.WARM else 0
                extra["cache_misses"] = rounds if coords.cache is CacheState.COLD else 0
            benchmarks.append({
                "name": f"test_{coords.kind}[{coords.id}-t{trial:02d}]" + (EVIL if evil else ""),
                "group": coords.group,
                "stats": {"data": [float(x) for x in seconds], "rounds": rounds},
                "extra_info": extra,
            })
    environment_doc = environment(scales, by_size)
    if evil:
        environment_doc["machine"]["cpu"] = EVIL
    environment_doc.update(env or {})
    design: dict[str, Any] = {"trials": trials, "order_seed": seed, "budget_s": 1.2}
    if order is not None:
        design["order"] = order
    document = {"benchmarks": benchmarks, "balance_bench": {"environment": environment_doc, "design": design}}
    (run_dir / BENCHMARKS_FILE).write_text(json.dumps(document), encoding="utf-8")
    summarise(run_dir)
    return run_dir


def trial_run(path: Path, medians: dict[Coordinates, dict[int, float]]) -> Run:
    """An in-memory run whose cases have exactly these per-trial medians (ms): for tests that need exact numbers."""
    stats = TimingStats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    cases = [CaseResult(coords=c, params={}, rounds=len(m), stats=replace(stats, median_ms=float(np.median(
        list(m.values())))), trial_medians_ms=dict(m)) for c, m in medians.items()]
    trials = max(len(m) for m in medians.values())
    return Run(path=path, summary=Summary(environment={}, design=Design(trials, 0, 1.0), cases=cases), _raw={})


@pytest.fixture()
def make_run(tmp_path: Path) -> Callable[..., Path]:
    """A factory of synthetic run directories under this test's tmp_path."""
    counter = iter(range(1000))

    def make(name: str | None = None, **options: Any) -> Path:
        return build_run(tmp_path / (name or f"run{next(counter)}"), **options)

    return make


@pytest.fixture(scope="session")
def run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A run directory any report must handle: a real quick run if the session provides one, else synthetic."""
    try:
        real = request.getfixturevalue("real_run_dir")
    except pytest.FixtureLookupError:
        yield build_run(tmp_path_factory.mktemp("synthetic") / "run")
        return
    copy = tmp_path_factory.mktemp("real") / "run"  # the report is written into the copy, never the original
    shutil.copytree(real, copy)
    yield copy


@pytest.fixture(scope="session")
def report_path(run_dir: Path) -> Path:
    """``run_dir``'s report.html, built once for the tests that only read it."""
    from balance_bench.reports.render import write_report

    return write_report(run_dir)


__all__ = ["build_run", "median_ms", "sized_median_ms", "trial_run", "traffic", "EVIL"]
