"""The benchmark cases: every read, write and reference of the matrix (see ``matrix.py``), once per trial.

Only the call under test is timed. Filling or emptying the cache, creating a
row to delete, calibrating the number of rounds and capturing the plan all
happen outside the timed section, and so does the traffic pass (``traffic.py``):
once per case, a twin of the timed model on counted connections makes a few
calls whose PostgreSQL and Redis round trips and bytes are recorded. Each item
records its coordinates, its trial and its place in the trial's shuffled order
in ``extra_info``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from balance_bench.bench.plan_capture import capture_plan, record_statements
from balance_bench.bench.rounds import RESTING, Pace, trials_of
from balance_bench.bench.rounds import calibrated as _calibrated
from balance_bench.bench.rounds import timed as _timed
from balance_bench.bench.traffic import PgTrace, TrafficProbe
from balance_bench.bench.world import Copy, World
from balance_bench.bench.writes import writes
from balance_bench.config import Config
from balance_bench.coordinates import CacheState, Coordinates, Kind, Side
from balance_bench.fixtures.services import psycopg_dsn
from balance_bench.matrix import READS, budget_share
from balance_model.codec import RecordCodec
from balance_model.records import Balance

TOTAL_PAIRS = 1000  # model-vs-raw pairs of the overhead measurement per run (50 with --quick)


def _cache_key(copy: Copy, query: str, args: dict[str, Any]) -> str:
    key = copy.cache.key_for(query, **args)
    if key is None:
        raise AssertionError(f"{query} is not cached, yet the matrix asks for its cache key")
    return key


def _cache_counts(copy: Copy, cache: CacheState = CacheState.COLD) -> tuple[int, int, int]:
    stats = (copy.cache_for(cache) or copy.cache).stats().values()
    return sum(f.hits for f in stats), sum(f.misses for f in stats), sum(f.errors for f in stats)


def _rest_unless_running(pace: Pace, trial: int) -> None:
    """Skip this item when its slow case rests in ``trial`` (``rounds.Pace``); the progress line counts it apart."""
    if not pace.runs_in(trial):
        pytest.skip(RESTING)


def _traffic_calls(pace: Pace) -> dict[str, int]:
    """A slow case's traffic pass makes one counted call after one warm-up: its bytes are the same every call."""
    return {"calls": 1, "warmup": 1} if pace.slow else {}


def _record(benchmark: Any, case: Coordinates, trial: int, position: int, params: dict[str, Any],
            side: Side | None = None, **extra: Any) -> None:
    benchmark.group = case.group
    benchmark.extra_info.update(case.as_dict(), trial=trial, position=position, params=params, **extra)
    if side is not None:  # an A/B: which side's run directory the item belongs to
        benchmark.extra_info["side"] = str(side)


def test_read(case: Coordinates, trial: int, position: int, state: Copy, world: World, benchmark: Any,
              bench_config: Config, settings: dict[str, str], run_dir: Path, calibration: dict[str, Pace],
              planned: set[str], accounted: set[str], side: Side | None) -> None:
    """Time one read of the balance model in one cache state, in one trial (on one side of an A/B)."""
    args = READS[case.query].args[case.param_kind](world.scale(case.scale).dataset.params)
    model = state.model(case.cache, case.projection)
    call: Callable[[], Any] = lambda: model.read(case.query, **args)  # noqa: E731
    setup = None
    if case.cache in (CacheState.COLD, CacheState.GUIDE_COLD):
        key = _cache_key(state, case.query, args)
        setup = lambda: world.redis.delete(key)  # noqa: E731  exactly this key, never a flush
    elif case.cache is CacheState.WARM:
        call()
    pace = _calibrated(case.id, calibration, bench_config, call, setup, budget_share(case))
    _rest_unless_running(pace, trial)
    before = _cache_counts(state, case.cache)
    _timed(benchmark, pace, call, setup)
    hits, misses, errors = (a - b for a, b in zip(_cache_counts(state, case.cache), before, strict=True))
    extra: dict[str, Any] = {}
    if case.cache.cached:
        extra.update(cache_hits=hits, cache_misses=misses, cache_errors=errors)
    if case.cache.reaches_database and case.id not in planned:
        database_path = state.model(CacheState.NOCACHE, case.projection, capture=True)
        with world.stage("plans"):
            extra["plan_file"] = capture_plan(state.engine, lambda: database_path.read(case.query, **args),
                                              Kind.READ, case, settings, run_dir)
        planned.add(case.id)
    if case.id not in accounted:
        counted = state.model(case.cache, case.projection, traffic=True)
        with world.stage("traffic"):
            extra["traffic"] = state.traffic.measure(lambda: counted.read(case.query, **args), setup,
                                                     **_traffic_calls(pace)).as_dict()
        accounted.add(case.id)
    _record(benchmark, case, trial, position, args, side, **extra)


def test_write(case: Coordinates, trial: int, position: int, state: Copy, world: World, benchmark: Any,
               bench_config: Config, settings: dict[str, str], run_dir: Path, calibration: dict[str, Pace],
               planned: set[str], accounted: set[str], side: Side | None) -> None:
    """Time one write with its cache invalidation, in one trial: what migration 012's indexes cost writes."""
    target = world.scale(case.scale).write_target
    with writes(state, target) as (operations, _):
        call, setup = operations(state.model(CacheState.INVALIDATE))[case.query]
        pace = _calibrated(case.id, calibration, bench_config, call, setup, budget_share(case))
        _rest_unless_running(pace, trial)
        _timed(benchmark, pace, call, setup)
        extra: dict[str, Any] = {}
        if case.id not in planned:
            capture_call, capture_setup = operations(state.model(CacheState.INVALIDATE, capture=True))[case.query]
            if capture_setup is not None:
                capture_setup()
            with world.stage("plans"):
                extra["plan_file"] = capture_plan(state.engine, capture_call, Kind.WRITE, case, settings, run_dir)
            planned.add(case.id)
        if case.id not in accounted:
            counted_call, counted_setup = operations(state.model(CacheState.INVALIDATE, traffic=True))[case.query]
            with world.stage("traffic"):
                extra["traffic"] = state.traffic.measure(counted_call, counted_setup,
                                                         **_traffic_calls(pace)).as_dict()
            accounted.add(case.id)
    _record(benchmark, case, trial, position, vars(target), side, **extra)


# Reference cases with a model twin: the cache state of find_by_id that does the same work plus the model.
TWINS = {"raw_pg_find_by_id": CacheState.NOCACHE, "raw_redis_get_decode": CacheState.WARM}


def _interleaved(model_call: Callable[[], Any], raw_call: Callable[[], Any], pairs: int, seed: str) -> dict[str, Any]:
    """Median of the model and of its raw twin, timed alternately in seeded random order.

    Timing both in the same moments cancels the drift of a noisy machine, which
    separate cases measured seconds apart cannot.
    """
    order = random.Random(seed)
    times: dict[str, list[float]] = {"model": [], "raw": []}
    for _ in range(pairs):
        calls = [("model", model_call), ("raw", raw_call)]
        order.shuffle(calls)
        for name, call in calls:
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    model_ms, raw_ms = (statistics.median(times[k]) * 1000.0 for k in ("model", "raw"))
    return {"model_ms": model_ms, "raw_ms": raw_ms, "pairs": pairs}


def _raw_calls(conn: psycopg.Connection[Any], client: Any, statement: str, params: Any,
               key: str) -> dict[str, Callable[[], Any]]:
    decode = RecordCodec(Balance).decode
    return {
        "raw_pg_select_1": lambda: conn.execute("SELECT 1", prepare=True).fetchone(),
        "raw_pg_find_by_id": lambda: conn.execute(statement, params, prepare=True).fetchall(),
        "raw_redis_get": lambda: client.get(key),
        "raw_redis_get_decode": lambda: decode(cast(bytes, client.get(key))),
    }


def test_reference(case: Coordinates, trial: int, position: int, state: Copy, world: World, benchmark: Any,
                   bench_config: Config, calibration: dict[str, Pace], accounted: set[str]) -> None:
    """Time a raw client doing the least a case could, in one trial: the transport floor of this machine."""
    balance_id = world.scale(case.scale).dataset.params.balance_id
    database_path = state.model(CacheState.NOCACHE, capture=True)
    with record_statements() as recorded:
        database_path.read("find_by_id", id=balance_id)
    statement, params = recorded.main(Kind.READ)
    key = _cache_key(state, "find_by_id", {"id": balance_id})
    state.model(CacheState.WARM).read("find_by_id", id=balance_id)  # the key now holds what a warm read returns
    client = world.redis
    with psycopg.connect(psycopg_dsn(state.engine.url.render_as_string(hide_password=False)),
                         autocommit=True) as conn:
        calls = _raw_calls(conn, client, statement, params, key)
        pace = _calibrated(case.id, calibration, bench_config, calls[case.query], None, budget_share(case))
        _rest_unless_running(pace, trial)
        _timed(benchmark, pace, calls[case.query], None)
        extra: dict[str, Any] = {}
        if case.query in TWINS:
            twin = state.model(TWINS[case.query])
            pairs = max(10, (50 if bench_config.quick else TOTAL_PAIRS) // trials_of(bench_config))
            extra["overhead"] = {
                "model": f"find_by_id ({TWINS[case.query]})",
                **_interleaved(lambda: twin.read("find_by_id", id=balance_id), calls[case.query], pairs,
                               f"{case.id}:{trial}"),
            }
        if case.id not in accounted:
            probe = state.traffic
            counted = TrafficProbe(probe.engine, PgTrace([conn]), probe.redis, probe.meter)
            extra["traffic"] = counted.measure(_raw_calls(conn, probe.redis, statement, params, key)[case.query]
                                               ).as_dict()
            accounted.add(case.id)
    _record(benchmark, case, trial, position, {"id": balance_id}, **extra)
