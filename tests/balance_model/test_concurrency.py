"""Concurrency: no lost credit or debit, no stale value left behind, and the read-through race closed."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

import pytest
import redis
from sqlalchemy import Engine

from balance_model.cache import BalanceCache
from balance_model.codec import Codec, DecimalCodec, RecordCodec
from balance_model.errors import InsufficientFunds
from balance_model.model import BalanceModel
from balance_model.records import Balance

from .conftest import assert_cache_consistent, db_balance

pytestmark = pytest.mark.services
T = TypeVar("T")

WRITERS, OPS_PER_WRITER, READERS = 8, 250, 4


def test_concurrent_credits_and_debits_lose_nothing_and_leave_nothing_stale(
        db: Engine, model: BalanceModel, redis_client: redis.Redis) -> None:
    """8 threads x 250 credits/debits on 4 balances while 4 threads read through the cache: sums exact, cache fresh."""
    initial = Decimal("100")
    balances = [model.create(u, t, f"0x{u}{t}", initial) for u, t in ((1, 1), (1, 2), (2, 1), (3, 3))]
    ids = [b.id for b in balances]
    done = threading.Event()

    def write(seed: int) -> tuple[dict[int, Decimal], int]:
        rng = random.Random(seed)
        net = dict.fromkeys(ids, Decimal(0))
        refused = 0
        for _ in range(OPS_PER_WRITER):
            balance_id = rng.choice(ids)
            amount = Decimal(rng.randint(1, 30_000_000)).scaleb(-6)  # up to 30, six decimal places
            if rng.random() < 0.5:
                model.credit(balance_id, amount)
                net[balance_id] += amount
            else:
                try:
                    model.debit(balance_id, amount)
                    net[balance_id] -= amount
                except InsufficientFunds:
                    refused += 1
        return net, refused

    def read(seed: int) -> int:
        rng = random.Random(seed)
        reads = 0
        while not done.is_set():
            balance = rng.choice(balances)
            model.find_by_id(balance.id)
            model.find_by_user_id(balance.user_id)
            model.find_by_user_id_and_token_id(balance.user_id, balance.token_id)
            model.total_balance_by_user(balance.user_id)
            model.total_balance()
            reads += 5
        return reads

    with ThreadPoolExecutor(WRITERS + READERS) as pool:
        readers = [pool.submit(read, 1000 + i) for i in range(READERS)]
        writers = [pool.submit(write, i) for i in range(WRITERS)]
        results = [w.result() for w in writers]
        done.set()
        reads = sum(r.result() for r in readers)

    for balance_id in ids:
        expected = initial + sum(net[balance_id] for net, _ in results)
        assert db_balance(db, balance_id).amount == expected
    refused = sum(r for _, r in results)
    assert refused < WRITERS * OPS_PER_WRITER  # most writes succeeded
    assert reads > 0 and sum(s.hits for s in model.cache.stats().values()) > 0
    left = assert_cache_consistent(model, redis_client, db, ids)  # whatever the readers left in Redis is current
    print(f"\n{WRITERS * OPS_PER_WRITER} writes ({refused} debits refused), {reads} cached reads, "
          f"{left} cached values left and checked")


class NaiveReadThrough(BalanceCache):
    """The classic read-through without fill tokens (GET, load, SET): the race the real cache prevents."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        super().__init__(client, prefix)
        self._plain_client = client

    def read_through(self, query: str, params: Mapping[str, object], load: Callable[[], T | None],
                     codec: Codec[T]) -> T | None:
        key = self.key_for(query, **params)
        raw = self._plain_client.get(key)
        if raw is not None:
            return codec.decode(raw)
        value = load()
        self._plain_client.set(key, codec.encode(value), ex=300)
        return value


RACED: dict[str, tuple[dict[str, Any], Codec[Any], Callable[[Any], Decimal]]] = {
    "find_by_id": ({"id": None}, RecordCodec(Balance), lambda b: b.amount),
    "total_balance": ({}, DecimalCodec(), lambda total: total),
}


@pytest.mark.parametrize("query", RACED)
@pytest.mark.parametrize("cache_type", [BalanceCache, NaiveReadThrough])
def test_a_slow_reader_cannot_store_a_value_older_than_a_committed_write(
        db: Engine, plain: BalanceModel, redis_client: redis.Redis, key_prefix: str,
        cache_type: type[BalanceCache], query: str) -> None:
    """Reader misses and reads the old row; writer commits and invalidates; the reader's fill must not land.

    The naive cache (no fill tokens) shows the interleaving really leaves the old value cached;
    the same interleaving against BalanceCache leaves nothing stale and counts one rejected fill.
    """
    cache = cache_type(redis_client, key_prefix)
    writer = BalanceModel(db, cache)
    balance = writer.create(1, 3, "0xabc", Decimal("10"))
    params, codec, amount_of = RACED[query]
    params = {k: balance.id if v is None else v for k, v in params.items()}
    read_done_db, write_done = threading.Event(), threading.Event()

    def slow_load() -> Any:  # the reader's database read, then a pause before the fill
        value = plain.read(query, **params)
        read_done_db.set()
        assert write_done.wait(10)
        return value

    reader = threading.Thread(target=lambda: cache.read_through(query, params, slow_load, codec))
    reader.start()
    assert read_done_db.wait(10)
    writer.credit(balance.id, Decimal("5"))  # commits, then invalidates
    write_done.set()
    reader.join(10)

    key = cache.key_for(query, **params)
    raw = redis_client.get(key)
    cached_amount = None if raw is None else amount_of(codec.decode(raw))
    if cache_type is NaiveReadThrough:
        assert cached_amount == Decimal("10"), "the race did not reproduce"
    else:
        assert cached_amount is None
        assert cache.stats()["by_id" if query == "find_by_id" else "total"].rejected_fills == 1
        assert amount_of(writer.read(query, **params)) == Decimal("15")
    writer.close()
