"""The model on a shared psycopg_pool: same answers as on its own connections, autocommit required, pool left open."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from psycopg_pool import ConnectionPool
from sqlalchemy import Engine

from balance_bench.fixtures.services import psycopg_dsn
from balance_model.cache import BalanceCache
from balance_model.connections import PooledConnections
from balance_model.model import BalanceModel
from tests.balance_model.conftest import db_balance, strict

pytestmark = pytest.mark.services


def _pool(db: Engine, size: int, autocommit: bool = True) -> ConnectionPool:
    return ConnectionPool(psycopg_dsn(db.url.render_as_string(hide_password=False)), min_size=size, max_size=size,
                          kwargs={"autocommit": autocommit}, open=True)


def test_pooled_model_reads_and_writes_like_the_engine_model(db: Engine, cache: BalanceCache) -> None:
    """Create, credit, debit and every cached read give what the database holds (read independently)."""
    with _pool(db, 2) as pool:
        model = BalanceModel(PooledConnections(pool), cache)
        balance = model.create(1, 2, "0xaaa", Decimal("10.5"))
        model.credit(balance.id, Decimal("0.000000000000000001"))
        after = model.debit(balance.id, Decimal("0.5"))
        assert strict(after) == strict(db_balance(db, balance.id))
        assert strict(model.find_by_id(balance.id)) == strict(after)
        assert strict(model.find_by_user_id(1)) == strict([after])
        model.close()
        assert not pool.closed  # the pool belongs to its creator


def test_pool_smaller_than_its_users_makes_them_wait_not_fail(db: Engine) -> None:
    """Eight threads on a pool of one: every credit commits, in turn; the sum is exact."""
    with _pool(db, 1) as pool:
        model = BalanceModel(PooledConnections(pool, timeout_s=30))
        balance = model.create(1, 1, "0xbbb", Decimal("0"))
        threads = [threading.Thread(target=lambda: [model.credit(balance.id, Decimal("0.25")) for _ in range(5)])
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert db_balance(db, balance.id).amount == Decimal("10")  # type: ignore[union-attr]
        assert pool.get_stats()["pool_max"] == 1


def test_a_pool_without_autocommit_is_refused(db: Engine) -> None:
    """Statements must commit on their own: a transactional pool is a ValueError naming the fix."""
    with _pool(db, 1, autocommit=False) as pool, pytest.raises(ValueError, match="autocommit"):
        PooledConnections(pool)
