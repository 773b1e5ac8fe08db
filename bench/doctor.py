"""The guide's Troubleshooting section as checks against live servers (``balance-bench doctor`` prints them).

Each check prints PASS, WARN or FAIL with a remedy. Exit status 0 when nothing
fails (warnings allowed), 1 otherwise; an unreachable service is a FAIL line,
not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import Engine, create_engine, text

from balance_bench.bench.plan_capture import explain, record_statements, recording_engine
from balance_bench.config import Config
from balance_bench.coordinates import Kind
from balance_bench.errors import BenchError
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import exists, require_owned
from balance_bench.fixtures.datasets import database_name, recorded_dataset
from balance_bench.fixtures.services import Endpoints, running_services
from balance_bench.guide import INDEX_CLAIMS, KEY_CLAIMS, KeyClaim
from balance_bench.matrix import READS
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel
from balance_model.schema import INDEX_012_NAMES

__all__ = ["Check", "STATUSES", "diagnose", "diagnose_scales", "hit_rate_text", "dead_ratio", "needs_vacuum"]

DEAD_TUPLE_RATIO_WARN = 0.10
TTL_SLACK_S = 5  # a key read right after its fill has lost at most this much of its TTL
STATUSES = ("pass", "warn", "fail", "info")  # info: shown, never judged (nothing to compare it with)


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: str  # one of STATUSES
    message: str
    remedy: str = ""


def _redis_checks(client: redis.Redis, model: BalanceModel, cache: BalanceCache, params: Any,
                  families: Sequence[KeyClaim] = KEY_CLAIMS) -> Iterator[Check]:
    """PING, each key family's key and TTL (against ``families``), the cache's own hit rate and the server's."""
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        yield Check("redis-ping", "fail", f"Redis did not answer PING: {exc}",
                    "check the Redis URL and that the server runs")
        return
    version = client.info("server").get("redis_version", "?")
    yield Check("redis-ping", "pass", f"Redis {version} answered PING")
    for family in families:
        yield _key_check(client, model, cache, family, params)
    yield _cache_hit_rate(cache)
    yield _server_hit_rate(client)


def _key_check(client: redis.Redis, model: BalanceModel, cache: BalanceCache, family: KeyClaim,
               params: Any) -> Check:
    """A read of the family misses and sets its key with the family's TTL; read again, it hits."""
    args = next(iter(READS[family.query].args.values()))(params)
    key = cache.key_for(family.query, **args)
    assert key is not None
    name, expected = f"cache-key:{family.name}", family.ttl_s
    cache.invalidate([key])  # start from a miss; only this key and its fill token, which the cache owns
    try:
        model.read(family.query, **args)
        ttl = int(client.ttl(key))  # -2: no such key, -1: no TTL
        model.read(family.query, **args)
    finally:
        cache.invalidate([key])
    if ttl == -2:
        return Check(name, "fail", f"a {family.query} read did not set {key}",
                     "verify the cache is enabled and Redis accepts writes")
    remedy = "check the cache's TTL table (balance_model.cache.FAMILIES) against the guide's"
    if ttl == -1:
        return Check(name, "fail", f"a {family.query} read set {key} without a TTL (expected {expected}s)", remedy)
    if not expected - TTL_SLACK_S <= ttl <= expected:
        side = "above" if ttl > expected else "below"
        return Check(name, "fail", f"a {family.query} read set {key} with TTL {ttl}s, {side} the expected {expected}s",
                     remedy)
    return Check(name, "pass", f"a {family.query} read set {key} with TTL {ttl}s (expected {expected}s)")


def _cache_hit_rate(cache: BalanceCache) -> Check:
    """The cache's own counters over the key checks' reads: each family must hit when read a second time."""
    stats = cache.stats()
    hits, misses, errors = (sum(getattr(s, field) for s in stats.values()) for field in ("hits", "misses", "errors"))
    rate = hit_rate_text(hits, misses)
    counts = (f"the cache's own counters (BalanceCache.stats(), the key checks' reads only): {hits} hits, "
              f"{misses} misses, {errors} errors, hit rate {rate}")
    never = sorted(name for name, s in stats.items() if s.hits == 0)
    if errors or never:
        problem = f"Redis errors: {errors}" if errors else f"never hit when read again: {', '.join(never)}"
        return Check("hit-rate:cache", "fail", f"{counts}; {problem}",
                     "check that fills are stored (Redis writable, no concurrent invalidation) and Redis is reachable")
    return Check("hit-rate:cache", "pass", f"{counts}: every family hit when read again")


def _server_hit_rate(client: redis.Redis) -> Check:
    """The server's INFO keyspace counters: shown beside the cache's, not judged, since they count more."""
    stats = client.info("stats")
    hits, misses = int(stats.get("keyspace_hits", 0)), int(stats.get("keyspace_misses", 0))
    rate = hit_rate_text(hits, misses)
    return Check("hit-rate:server", "info",
                 f"server-wide INFO counters since the server started: {hits} hits, {misses} misses, hit rate {rate} "
                 "(every lookup on this server: the cache's fill-token lookups and other clients' keys too)")


def hit_rate_text(hits: int, misses: int) -> str:
    """A hit rate in whole percent, or ``n/a`` before the first lookup (never a division by zero)."""
    return f"{hits / (hits + misses):.0%}" if hits + misses else "n/a"


def _index_checks(engine: Engine, params: Any) -> Iterator[Check]:
    yield _index_catalog_check(migrate.index_status(engine))
    recording = recording_engine(engine.url.render_as_string(hide_password=False))
    model = BalanceModel(recording, None)
    try:
        for query, claim in INDEX_CLAIMS.items():
            yield _index_use(engine, model, query, claim.index, params)
    finally:
        model.close()
        recording.dispose()


def _index_catalog_check(statuses: list[migrate.IndexStatus]) -> Check:
    """The five indexes as the catalog has them: present, valid, on migration 012's columns in order."""
    problems, remedies = [], []
    missing = [s.name for s in statuses if not s.present]
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
        remedies.append("run `balance-bench migrate up`")
    invalid = [s.name for s in statuses if s.present and not s.valid]
    if invalid:
        problems.append(f"invalid: {', '.join(invalid)}")
        remedies.append("; ".join(f"REINDEX INDEX {name};" for name in invalid))
    wrong = [s for s in statuses if s.present and s.columns != s.expected]
    if wrong:
        problems.append("on the wrong columns: " + ", ".join(
            f"{s.name} ({', '.join(s.columns)}; expected {', '.join(s.expected)})" for s in wrong))
        remedies.append("recreate them: `balance-bench migrate down`, then `balance-bench migrate up`")
    if problems:
        return Check("indexes-012", "fail", f"migration 012 indexes {'; '.join(problems)}", "; ".join(remedies))
    return Check("indexes-012", "pass", "all five migration 012 indexes exist, are valid and on the migration's "
                 "columns (pg_index, pg_attribute)")


def _index_use(engine: Engine, model: BalanceModel, query: str, index: str, params: Any) -> Check:
    # Ask the heaviest question the matrix asks (the whale, for per-user reads): that is where the index matters.
    kinds = READS[query].args
    args = (kinds.get("whale") or next(iter(kinds.values())))(params)
    with record_statements() as recorded:
        model.read(query, **args)
    statement, bind = recorded.main(Kind.READ)
    used = sorted(_index_names(explain(engine, statement, bind, options="COSTS")))
    name = f"index-use:{query}"
    if index in used:
        return Check(name, "pass", f"{query} plan uses {index}")
    others = sorted(set(used) & INDEX_012_NAMES)
    if others:
        return Check(name, "warn", f"{query} plan uses {', '.join(others)}, not the guide's {index}",
                     "the planner prefers another migration 012 index here; compare both plans in the report")
    return Check(name, "fail", f"{query} plan does not use {index} (uses: {', '.join(used) or 'no index'})",
                 "run `balance-bench migrate up`, then `VACUUM ANALYZE balances;`")


def _index_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "Index Name" in node:
            yield node["Index Name"]
        for value in node.values():
            yield from _index_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _index_names(value)


def _bloat_check(engine: Engine) -> Check:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT n_live_tup, n_dead_tup, greatest(last_vacuum, last_autovacuum),"
            " greatest(last_analyze, last_autoanalyze) FROM pg_stat_user_tables WHERE relname = 'balances'"
        )).one_or_none()
    if row is None:
        return Check("bloat", "fail", "table balances not found", "seed the dataset: `balance-bench seed`")
    live, dead, vacuumed, analysed = row
    ratio = dead_ratio(live, dead)
    message = (f"balances: {live} live, {dead} dead tuples ({ratio:.1%}); last vacuum {vacuumed or 'never'}, "
               f"last analyze {analysed or 'never'}")
    if needs_vacuum(ratio, analysed is not None):
        return Check("bloat", "warn", message, "VACUUM ANALYZE balances;")
    return Check("bloat", "pass", message)


def dead_ratio(live: int, dead: int) -> float:
    """Dead tuples' share of all the table's tuples; 0 for a table with none (never a division by zero)."""
    return dead / max(live + dead, 1)


def needs_vacuum(ratio: float, analysed: bool) -> bool:
    """Warn above the dead-tuple ratio (exactly at it is still fine), or when the planner has no statistics."""
    return ratio > DEAD_TUPLE_RATIO_WARN or not analysed


def diagnose(endpoints: Endpoints, database: str, params: Any,
             families: Sequence[KeyClaim] = KEY_CLAIMS) -> list[Check]:
    """Run every check against ``database`` (one the suite owns) and the run's Redis.

    ``families`` are the key patterns and TTLs the cache is expected to set: the guide's (``guide.KEY_CLAIMS``).
    """
    require_owned(endpoints, database)
    engine = create_engine(endpoints.database_url(database))
    client = redis.Redis.from_url(endpoints.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        cache = BalanceCache(client, prefix=endpoints.redis_prefix)
        model = BalanceModel(engine, cache)
        try:
            checks = list(_redis_checks(client, model, cache, params, families))
        finally:
            model.close()
        checks.extend(_index_checks(engine, params))
        checks.append(_bloat_check(engine))
        return checks
    finally:
        client.close()
        engine.dispose()


def diagnose_scales(config: Config) -> list[Check]:
    """Every check for each selected scale's dataset; a service that cannot be reached is one failed check."""
    try:
        with running_services(config) as endpoints:
            checks: list[Check] = []
            for scale in config.scales:
                name = database_name(scale, config.seed)
                if not exists(endpoints, name):
                    checks.append(Check("dataset", "fail", f"no dataset database {name!r}",
                                        f"balance-bench seed --scale {scale.name} --seed {config.seed}"))
                    continue
                checks.extend(diagnose(endpoints, name, recorded_dataset(endpoints, scale, config.seed).params))
            return checks
    except BenchError as exc:
        return [Check("services", "fail", str(exc), "check --dsn/--redis-url and that the servers run")]
