"""Reads routed to a lagging replica: writes stay on the primary; only filling misses from it poisons the cache.

The replica applies each commit 1.5 s late (``delayed_replica``), so "the
replica has not replayed this write yet" holds for the next statements of a test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import redis
from sqlalchemy import Engine, create_engine

from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.replica import Replica, wait_for_replay
from balance_bench.fixtures.services import Endpoints, connect_postgres
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel
from balance_model.routing import FillSource

from .conftest import seed_users_and_tokens

pytestmark = [pytest.mark.services, pytest.mark.slow]


@dataclass
class Routed:
    """A scratch database on the primary, its replica engine, one balance and a cache prefix."""

    primary: Engine
    replica: Engine
    balance_id: int
    cache: BalanceCache
    client: redis.Redis
    endpoints: Endpoints
    standby: Replica

    def model(self, fill_source: FillSource | None = None, window_ms: int | None = None) -> BalanceModel:
        cache = None
        if fill_source is not None:
            cache = BalanceCache(self.client, self.cache.prefix, recent_write_ms=window_ms)
        return BalanceModel(self.primary, cache, replica=self.replica, fill_source=fill_source or FillSource.PRIMARY)

    def caught_up(self) -> None:
        with connect_postgres(self.endpoints.pg_url) as p, connect_postgres(self.standby.url) as r:
            wait_for_replay(p, r)

    def amount_on_primary(self) -> Decimal:
        with BalanceModel(self.primary) as direct:
            balance = direct.find_by_id(self.balance_id)
        assert balance is not None
        return balance.amount


@pytest.fixture()
def routed(delayed_replica: tuple[Endpoints, Replica], redis_client: redis.Redis, key_prefix: str) -> Iterator[Routed]:
    endpoints, standby = delayed_replica
    name = f"{PREFIX}test_{uuid.uuid4().hex[:12]}"
    create_owned(endpoints, name)
    primary = create_engine(endpoints.database_url(name))
    replica = create_engine(standby.database_url(name))
    try:
        migrate.upgrade(primary, migrate.BASELINE)
        seed_users_and_tokens(primary)
        with BalanceModel(primary) as plain:
            balance_id = plain.create(1, 1, "0xabc", Decimal("5")).id
        routed = Routed(primary, replica, balance_id, BalanceCache(redis_client, key_prefix), redis_client,
                        endpoints, standby)
        routed.caught_up()
        yield routed
    finally:
        primary.dispose()
        replica.dispose()
        drop_owned(endpoints, name)


def test_reads_go_to_the_replica_and_writes_to_the_primary(routed: Routed) -> None:
    """Right after a credit the routed model still reads the old amount; once replayed, the new one."""
    with routed.model() as model:
        credited = model.credit(routed.balance_id, 1)
        assert credited.amount == routed.amount_on_primary() == Decimal(6)
        assert model.find_by_id(routed.balance_id).amount == Decimal(5)  # type: ignore[union-attr]
        routed.caught_up()
        assert model.find_by_id(routed.balance_id).amount == Decimal(6)  # type: ignore[union-attr]


def test_filling_from_a_lagging_replica_stores_a_stale_value_beyond_the_lag(routed: Routed) -> None:
    """The hazard: the miss after an invalidation caches the replica's old amount, still there after replay."""
    with routed.model(FillSource.REPLICA) as model:
        model.find_by_id(routed.balance_id)  # a cached value exists
        model.credit(routed.balance_id, 1)  # invalidated
        assert model.find_by_id(routed.balance_id).amount == Decimal(5)  # type: ignore[union-attr]
        routed.caught_up()
        assert model.find_by_id(routed.balance_id).amount == Decimal(5)  # type: ignore[union-attr]
        assert routed.amount_on_primary() == Decimal(6)


def test_filling_misses_from_the_primary_never_caches_the_lag(routed: Routed) -> None:
    """PRIMARY: the miss after the credit caches the new amount; uncached reads still come from the replica."""
    with routed.model(FillSource.PRIMARY) as model:
        model.credit(routed.balance_id, 1)
        assert model.find_by_id(routed.balance_id).amount == Decimal(6)  # type: ignore[union-attr]
        assert model.find_by_address("0xabc")[0].amount == Decimal(5)  # find_by_address is not cached: replica
        assert model.find_by_id(routed.balance_id).amount == Decimal(6)  # type: ignore[union-attr]  # the hit


def test_the_recent_write_window_reads_the_primary_only_after_a_write(routed: Routed) -> None:
    """PRIMARY_AFTER_WRITE: a miss right after an invalidation reads the primary; one without a marker, the replica."""
    with routed.model(FillSource.PRIMARY_AFTER_WRITE, window_ms=5000) as model:
        assert model.cache is not None
        model.credit(routed.balance_id, 1)
        assert model.find_by_id(routed.balance_id).amount == Decimal(6)  # type: ignore[union-attr]
        key = model.cache.key_for("find_by_id", id=routed.balance_id)
        assert key is not None
        model.credit(routed.balance_id, 1)
        routed.client.delete(key, model.cache.recent_key(key))  # as if the window had passed and the key expired
        lagging = model.find_by_id(routed.balance_id)  # from the replica, which has not replayed the second credit
        assert lagging is not None and lagging.amount < routed.amount_on_primary() == Decimal(7)


def test_a_batch_reads_its_own_writes_from_the_primary(routed: Routed) -> None:
    """Inside batch() the thread reads the primary: its writes are neither invalidated nor replayed yet."""
    with routed.model(FillSource.REPLICA) as model, model.batch():
        model.credit(routed.balance_id, 1)
        assert model.find_by_id(routed.balance_id).amount == Decimal(6)  # type: ignore[union-attr]
