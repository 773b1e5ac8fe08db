"""Where the model's connections come from: held from a SQLAlchemy engine's pool, or taken from a psycopg pool.

``HeldConnections`` keeps a few of the engine's pooled connections checked out between calls, in autocommit.

Why: every model call is one statement, so autocommit makes each atomic on its
own with no BEGIN/COMMIT round trips, and keeping the connection skips the
pool's checkout/reset work (tens of microseconds, as much as a primary-key
lookup). Statements run on the psycopg connection itself with ``prepare=True``,
so each connection parses and plans a statement once. Connections go back to
the engine's pool (autocommit off again) when more than ``max_idle`` are idle, on
``close()``, or are invalidated when the server broke them or a statement was
interrupted midway. At most ``max_idle`` are held idle, which defaults to the
engine pool's size, so the pool's overflow stays available to everyone else;
size the pool for the model's concurrency.

``PooledConnections`` takes one connection per statement from a ``psycopg_pool``
pool shared by many callers (the guide's "connection pooling"): callers beyond
the pool's size wait for a connection instead of opening their own. Both are a
``ConnectionSource``, all the model needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool
from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

__all__ = ["ConnectionSource", "HeldConnections", "PooledConnections"]


class ConnectionSource(Protocol):
    """What the model runs its statements on: an autocommit connection per statement, and a way to let go."""

    def connection(self) -> AbstractContextManager[psycopg.Connection[Any]]: ...

    def close(self) -> None: ...

_DEFAULT_MAX_IDLE = 5


class HeldConnections:
    """A LIFO of autocommit psycopg connections borrowed from ``engine``'s pool (thread-safe)."""

    def __init__(self, engine: Engine, max_idle: int | None = None) -> None:
        if (engine.dialect.name, engine.dialect.driver) != ("postgresql", "psycopg"):
            raise ValueError(f"the balance model needs postgresql+psycopg, not {engine.dialect.name}+"
                             f"{engine.dialect.driver}")
        self._engine = engine
        size = getattr(engine.pool, "size", None)
        self._max_idle = max_idle if max_idle is not None else (size() if callable(size) else _DEFAULT_MAX_IDLE)
        self._idle: list[PoolProxiedConnection] = []  # list.pop/append are atomic: no lock needed

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection in autocommit for one statement; returned (or discarded if broken) afterwards."""
        try:
            pooled = self._idle.pop()
        except IndexError:
            pooled = self._engine.raw_connection()
            pooled.driver_connection.autocommit = True  # type: ignore[union-attr]
        conn: psycopg.Connection = pooled.driver_connection  # type: ignore[assignment]
        try:
            yield conn
        finally:
            self._release(pooled, conn)

    def _release(self, pooled: PoolProxiedConnection, conn: psycopg.Connection) -> None:
        if _reusable(conn) and len(self._idle) < self._max_idle:
            self._idle.append(pooled)
        else:
            self._give_back(pooled, conn)

    @staticmethod
    def _give_back(pooled: PoolProxiedConnection, conn: psycopg.Connection) -> None:
        """Back to the engine's pool in its default mode; a broken or busy connection is discarded instead."""
        if not _reusable(conn):
            pooled.invalidate()
            return
        conn.autocommit = False  # the engine's other users expect its default
        pooled.close()

    def close(self) -> None:
        """Return every idle connection to the engine's pool."""
        while self._idle:
            pooled = self._idle.pop()
            self._give_back(pooled, pooled.driver_connection)  # type: ignore[arg-type]


def _reusable(conn: psycopg.Connection[Any]) -> bool:
    """Open, unbroken and idle: a statement interrupted midway (Ctrl-C while the server still runs it) leaves the
    connection busy with a result nobody will read; it can be neither reused nor reset, only discarded."""
    return not (conn.broken or conn.closed) and conn.info.transaction_status is pq.TransactionStatus.IDLE


class PooledConnections:
    """One autocommit connection per statement from a shared ``psycopg_pool.ConnectionPool`` (thread-safe).

    The pool must hand out autocommit connections (``kwargs={"autocommit": True}``), so
    each statement commits on its own exactly as with ``HeldConnections``. The pool
    belongs to whoever created it: ``close()`` leaves it open for its other users.
    """

    def __init__(self, pool: ConnectionPool[Any], timeout_s: float | None = None) -> None:
        kwargs = pool.kwargs if isinstance(pool.kwargs, dict) else {}
        if kwargs.get("autocommit") is not True:
            raise ValueError("the balance model needs a pool of autocommit connections: "
                             "ConnectionPool(..., kwargs={'autocommit': True})")
        self._pool = pool
        self._timeout_s = timeout_s

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for one statement; waits (up to the pool's timeout) when all are busy."""
        with self._pool.connection(timeout=self._timeout_s) as conn:
            yield conn

    def close(self) -> None:
        """Nothing to give back between statements; the pool stays open for its owner."""
