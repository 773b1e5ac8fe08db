"""A read replica: reads routed to it, its lag, and the stale cache fills it causes, with two fixes.

Variants (each on its own copy, with 012, reads and writes through the cached
model; see ``balance_model.routing`` for the hazard):

* ``primary``: no replica, the guide's model (the baseline);
* ``replica``: reads on the replica, misses filled from it (``FillSource.REPLICA``);
* ``primary_fill``: reads on the replica, misses from the primary (``PRIMARY``);
* ``recent_window``: misses from the primary only within ``WINDOW_MS`` after the
  key's invalidation (``PRIMARY_AFTER_WRITE``), from the replica otherwise.

Timed: ``find_by_id`` and ``find_by_user_id`` without the cache on the primary and on the
replica (what routing reads there costs), and one write-then-read iteration
(credit, then ``find_by_id`` of the same balance) of every variant (what a fix
costs). Probes: ``lag`` (seconds until the replica has replayed a credit, from
``pg_last_wal_replay_lsn``) and ``stale_fills``: ``ITERATIONS`` write-then-read
iterations over ``ROTATION`` balances, each checking what the read stored in
Redis against the primary's committed amount (read by a separate connection,
not through the model), and at the end, after the replica has caught up, how
many stored values are still stale (they stay so for the key's TTL).

The replica runs with ``APPLY_DELAY_MS`` of ``recovery_min_apply_delay`` when
embedded (see ``fixtures.replica``: a local replica replays faster than a remote
one). It is recorded with the figures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import redis
from sqlalchemy import Engine, create_engine, text

from balance_bench.bench.experiments.spec import (
    Call,
    CheckFailed,
    Experiment,
    ExperimentCase,
    Figures,
    PlanTarget,
    Probe,
    Ratio,
    Variant,
    Workspace,
    figure_key,
    times,
)
from balance_bench.coordinates import CacheState, Kind, Migration
from balance_bench.fixtures.replica import wait_for_replay
from balance_bench.fixtures.services import connect_postgres, psycopg_dsn
from balance_model import queries
from balance_model.cache import BalanceCache
from balance_model.codec import RecordCodec
from balance_model.model import BalanceModel
from balance_model.records import Balance
from balance_model.routing import FillSource

__all__ = ["EXPERIMENT", "ITERATIONS", "ROTATION", "WINDOW_MS", "APPLY_DELAY_MS", "StaleFills", "stale_fills",
           "replay_lag"]

ITERATIONS = 1000
ROTATION = 20
WINDOW_MS = 2000
"""The recent-write window of ``recent_window``: it must exceed the replica's lag (the delay included)."""
APPLY_DELAY_MS = 0
"""No artificial delay: the embedded replica's own replay lag (about a millisecond) already loses the race."""
_FILL_SOURCE = {"replica": FillSource.REPLICA, "primary_fill": FillSource.PRIMARY,
                "recent_window": FillSource.PRIMARY_AFTER_WRITE}
_CREDIT = Decimal("0.000000000001")
_AMOUNT = "SELECT amount FROM balances WHERE id = %s"


@dataclass
class ReplicaState:
    """One variant's cached model, and one without the cache (``nocache``) for read latency, over its copy, on
    primary and replica."""

    variant: str
    url: str
    replica_url: str | None
    engine: Engine
    replica_engine: Engine | None
    client: redis.Redis
    cache: BalanceCache
    model: BalanceModel
    nocache: BalanceModel
    balance_ids: list[int]
    typical_user: int
    apply_delay_ms: int | None

    def close(self) -> None:
        self.model.close()
        self.nocache.close()
        self.engine.dispose()
        if self.replica_engine is not None:
            self.replica_engine.dispose()


def _prepare(workspace: Workspace) -> ReplicaState:
    engine = workspace.engine(pool_size=2)
    source = _FILL_SOURCE.get(workspace.variant)
    replica_engine = None
    replica_url = None
    if source is not None:
        replica_url = workspace.replica_url
        replica_engine = create_engine(replica_url, pool_size=2)
    window = WINDOW_MS if source is FillSource.PRIMARY_AFTER_WRITE else None
    cache = BalanceCache(workspace.redis, workspace.key_prefix, recent_write_ms=window)
    model = BalanceModel(engine, cache, replica=replica_engine, fill_source=source or FillSource.PRIMARY)
    nocache = BalanceModel(engine, replica=replica_engine)
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT min(id) FROM balances GROUP BY user_id ORDER BY user_id LIMIT :n"),
                                {"n": ROTATION}).scalars())
    replica = workspace.replica
    return ReplicaState(workspace.variant, workspace.url, replica_url, engine, replica_engine, workspace.redis, cache,
                        model, nocache,
                        ids, workspace.dataset.params.typical_user_id,
                        replica.apply_delay_ms if replica is not None else None)


def _cases(state: ReplicaState) -> tuple[ExperimentCase, ...]:
    cases = [ExperimentCase(state.variant, "write_then_read", "balance", {"id": state.balance_ids[0]}, Kind.WRITE,
                            CacheState.INVALIDATE)]
    if state.variant in ("primary", "replica"):
        cases += [ExperimentCase(state.variant, "find_by_id", "balance", {"id": state.balance_ids[0]}),
                  ExperimentCase(state.variant, "find_by_user_id", "typical", {"user_id": state.typical_user})]
    return tuple(cases)


def _write_then_read(state: ReplicaState, balance_id: int) -> Balance | None:
    state.model.credit(balance_id, _CREDIT)
    return state.model.find_by_id(balance_id)


def _call(state: ReplicaState, case: ExperimentCase) -> Call:
    if case.operation == "write_then_read":
        balance_id = int(case.params["id"])
        return Call(lambda: _write_then_read(state, balance_id))
    args = dict(case.params)
    return Call(lambda: state.nocache.read(case.operation, **args))


@dataclass(frozen=True)
class StaleFills:
    """What a write-then-read loop left in the cache."""

    iterations: int
    stale_fills: int  # reads after which Redis held an amount other than the primary's
    still_stale: int  # of the rotation's keys, stale even after the replica caught up
    seconds_per_iteration: float


def stale_fills(state: ReplicaState, iterations: int) -> StaleFills:
    """Run ``iterations`` write-then-read iterations and count the stale values the reads stored."""
    codec = RecordCodec(Balance)
    client = state.client
    stale = 0
    with psycopg.connect(psycopg_dsn(state.url), autocommit=True) as truth:
        started = time.perf_counter()
        for i in range(iterations):
            balance_id = state.balance_ids[i % len(state.balance_ids)]
            _write_then_read(state, balance_id)
            stale += _stale(client, state.cache, codec, truth, balance_id)
        elapsed = time.perf_counter() - started
        if state.replica_url is not None:
            with connect_postgres(state.replica_url) as standby:
                wait_for_replay(truth, standby)
        still = sum(_stale(client, state.cache, codec, truth, b) for b in state.balance_ids)
    return StaleFills(iterations, stale, still, elapsed / iterations)


def _stale(client: redis.Redis, cache: BalanceCache, codec: RecordCodec[Balance], truth: psycopg.Connection,
           balance_id: int) -> int:
    key = cache.key_for("find_by_id", id=balance_id)
    assert key is not None
    raw = client.get(key)
    if not isinstance(raw, bytes):
        return 0
    row = truth.execute(_AMOUNT, (balance_id,)).fetchone()
    return int(row is None or codec.decode(raw).amount != row[0])


def replay_lag(state: ReplicaState, samples: int) -> list[float]:
    """Seconds from a credit's return until the replica has replayed the primary's WAL past it."""
    if state.replica_url is None:
        return []
    lags = []
    with connect_postgres(state.url) as primary, connect_postgres(state.replica_url) as standby:
        for i in range(samples):
            state.nocache.credit(state.balance_ids[i % len(state.balance_ids)], _CREDIT)
            lags.append(wait_for_replay(primary, standby))
    return lags


def _stale_fills(state: ReplicaState, quick: bool) -> dict[str, float]:
    result = stale_fills(state, ITERATIONS // 4 if quick else ITERATIONS)
    return {"iterations": float(result.iterations), "stale_fills": float(result.stale_fills),
            "still_stale_after_replay": float(result.still_stale),
            "ms_per_iteration": result.seconds_per_iteration * 1e3,
            "apply_delay_ms": float(state.apply_delay_ms or 0)}


def _lag(state: ReplicaState, quick: bool) -> dict[str, float]:
    lags = sorted(replay_lag(state, 20 if quick else 100))
    return {"median_ms": lags[len(lags) // 2] * 1e3, "p95_ms": lags[int(len(lags) * 0.95)] * 1e3,
            "max_ms": lags[-1] * 1e3, "apply_delay_ms": float(state.apply_delay_ms or 0)}


def _check(states: Mapping[str, ReplicaState]) -> None:
    """Every variant reads the same balance as the primary holds, once the replica has caught up."""
    for variant, state in states.items():
        balance_id = state.balance_ids[0]
        with connect_postgres(state.url) as primary:
            if state.replica_url is not None:
                with connect_postgres(state.replica_url) as standby:
                    wait_for_replay(primary, standby)
            row = primary.execute(_AMOUNT, (balance_id,)).fetchone()
        got = state.nocache.find_by_id(balance_id)
        if got is None or row is None or got.amount != row[0]:
            raise CheckFailed(f"{variant}: find_by_id({balance_id}) read {got and got.amount}, the primary holds "
                              f"{row and row[0]}")


def _plan(state: ReplicaState, case: ExperimentCase) -> PlanTarget | None:
    if case.operation == "write_then_read":
        return None
    url = state.replica_url if state.variant == "replica" and state.replica_url else state.url
    return PlanTarget(url, queries.sql(case.operation), dict(case.params))


def _conclude(figures: Figures) -> str:
    def f(name: str) -> Any:
        return figures[figure_key(Migration.WITH_012, name)]

    hazard = f("replica.stale_fills.stale_fills").value
    fixed = [f(f"{v}.stale_fills.stale_fills").value for v in ("primary_fill", "recent_window")]
    runs = f("replica.stale_fills.iterations").value
    still = f("replica.stale_fills.still_stale_after_replay").value
    return (f"Filling the cache from the replica stored {hazard:.0f} stale values in {runs:.0f} write-then-read "
            f"iterations ({still:.0f} still stale after the replica caught up, until their TTL); filling misses "
            f"from the primary stored {fixed[0]:.0f}, and only within a {WINDOW_MS} ms window after a write "
            f"{fixed[1]:.0f}, at {times(f('primary_fill_cost'))} the time per iteration; replication lag median "
            f"{f('replica.lag.median_ms').value:.2f} ms (apply delay {f('replica.lag.apply_delay_ms').value:.0f} "
            "ms).")


EXPERIMENT: Experiment[ReplicaState] = Experiment(
    name="replica",
    title="A read replica: routing, lag, and stale cache fills",
    question='"Implement read replicas for heavy read workloads" (Future Optimizations), with the guide\'s cache',
    variants=(
        Variant("primary", "the guide's model: everything on the primary"),
        Variant("replica", "reads and cache fills from the replica (the hazard)"),
        Variant("primary_fill", "reads from the replica, cache misses from the primary"),
        Variant("recent_window", f"cache misses from the primary within {WINDOW_MS} ms after a write"),
    ),
    migrations=(Migration.WITH_012,),
    prepare=_prepare,
    cases=_cases,
    call=_call,
    check=_check,
    plan=_plan,
    conclude=_conclude,
    probes=(
        Probe("lag", "seconds until the replica has replayed a credit", _lag, ("replica",)),
        Probe("stale_fills", "stale values a write-then-read loop stored in the cache", _stale_fills),
    ),
    ratios=(
        Ratio("replica_read_by_id", "replica-find_by_id-balance", "primary-find_by_id-balance"),
        Ratio("replica_read_by_user", "replica-find_by_user_id-typical", "primary-find_by_user_id-typical"),
        Ratio("hazard_cost", "replica-write_then_read-balance", "primary-write_then_read-balance"),
        Ratio("primary_fill_cost", "primary_fill-write_then_read-balance", "replica-write_then_read-balance"),
        Ratio("recent_window_cost", "recent_window-write_then_read-balance", "replica-write_then_read-balance"),
    ),
    needs_replica=True,
    replica_apply_delay_ms=APPLY_DELAY_MS,
)
