"""The benchmark cases: every read, write and reference of the matrix (see ``matrix.py``).

Only the call under test is timed. Filling or emptying the cache, creating a
row to delete, calibrating the number of rounds and capturing the plan all
happen outside the timed section.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from balance_bench.bench.matrix import READS, WRITES, Case
from balance_bench.bench.plans import capture_plan, record_statements
from balance_bench.bench.world import ScaleState
from balance_bench.config import Config
from balance_bench.fixtures.services import psycopg_dsn
from balance_bench.results import PLANS_DIR

TINY = Decimal("0.000000000001")  # credits and debits small enough never to exhaust a balance


def _rounds(call: Callable[[], Any], setup: Callable[[], Any] | None, quick: bool) -> int:
    """Enough rounds for about one second per case (a tenth with --quick), within sane bounds."""
    samples = []
    for _ in range(3):
        if setup:
            setup()
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    per_call = max(sorted(samples)[1], 1e-6)
    budget, low, high = (0.1, 5, 20) if quick else (1.0, 30, 400)
    return max(low, min(high, int(budget / per_call)))


def _timed(benchmark: Any, call: Callable[[], Any], setup: Callable[[], Any] | None, quick: bool) -> None:
    rounds = _rounds(call, setup, quick)
    warmup = 1 if quick else 3
    if setup is None:
        benchmark.pedantic(call, rounds=rounds, iterations=1, warmup_rounds=warmup)
    else:
        benchmark.pedantic(call, setup=lambda: (setup(), ((), {}))[1], rounds=rounds, iterations=1,
                           warmup_rounds=warmup)


def _cache_counts(state: ScaleState) -> tuple[int, int]:
    stats = state.cache.stats()
    return (sum(f.hits for f in stats.values()), sum(f.misses for f in stats.values()))


def _record(benchmark: Any, case: Case, params: dict[str, Any], **extra: Any) -> None:
    benchmark.group = case.group
    benchmark.extra_info.update(case.coordinates(), params=params, **extra)


def _plan(state: ScaleState, case: Case, settings: dict[str, str], run_dir: Path,
          operation: Callable[[], Any]) -> str:
    relative = f"{PLANS_DIR}/{case.id}.json"
    capture_plan(state.engine, operation, case.kind, case.coordinates(), settings, run_dir / relative)
    return relative


def test_read(case: Case, state: ScaleState, benchmark: Any, bench_config: Config,
              settings: dict[str, str], run_dir: Path) -> None:
    """Time one read of the balance model in one cache state."""
    args = READS[case.query].args[case.param_kind](state.dataset.params)
    model = state.model(case.cache, case.projection)
    call = lambda: model.read(case.query, **args)  # noqa: E731
    setup = None
    if case.cache == "cold":
        key = state.cache.key_for(case.query, **args)
        setup = lambda: state.redis.delete(key)  # noqa: E731  exactly this key, never a flush
    elif case.cache == "warm":
        call()
    state.cache.reset_stats()
    before = _cache_counts(state)
    _timed(benchmark, call, setup, bench_config.quick)
    hits, misses = (a - b for a, b in zip(_cache_counts(state), before))
    extra: dict[str, Any] = {}
    if case.cache != "nocache":
        extra.update(cache_hits=hits, cache_misses=misses)
    if case.cache != "warm":  # a warm read never reaches the database: no plan to show
        database_path = state.model("nocache", case.projection, capture=True)
        extra["plan_file"] = _plan(state, case, settings, run_dir, lambda: database_path.read(case.query, **args))
    _record(benchmark, case, args, **extra)


def test_write(case: Case, state: ScaleState, benchmark: Any, bench_config: Config,
               settings: dict[str, str], run_dir: Path) -> None:
    """Time one write with its cache invalidation: what migration 012's indexes cost writes."""
    args = WRITES[case.query](state.dataset.params)
    created: list[int] = []
    pending: list[int] = []

    def operations(model: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]]:
        def new_row() -> int:
            row = model.create(args["user_id"], args["token_id"], state.dataset.params.address, Decimal("1.5"))
            created.append(row.id)
            return row.id

        return {
            "create": (new_row, None),
            "credit": (lambda: model.credit(args["id"], TINY), None),
            "debit": (lambda: model.debit(args["id"], TINY), None),
            "delete": (lambda: model.delete(pending.pop()), lambda: pending.append(new_row())),
        }

    model = state.model("invalidate")
    call, setup = operations(model)[case.query]
    capture_call, capture_setup = operations(state.model("invalidate", capture=True))[case.query]
    try:
        _timed(benchmark, call, setup, bench_config.quick)
        if capture_setup is not None:
            capture_setup()
        plan = _plan(state, case, settings, run_dir, capture_call)
    finally:
        for row_id in created:
            model.delete(row_id)
    _record(benchmark, case, args, plan_file=plan)


# Reference cases with a model twin: (model cache state) of find_by_id that does the same work plus the model.
TWINS = {"raw_pg_find_by_id": "nocache", "raw_redis_get_decode": "warm"}


def _interleaved(model_call: Callable[[], Any], raw_call: Callable[[], Any], pairs: int) -> dict[str, Any]:
    """Median of the model and of its raw twin, timed alternately in seeded random order.

    Timing both in the same moments cancels the drift of a noisy machine, which
    separate cases measured seconds apart cannot.
    """
    order = random.Random(12345)
    times: dict[str, list[float]] = {"model": [], "raw": []}
    for _ in range(pairs):
        calls = [("model", model_call), ("raw", raw_call)]
        order.shuffle(calls)
        for name, call in calls:
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    model_ms, raw_ms = (statistics.median(times[k]) * 1000.0 for k in ("model", "raw"))
    return {"model_ms": model_ms, "raw_ms": raw_ms, "ratio": model_ms / raw_ms, "pairs": pairs}


def test_reference(case: Case, state: ScaleState, benchmark: Any, bench_config: Config) -> None:
    """Time a raw client doing the least a case could: the transport floor of this machine."""
    from balance_model.codec import RecordCodec
    from balance_model.records import Balance

    decode = RecordCodec(Balance).decode

    balance_id = state.dataset.params.balance_id
    database_path = state.model("nocache", capture=True)
    with record_statements() as recorded:
        database_path.read("find_by_id", id=balance_id)
    statement, params = recorded.main("read")
    key = state.cache.key_for("find_by_id", id=balance_id)
    state.model("warm").read("find_by_id", id=balance_id)  # the key now holds the value a warm read returns
    with psycopg.connect(psycopg_dsn(state.engine.url.render_as_string(hide_password=False)),
                         autocommit=True) as conn:
        calls: dict[str, Callable[[], Any]] = {
            "raw_pg_select_1": lambda: conn.execute("SELECT 1", prepare=True).fetchone(),
            "raw_pg_find_by_id": lambda: conn.execute(statement, params, prepare=True).fetchall(),
            "raw_redis_get": lambda: state.redis.get(key),
            "raw_redis_get_decode": lambda: decode(state.redis.get(key)),
        }
        _timed(benchmark, calls[case.query], None, bench_config.quick)
        extra: dict[str, Any] = {}
        if case.query in TWINS:
            twin = state.model(TWINS[case.query])
            extra["overhead"] = {
                "model": f"find_by_id ({TWINS[case.query]})",
                **_interleaved(lambda: twin.read("find_by_id", id=balance_id), calls[case.query],
                               50 if bench_config.quick else 1000),
            }
    _record(benchmark, case, {"id": balance_id}, **extra)
