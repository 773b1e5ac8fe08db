"""What ``balance-bench check`` judges: each case of one scale run once, untimed, and what it did, counted.

For one scale's two live copies (``world``), every read and write case of the matrix (``matrix``) runs as the
benchmark runs it, but once and with no clock:

* its **plan**: EXPLAIN (ANALYZE, BUFFERS) of exactly the statement the model ran (``plans``), for every case
  that reaches PostgreSQL. A read's cache states share one database path, so it is explained once per read,
  projection and parameter kind, and those cases carry the same plan;
* its **traffic** per call: PostgreSQL round trips and bytes, Redis commands, round trips and bytes
  (``traffic``), and, in a cached state, how many of the pass's calls the cache itself counted as hits and
  misses. A warm read starts from nothing: its key is deleted and filled by one read of the model's own;
* each write's **invalidation**: for the written balance, the key of every key family of the guide
  (``guide.KEY_CLAIMS``: pattern and read, as the guide states them) is deleted, then filled by that family's
  read through the model, and Redis is asked directly which keys the fill stored; then the write runs and Redis is
  asked which are still there. The keys are spelled from the claims' patterns, not by the cache's own
  ``keys_for_balance``, so a cache that forgets a key cannot hide it. ``create``'s new id is unknown until it is
  written (and an absent row is never cached): its ``by_id`` key is not tested.

The order is fixed (reads, writes, invalidations, each in the matrix's order) and nothing is shuffled, so two
checks of one commit on one dataset see the same counters. Nothing here judges: ``reports.findings`` and
``reports.baseline`` do, from these records alone.
"""

from __future__ import annotations

import string
from typing import Any

from balance_bench.bench.plan_capture import explain_operation, planner_settings
from balance_bench.bench.world import World
from balance_bench.bench.writes import writes
from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.evidence import SERVERS, CaseEvidence, Evidence, InvalidationEvidence, KeyEvidence
from balance_bench.guide import KEY_CLAIMS, KeyClaim
from balance_bench.matrix import READS, read_cases, write_cases
from balance_model.cache import BalanceCache

__all__ = ["gather"]

_COLD = (CacheState.COLD, CacheState.GUIDE_COLD)


def gather(world: World, scale: str) -> Evidence:
    """Run every read and write case of ``scale`` once on ``world``'s copies and record what each did."""
    prepared = world.scale(scale)
    plans: dict[tuple[Migration, str, str, str], Any] = {}
    cases = [_read(world, case, plans) for case in read_cases((scale,))]
    cases += [_write(world, case) for case in write_cases((scale,))]
    invalidations = tuple(_invalidation(world, case) for case in write_cases((scale,)))
    settings = planner_settings(prepared.copies[Migration.WITH_012].engine)
    postgres, redis = SERVERS
    servers = {postgres: settings["server_version"], redis: str(world.redis.info("server")["redis_version"])}
    return Evidence(scale, prepared.dataset.describe(), servers, settings, tuple(cases), invalidations)


def _hits_and_misses(cache: BalanceCache | None) -> tuple[int, int]:
    stats = cache.stats().values() if cache is not None else ()
    return sum(f.hits for f in stats), sum(f.misses for f in stats)


def _read(world: World, case: Coordinates, plans: dict[tuple[Migration, str, str, str], Any]) -> CaseEvidence:
    copy = world.copy(case.scale, case.migration)
    args = READS[case.query].args[case.param_kind](world.scale(case.scale).dataset.params)
    plan = None
    if case.cache.reaches_database:
        path = (case.migration, case.query, case.projection, case.param_kind)
        if path not in plans:
            database_path = copy.model(CacheState.NOCACHE, case.projection, capture=True)
            plans[path] = explain_operation(copy.engine, lambda: database_path.read(case.query, **args), Kind.READ)[2]
        plan = plans[path]
    model = copy.model(case.cache, case.projection, traffic=True)
    cache = copy.cache_for(case.cache, traffic=True)
    key = cache.key_for(case.query, **args) if cache is not None else None
    calls = 0

    def call() -> Any:
        nonlocal calls
        calls += 1
        return model.read(case.query, **args)

    setup = None
    if key is not None and case.cache in _COLD:
        setup = lambda: world.redis.delete(key)  # noqa: E731  exactly this key, never a flush
    elif key is not None and case.cache is CacheState.WARM:
        world.redis.delete(key)
        model.read(case.query, **args)  # warm from nothing: the model's own fill, not one left by another run
    hits, misses = _hits_and_misses(cache)
    traffic = copy.traffic.measure(call, setup)
    if cache is None:
        return CaseEvidence(case, plan, traffic, calls)
    after_hits, after_misses = _hits_and_misses(cache)
    return CaseEvidence(case, plan, traffic, calls, after_hits - hits, after_misses - misses)


def _write(world: World, case: Coordinates) -> CaseEvidence:
    copy = world.copy(case.scale, case.migration)
    with writes(copy, world.scale(case.scale).write_target) as (operations, _):
        capture_call, capture_setup = operations(copy.model(CacheState.INVALIDATE, capture=True))[case.query]
        if capture_setup is not None:
            capture_setup()
        plan = explain_operation(copy.engine, capture_call, Kind.WRITE)[2]
        call, setup = operations(copy.model(CacheState.INVALIDATE, traffic=True))[case.query]
        calls = 0

        def counted() -> Any:
            nonlocal calls
            calls += 1
            return call()

        traffic = copy.traffic.measure(counted, setup)
    return CaseEvidence(case, plan, traffic, calls)


def _fields(family: KeyClaim) -> tuple[str, ...]:
    """The placeholders of a family's key pattern, which are also its read's argument names (``balance:id:{id}``)."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(family.pattern) if name)


def _invalidation(world: World, case: Coordinates) -> InvalidationEvidence:
    copy = world.copy(case.scale, case.migration)
    target = world.scale(case.scale).write_target
    reader, writer = copy.model(CacheState.WARM), copy.model(CacheState.INVALIDATE)
    with writes(copy, target) as (operations, created):
        call, setup = operations(writer)[case.query]
        balance: dict[str, int] = {"id": target.balance_id, "user_id": target.user_id, "token_id": target.token_id}
        if setup is not None:  # delete: the row it deletes is created first
            setup()
            balance["id"] = created[-1]
        families = [f for f in KEY_CLAIMS if case.query != "create" or "id" not in _fields(f)]
        keys = {f.name: copy.cache.prefix + f.pattern.format(**balance) for f in families}
        world.redis.delete(*keys.values())
        for family in families:
            reader.read(family.query, **{name: balance[name] for name in _fields(family)})
        filled = {name: bool(world.redis.exists(key)) for name, key in keys.items()}
        call()
        left = {name: bool(world.redis.exists(key)) for name, key in keys.items()}
    return InvalidationEvidence(case, tuple(KeyEvidence(name, filled[name], left[name]) for name in keys))
