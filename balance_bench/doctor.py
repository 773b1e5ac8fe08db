"""The guide's Troubleshooting section as checks against live servers (``balance-bench doctor`` prints them).

Each check prints PASS, WARN or FAIL with a remedy. Exit status 0 when nothing
fails (warnings allowed), 1 otherwise; an unreachable service is a FAIL line,
not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import Engine, create_engine, text

from balance_bench.bench.matrix import READS
from balance_bench.bench.plans import explain, record_statements, recording_engine
from balance_bench.config import Config
from balance_bench.errors import BenchError
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import exists, require_owned
from balance_bench.fixtures.datasets import database_name, load_dataset
from balance_bench.fixtures.services import Endpoints, running_services
from balance_bench.reports.expectations import INDEX_CLAIMS
from balance_model.cache import FAMILIES, BalanceCache
from balance_model.model import BalanceModel
from balance_model.schema import INDEX_012_NAMES

__all__ = ["Check", "diagnose", "diagnose_scales"]

DEAD_TUPLE_RATIO_WARN = 0.10
HIT_RATE_WARN = 0.5


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: str  # "pass" | "warn" | "fail"
    message: str
    remedy: str = ""


def _redis_checks(client: redis.Redis, model: BalanceModel, cache: BalanceCache, balance_id: int) -> Iterator[Check]:
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        yield Check("redis-ping", "fail", f"Redis did not answer PING: {exc}", "check the Redis URL and that the server runs")
        return
    version = client.info("server").get("redis_version", "?")
    yield Check("redis-ping", "pass", f"Redis {version} answered PING")

    key = cache.key_for("find_by_id", id=balance_id)
    assert key is not None
    expected = next(f.ttl_s for f in FAMILIES if f.query == "find_by_id")
    client.delete(key)
    model.read("find_by_id", id=balance_id)
    ttl = int(client.ttl(key))
    if ttl <= 0:
        yield Check("cache-keys", "fail", f"a find_by_id read did not set {key} with a TTL (TTL {ttl})",
                    "verify the cache is enabled and Redis accepts writes")
    elif ttl > expected:
        yield Check("cache-keys", "fail", f"{key} has TTL {ttl}s, above the guide's {expected}s",
                    "check the cache TTL table (balance_model.cache.FAMILIES)")
    else:
        yield Check("cache-keys", "pass", f"a read set {key} with TTL {ttl}s (guide: {expected}s)")
    client.delete(key)

    stats = client.info("stats")
    hits, misses = int(stats.get("keyspace_hits", 0)), int(stats.get("keyspace_misses", 0))
    if hits + misses == 0:
        yield Check("hit-rate", "warn", "the server has served no lookups yet: no hit rate to judge",
                    "warm hot users' caches (BalanceModel.warm) and check again under traffic")
        return
    rate = hits / (hits + misses)
    status = "pass" if rate >= HIT_RATE_WARN else "warn"
    yield Check("hit-rate", status, f"server hit rate {rate:.0%} ({hits} hits, {misses} misses)",
                "" if status == "pass" else "warm the cache for frequently accessed users; check TTLs")


def _index_checks(engine: Engine, params: Any) -> Iterator[Check]:
    statuses = migrate.index_status(engine)
    missing = [s.name for s in statuses if not s.present]
    invalid = [s.name for s in statuses if s.present and not s.valid]
    if missing or invalid:
        detail = "; ".join(part for part in (f"missing: {', '.join(missing)}" if missing else "",
                                             f"invalid: {', '.join(invalid)}" if invalid else "") if part)
        yield Check("indexes-012", "fail", f"migration 012 indexes {detail}",
                    "run `balance-bench migrate up` (REINDEX an invalid index)")
    else:
        yield Check("indexes-012", "pass", "all five migration 012 indexes exist and are valid")

    recording = recording_engine(engine.url.render_as_string(hide_password=False))
    model = BalanceModel(recording, None)
    try:
        for query, claim in INDEX_CLAIMS.items():
            yield _index_use(engine, model, query, claim.index, params)
    finally:
        model.close()
        recording.dispose()


def _index_use(engine: Engine, model: BalanceModel, query: str, index: str, params: Any) -> Check:
    # Ask the heaviest question the matrix asks (the whale, for per-user reads): that is where the index matters.
    kinds = READS[query].args
    args = (kinds.get("whale") or next(iter(kinds.values())))(params)
    with record_statements() as recorded:
        model.read(query, **args)
    statement, bind = recorded.main("read")
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
    ratio = dead / max(live + dead, 1)
    message = (f"balances: {live} live, {dead} dead tuples ({ratio:.1%}); last vacuum {vacuumed or 'never'}, "
               f"last analyze {analysed or 'never'}")
    if ratio > DEAD_TUPLE_RATIO_WARN or analysed is None:
        return Check("bloat", "warn", message, "VACUUM ANALYZE balances;")
    return Check("bloat", "pass", message)


def diagnose(endpoints: Endpoints, database: str, params: Any) -> list[Check]:
    """Run every check against ``database`` (one the suite owns) and the run's Redis."""
    require_owned(endpoints, database)
    engine = create_engine(endpoints.database_url(database))
    client = redis.Redis.from_url(endpoints.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        cache = BalanceCache(client, prefix=endpoints.redis_prefix)
        checks = list(_redis_checks(client, BalanceModel(engine, cache), cache, params.balance_id))
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
                checks.extend(diagnose(endpoints, name, load_dataset(endpoints, scale, config.seed).params))
            return checks
    except BenchError as exc:
        return [Check("services", "fail", str(exc), "check --dsn/--redis-url and that the servers run")]
