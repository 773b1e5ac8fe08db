"""Where the model's connections come from: a shared psycopg_pool (same answers, autocommit required, pool left
open) or connections held from the engine (one interrupted mid-statement is never reused)."""

from __future__ import annotations

import signal
import threading
from decimal import Decimal

import pytest
from psycopg_pool import ConnectionPool
from sqlalchemy import Engine

from balance_bench.fixtures.services import psycopg_dsn
from balance_model.cache import BalanceCache
from balance_model.connections import HeldConnections, PooledConnections
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


class _Interrupted(Exception):
    """What the timer raises in the middle of a statement, as Ctrl-C would."""


def _interrupt_after(seconds: float) -> None:
    def handler(signum: int, frame: object) -> None:
        raise _Interrupted

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def test_a_statement_interrupted_midway_leaves_its_connection_out_and_close_works(db: Engine) -> None:
    """Interrupted while the server still runs the statement, the connection is never reused, close() succeeds
    (a run's teardown after Ctrl-C must get on to dropping its databases), and the next call gets a fresh one."""
    held = HeldConnections(db)
    previous = signal.getsignal(signal.SIGALRM)
    try:
        with pytest.raises(_Interrupted), held.connection() as conn:
            _interrupt_after(0.3)
            conn.execute("SELECT pg_sleep(3)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with held.connection() as again:
        assert again is not conn
        assert again.execute("SELECT 1").fetchone() == (1,)
    held.close()
