"""One load run from the CLI's side: private dataset copies, the key pool, Locust, then ``load.json``.

Each migration state gets its own copy of the dataset (``CREATE DATABASE ...
TEMPLATE``), switched with the real Alembic revisions, so writes never touch
the reusable dataset and both states start from the same rows. The copies are
dropped at the end, and on an external Redis the keys under this run's prefix
are deleted (never a flush). Before Locust starts, the warm ``find_by_id`` is
timed in this process, the way the matrix times it, and again after the swarm:
the reference for the Locust harness's own overhead.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import redis
from sqlalchemy import create_engine

from balance_bench.bench.environment import capture_environment
from balance_bench.bench.load.capture import read_capture
from balance_bench.bench.load.mix import KeyRow, Mix
from balance_bench.bench.load.plan import LoadPlan, build_steps, pool_label
from balance_bench.bench.load.probes import statements_unavailable
from balance_bench.bench.load.summary import (
    conservation_results,
    locust_figures,
    processes,
    staleness_results,
    step_result,
)
from balance_bench.bench.load.swarm import Swarm, SwarmSpec
from balance_bench.coordinates import CacheState, CacheUse, Migration
from balance_bench.errors import BenchError
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.datasets import Dataset
from balance_bench.fixtures.services import Endpoints, connect_postgres
from balance_bench.load_records import LOAD_DIR, LoadRecord, StepResult, write_load_record
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel

__all__ = ["LoadSettings", "run_load", "sample_keys", "amount_sum", "REVISION_OF"]

REVISION_OF = {"without_012": migrate.BASELINE, "with_012": migrate.HEAD}
REFERENCE_CALLS = 300
STEP_OVERHEAD_S = 15.0  # ramp, drain and flush of one step, generously


@dataclass(frozen=True)
class LoadSettings:
    """What to run: validated by the command before it gets here."""

    users: tuple[int, ...]
    duration_s: float
    warmup_s: float
    mix: Mix
    caches: tuple[CacheUse, ...]
    migrations: tuple[Migration, ...]
    pools: tuple[int | None, ...]
    workers: int = 1
    remote_workers: int = 0
    bind_host: str = "127.0.0.1"
    port: int | None = None
    keys: int = 1000
    trials: int = 1
    order_seed: int = 0
    stop_timeout_s: float = 30.0

    @property
    def processes(self) -> int:
        return self.workers + self.remote_workers

    def describe(self) -> dict[str, Any]:
        return {
            "mix": self.mix.describe(), "users": list(self.users), "duration_s": self.duration_s,
            "warmup_s": self.warmup_s, "cache": [str(c) for c in self.caches],
            "migrations": [str(m) for m in self.migrations], "connections": [pool_label(p) for p in self.pools],
            "workers": self.workers, "remote_workers": self.remote_workers, "keys": self.keys,
            "trials": self.trials, "order_seed": self.order_seed, "stop_timeout_s": self.stop_timeout_s,
            "writes": "each key-pool balance has one writer per step (versions only grow); amounts 0.000001-0.001",
        }


def sample_keys(url: str, count: int, seed: int) -> list[KeyRow]:
    """``count`` balances drawn uniformly by id with ``seed`` (all of them when there are fewer)."""
    with connect_postgres(url) as conn:
        lo, hi = conn.execute("SELECT min(id), max(id) FROM balances").fetchone() or (None, None)
        if lo is None:
            raise BenchError("the dataset has no balances to load-test")
        span = int(hi) - int(lo) + 1
        rng = np.random.default_rng([seed, count])
        drawn = rng.choice(span, size=min(span, count * 2), replace=False) + int(lo)
        rows = conn.execute("SELECT id, user_id, token_id, address FROM balances WHERE id = ANY(%s)",
                            ([int(i) for i in drawn],)).fetchall()
    by_id = {int(r[0]): (int(r[0]), int(r[1]), int(r[2]), str(r[3])) for r in rows}
    return [by_id[int(i)] for i in drawn if int(i) in by_id][:count]


def amount_sum(url: str) -> Decimal:
    """The exact sum of every balance's amount (NUMERIC in, Decimal out)."""
    with connect_postgres(url) as conn:
        row = conn.execute("SELECT coalesce(sum(amount), 0) FROM balances").fetchone()
    return Decimal(row[0]) if row else Decimal(0)


def _connections_needed(settings: LoadSettings) -> int:
    most = 0
    for pool in settings.pools:
        most = max(most, max(settings.users) if pool is None else pool * settings.processes)
    return most + 2 * settings.processes + len(settings.migrations) + 2  # overlap checks, probes, the CLI


def _check_capacity(url: str, settings: LoadSettings) -> None:
    with connect_postgres(url) as conn:
        row = conn.execute("SELECT current_setting('max_connections')::int, "
                           "current_setting('superuser_reserved_connections')::int, "
                           "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')").fetchone()
    assert row is not None
    free = int(row[0]) - int(row[1]) - int(row[2])
    needed = _connections_needed(settings)
    if needed > free:
        raise BenchError(f"this load needs about {needed} PostgreSQL connections but the server has {free} free "
                         f"(max_connections {row[0]}); use fewer --users, a --pool-size, or raise max_connections")


def reference_timing(url: str, redis_url: str, prefix: str, keys: list[KeyRow], calls: int) -> dict[str, Any]:
    """The warm ``find_by_id`` timed in this process, as the matrix times it: only the call, every key a hit."""
    engine = create_engine(url, pool_size=1)
    client = redis.Redis.from_url(redis_url)
    cache = BalanceCache(client, prefix=prefix)
    try:
        with BalanceModel(engine, cache) as model:
            ids = [k[0] for k in keys][:calls]
            for balance_id in ids:
                model.find_by_id(balance_id)
            cache.reset_stats()
            samples = []
            for i in range(calls):
                balance_id = ids[i % len(ids)]
                started = time.perf_counter()
                model.find_by_id(balance_id)
                samples.append((time.perf_counter() - started) * 1000.0)
        quartiles = statistics.quantiles(samples, n=4)
        stats = cache.stats()["by_id"]
        return {"operation": "find_by_id", "cache": str(CacheState.WARM), "calls": calls,
                "median_ms": statistics.median(samples),
                "p25_ms": quartiles[0], "p75_ms": quartiles[2], "hit_rate": stats.hit_rate}
    finally:
        engine.dispose()
        client.close()


@contextlib.contextmanager
def _copies(endpoints: Endpoints, dataset: Dataset, run_id: str,
            migrations: tuple[Migration, ...]) -> Iterator[dict[Migration, str]]:
    """One owned copy of the dataset per migration state, at that state; all dropped on exit."""
    copies: dict[Migration, str] = {}
    try:
        for migration in migrations:
            name = f"{PREFIX}load_{run_id}_{migration}"[:63]
            create_owned(endpoints, name, template=dataset.database)
            copies[migration] = name
            engine = create_engine(endpoints.database_url(name))
            try:
                target = REVISION_OF[migration]
                if migrate.current_revision(engine) != target:
                    (migrate.upgrade if target == migrate.HEAD else migrate.downgrade)(engine, target)
            finally:
                engine.dispose()
        yield copies
    finally:
        for name in copies.values():
            drop_owned(endpoints, name)


def _delete_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix) + "*"
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()


def _timeout(settings: LoadSettings, steps: int) -> float:
    per_step = settings.warmup_s + settings.duration_s + STEP_OVERHEAD_S + max(settings.users) / 10
    waiting = 600.0 if settings.remote_workers else 60.0
    return steps * per_step + waiting + 120.0


def run_load(endpoints: Endpoints, dataset: Dataset, seed: int, settings: LoadSettings, run_dir: Path,
             on_step: Callable[[StepResult, int], None] | None = None) -> LoadRecord:
    """Run the sweep into ``run_dir`` and return (and write) its record."""
    run_id = uuid.uuid4().hex[:8]
    raw = run_dir / LOAD_DIR
    raw.mkdir(parents=True, exist_ok=True)
    prefix = f"{endpoints.redis_prefix}load-{run_id}:"
    try:
        with _copies(endpoints, dataset, run_id, settings.migrations) as copies:
            url_of = {m: endpoints.database_url(name) for m, name in copies.items()}
            first = url_of.get(Migration.WITH_012) or next(iter(url_of.values()))
            _check_capacity(first, settings)
            keys = sample_keys(first, settings.keys, seed)
            if settings.mix.has_writes:
                writers = math.ceil(max(settings.users) / settings.processes) * settings.processes
                if len(keys) < writers:
                    raise BenchError(f"--keys {len(keys)} is too few for {writers} writers: each user needs a "
                                     "balance of its own to write; raise --keys or lower --users")
            notes = {m: _statements_note(url) for m, url in url_of.items()}
            note = next((n for n in notes.values() if n), None)
            sums_before = {m: amount_sum(url) for m, url in url_of.items()}
            reference_before = reference_timing(first, endpoints.redis_url, f"{prefix}ref:", keys, REFERENCE_CALLS)
            steps = build_steps(settings.users, settings.caches, settings.migrations, settings.pools,
                                settings.trials, copies, prefix, settings.order_seed)
            plan = LoadPlan(run_id=run_id, seed=seed, mix=list(settings.mix.weights), warmup_s=settings.warmup_s,
                            duration_s=settings.duration_s, keys=keys, steps=steps, out_dir=str(raw.resolve()),
                            statements=note is None, stop_timeout_s=settings.stop_timeout_s)
            plan_path = plan.write(raw / "plan.json")
            engine = create_engine(first)
            try:
                environment = capture_environment(endpoints, engine, [dataset.describe()],
                                                  {"load": settings.describe(), "seed": seed})
            finally:
                engine.dispose()

            def landed(path: Path) -> None:
                if on_step is not None:
                    on_step(step_result(read_capture(path), run_dir, {}), len(steps))

            spec = SwarmSpec(plan=plan_path, out=raw, pg_url=endpoints.pg_url, redis_url=endpoints.redis_url,
                             workers=settings.workers, remote_workers=settings.remote_workers,
                             bind_host=settings.bind_host, port=settings.port,
                             stop_timeout_s=settings.stop_timeout_s,
                             expect_workers_s=600.0 if settings.remote_workers else 60.0)
            swarm = Swarm(spec)
            with swarm.running():
                swarm.watch(landed, _timeout(settings, len(steps)))
            reference_after = reference_timing(first, endpoints.redis_url, f"{prefix}ref2:", keys, REFERENCE_CALLS)
            sums = {m: (sums_before[m], amount_sum(url)) for m, url in url_of.items()}
    finally:
        if not endpoints.redis_embedded:
            _delete_keys(endpoints.redis_url, prefix)
    captures = [read_capture(p) for p in sorted(raw.glob("s[0-9][0-9][0-9].json"))]
    if len(captures) != len(steps):
        raise BenchError(f"Locust wrote {len(captures)} of {len(steps)} step captures; see {raw}")
    locust = locust_figures(raw / "locust_stats.csv")
    record = LoadRecord(
        environment=environment,
        settings={**settings.describe(), "scale": dataset.scale.name, "rows": dataset.rows, "seed": seed,
                  "databases": copies, "run_id": run_id, "key_rows": len(keys)},
        processes=processes(captures),
        steps=[step_result(c, run_dir, locust) for c in captures],
        conservation=conservation_results(captures, sums) if settings.mix.has_writes else [],
        staleness=staleness_results(captures, [m for m in Migration if m in copies]),
        reference={"before": reference_before, "after": reference_after},
        statements_note=note,
    )
    write_load_record(run_dir, record)
    return record


def _statements_note(url: str) -> str | None:
    with connect_postgres(url) as conn:
        return statements_unavailable(conn)

