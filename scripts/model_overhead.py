"""How much the balance model adds over raw clients on its two hot paths.

Four medians, each over ``--iterations`` calls, on a scratch owned database of
``--rows`` balances at migration 012. Each model path is timed against its raw
twin call by call, in random order, so machine noise and warm caches (CPU,
server) favour neither; the database pair and the Redis pair run separately.

    model find_by_id, cache=None   vs  psycopg conn.execute(same SQL, prepare=True) on an open connection
    model find_by_id, warm cache   vs  redis-py GET of the same key + decode of the same value

    python scripts/model_overhead.py [--iterations 3000] [--rows 1000] [--dsn URL] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import redis
from sqlalchemy import create_engine, insert

from balance_bench.config import add_options, config_from_namespace
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.services import Endpoints, psycopg_dsn, running_services
from balance_model.cache import BalanceCache
from balance_model.codec import RecordCodec
from balance_model.model import BalanceModel
from balance_model.queries import sql
from balance_model.records import Balance
from balance_model.schema import balances, tokens, users

LIMIT = 1.5


def _seed(engine: Any, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(insert(users), [{"id": u, "email": f"u{u}@example.com", "name": f"U{u}"} for u in range(1, 101)])
        conn.execute(insert(tokens), [{"id": t, "symbol": f"T{t}", "name": f"Token {t}", "decimals": 18,
                                       "price_usd": Decimal("1.5")} for t in range(1, 11)])
        conn.execute(insert(balances), [
            {"user_id": 1 + i % 100, "token_id": 1 + i % 10, "address": f"0x{i:040x}",
             "amount": Decimal(i).scaleb(-6), "usd_value": Decimal(i).scaleb(-6) * Decimal("1.5")}
            for i in range(rows)
        ])


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def measure(endpoints: Endpoints, rows: int, iterations: int) -> dict[str, float]:
    """Median microseconds per call of the four paths."""
    name = f"{PREFIX}overhead_{uuid.uuid4().hex[:10]}"
    create_owned(endpoints, name)
    engine = create_engine(endpoints.database_url(name))
    client = redis.Redis.from_url(endpoints.redis_url)
    prefix = f"{endpoints.redis_prefix}overhead-{uuid.uuid4().hex[:8]}:"
    cache = BalanceCache(client, prefix)
    try:
        migrate.upgrade(engine, migrate.BASELINE)
        _seed(engine, rows)
        migrate.upgrade(engine)  # the 012 indexes, then ANALYZE
        ids = list(range(1, rows + 1))
        plain, cached = BalanceModel(engine), BalanceModel(engine, cache)
        raw_pg = psycopg.connect(psycopg_dsn(endpoints.database_url(name)), autocommit=True)
        find_sql, decode = sql("find_by_id"), RecordCodec(Balance).decode
        for i in ids:
            cached.find_by_id(i)  # warm every key
        keys = [cache.key_for("find_by_id", id=i) for i in ids]
        paths: dict[str, Callable[[int], Any]] = {
            "model_db": lambda k: plain.find_by_id(ids[k]),
            "raw_psycopg": lambda k: raw_pg.execute(find_sql, {"id": ids[k]}, prepare=True).fetchone(),
            "model_warm": lambda k: cached.find_by_id(ids[k]),
            "raw_redis": lambda k: decode(client.get(keys[k])),
        }
        assert plain.find_by_id(1) == cached.find_by_id(1) == decode(client.get(keys[0]))
        samples: dict[str, list[int]] = {p: [] for p in paths}
        rng = random.Random(0)
        for pair in (("model_db", "raw_psycopg"), ("model_warm", "raw_redis")):
            for k in range(100):  # warm-up: prepared statements, connections, caches
                for path in pair:
                    paths[path](k % rows)
            order = list(pair)
            for k in range(iterations):  # interleaved in random order: noise and warm-up hit both alike
                rng.shuffle(order)
                for path in order:
                    start = time.perf_counter_ns()
                    paths[path](k % rows)
                    samples[path].append(time.perf_counter_ns() - start)
        raw_pg.close()
        plain.close()
        cached.close()
        return {p: _median_us(s) for p, s in samples.items()} | {"n": len(samples["model_db"])}
    finally:
        engine.dispose()
        stale = list(client.scan_iter(match=f"{prefix}*"))
        if stale:
            client.delete(*stale)
        client.close()
        drop_owned(endpoints, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000, help="timed calls per path (default 3000)")
    parser.add_argument("--rows", type=int, default=1000, help="balances in the scratch table (default 1000)")
    add_options(parser.add_argument, ["dsn", "redis_url", "redis_prefix", "cache_dir"])
    args = parser.parse_args()
    config = config_from_namespace(args)
    with running_services(config) as endpoints:
        m = measure(endpoints, args.rows, args.iterations)
    print(f"median of {m['n']} calls each, {args.rows} rows, migration 012")
    for model, raw, label in (("model_db", "raw_psycopg", "find_by_id, cache=None vs psycopg prepared"),
                              ("model_warm", "raw_redis", "find_by_id, warm cache vs redis GET + decode")):
        ratio = m[model] / m[raw]
        verdict = "ok" if ratio <= LIMIT else f"OVER {LIMIT}x"
        print(f"  {label:48} model {m[model]:8.1f} us   raw {m[raw]:8.1f} us   ratio {ratio:4.2f}x  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
