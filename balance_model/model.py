"""The balance model: the guide's reads, atomic writes, and cache invalidation after each commit.

Every call is a single statement on a held autocommit connection (see
``connections``), so reads see only committed data, credits and debits are one
``UPDATE ... SET amount = amount + :delta`` each (never read-modify-write in
Python), and the cache is invalidated after the statement has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import RowFactory, args_row, scalar_row, tuple_row
from sqlalchemy import Engine

from balance_model import queries
from balance_model.cache import BalanceCache
from balance_model.codec import Codec, DecimalCodec, RecordCodec, RecordListCodec
from balance_model.connections import ConnectionSource, HeldConnections
from balance_model.errors import BalanceNotFound, InsufficientFunds, InvalidAmount, UnknownReference
from balance_model.money import money
from balance_model.records import Balance, LegacyBalance

__all__ = ["BalanceModel"]

_BALANCE_ROW = args_row(Balance)
_CREATE, _CREDIT, _DEBIT, _DELETE, _AMOUNT_OF = map(
    queries.compile_sql, (queries.CREATE, queries.CREDIT, queries.DEBIT, queries.DELETE, queries.AMOUNT_OF)
)


@dataclass(frozen=True)
class _Read:
    """How to run one read and cache its result."""

    query: str
    sql: str
    row_factory: RowFactory[Any]
    fetch: Callable[[psycopg.Cursor[Any]], Any]
    codec: Codec[Any]


def _reads(projection: str) -> dict[str, _Read]:
    record = LegacyBalance if projection == "legacy" else Balance
    one = RecordCodec(record)
    many = RecordListCodec(one)
    rows = args_row(record)
    reads: dict[str, _Read] = {}
    for query in queries.READ_QUERIES:
        sql = queries.sql(query, projection)
        if query in queries.SCALAR_QUERIES:
            reads[query] = _Read(query, sql, scalar_row, psycopg.Cursor.fetchone, DecimalCodec())
        elif query in queries.LIST_QUERIES:
            reads[query] = _Read(query, sql, rows, psycopg.Cursor.fetchall, many)
        else:
            reads[query] = _Read(query, sql, rows, psycopg.Cursor.fetchone, one)
    return reads


class BalanceModel:
    """The guide's ``Balance`` model; with ``cache=None`` it is the pure database path.

    Statements run on ``engine``'s pooled connections (held between calls, see
    ``connections``) or on any other ``ConnectionSource``, such as a shared
    ``PooledConnections``. Thread-safe: share one instance between threads. Reads return frozen
    records (``LegacyBalance`` under the legacy projection), lists for the list
    reads, Decimal for totals; writes return the balance as committed.
    """

    def __init__(self, engine: Engine | ConnectionSource, cache: BalanceCache | None = None,
                 projection: str = "optimized", *, max_idle_connections: int | None = None) -> None:
        if projection not in queries.PROJECTIONS:
            raise ValueError(f"unknown projection {projection!r}; expected one of {', '.join(queries.PROJECTIONS)}")
        self.projection = projection
        self.cache = cache
        self._connections: ConnectionSource = (
            HeldConnections(engine, max_idle_connections) if isinstance(engine, Engine) else engine
        )
        self._reads = _reads(projection)
        self._local = threading.local()  # .batch: keys to invalidate when this thread's batch ends

    def close(self) -> None:
        """Give the held connections back to the engine's pool (a shared pool stays open)."""
        self._connections.close()

    def __enter__(self) -> BalanceModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reads ----

    def read(self, query: str, **params: Any) -> Any:
        """Run read ``query`` (one of ``queries.READ_QUERIES``) with its arguments by name."""
        try:
            spec = self._reads[query]
        except KeyError:
            raise ValueError(f"unknown read {query!r}; expected one of {', '.join(queries.READ_QUERIES)}") from None
        return self._read(spec, params)

    def find_by_id(self, id: int) -> Balance | None:
        return self._read(self._reads["find_by_id"], {"id": id})

    def find_by_user_id(self, user_id: int) -> list[Balance]:
        """All of the user's balances, by id."""
        return self._read(self._reads["find_by_user_id"], {"user_id": user_id})

    def find_by_user_id_and_token_id(self, user_id: int, token_id: int) -> Balance | None:
        """The user's balance of this token (the lowest id if there are several addresses)."""
        return self._read(self._reads["find_by_user_id_and_token_id"], {"user_id": user_id, "token_id": token_id})

    def get_by_user(self, user_id: int, limit: int = 20, offset: int = 0) -> list[Balance]:
        """One page of the user's balances, newest first (``created_at DESC, id DESC``)."""
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be >= 0, got {limit} and {offset}")
        return self._read(self._reads["get_by_user"], {"user_id": user_id, "limit": limit, "offset": offset})

    def total_balance_by_user(self, user_id: int) -> Decimal:
        """Sum of the user's ``usd_value`` (0 with no balances)."""
        return self._read(self._reads["total_balance_by_user"], {"user_id": user_id})

    def total_balance(self) -> Decimal:
        """Sum of every ``usd_value`` in the system."""
        return self._read(self._reads["total_balance"], {})

    def find_by_address(self, address: str) -> list[Balance]:
        return self._read(self._reads["find_by_address"], {"address": address})

    def find_by_token_id(self, token_id: int) -> list[Balance]:
        return self._read(self._reads["find_by_token_id"], {"token_id": token_id})

    def _read(self, spec: _Read, params: dict[str, Any]) -> Any:
        cache = self.cache
        # Inside a batch this thread's writes are not invalidated yet: read the database (the guide's
        # "disable cache during bulk operations").
        if cache is None or getattr(self._local, "batch", None) is not None:
            return self._fetch(spec, params)
        return cache.read_through(spec.query, params, lambda: self._fetch(spec, params), spec.codec)

    def _fetch(self, spec: _Read, params: dict[str, Any]) -> Any:
        with self._connections.connection() as conn:
            cursor = conn.cursor(row_factory=spec.row_factory)
            cursor.execute(spec.sql, params, prepare=True)
            return spec.fetch(cursor)

    # ---- writes ----

    def create(self, user_id: int, token_id: int, address: str, amount: Decimal | int,
               auto_convert_threshold: Decimal | int | None = None) -> Balance:
        """Insert a balance valued at the token's current price."""
        params = {
            "user_id": user_id,
            "token_id": token_id,
            "address": address,
            "amount": money(amount, "amount"),
            "auto_convert_threshold": None if auto_convert_threshold is None
            else money(auto_convert_threshold, "auto_convert_threshold"),
        }
        try:
            balance = self._execute_one(_CREATE, params, _BALANCE_ROW)
        except psycopg.errors.ForeignKeyViolation:
            raise UnknownReference(f"user {user_id} does not exist") from None
        if balance is None:
            raise UnknownReference(f"token {token_id} does not exist")
        self._invalidate(balance.id, balance.user_id, balance.token_id)
        return balance

    def credit(self, id: int, amount: Decimal | int) -> Balance:
        """Add ``amount`` (> 0) in one atomic UPDATE; usd_value and updated_at follow."""
        balance = self._execute_one(_CREDIT, {"id": id, "delta": money(amount, "credit", positive=True)}, _BALANCE_ROW)
        if balance is None:
            raise BalanceNotFound(id)
        self._invalidate(balance.id, balance.user_id, balance.token_id)
        return balance

    def debit(self, id: int, amount: Decimal | int) -> Balance:
        """Subtract ``amount`` (> 0) in one atomic UPDATE that matches no row if it would go negative."""
        delta = money(amount, "debit", positive=True)
        balance = self._execute_one(_DEBIT, {"id": id, "delta": delta}, _BALANCE_ROW)
        if balance is None:
            available = self._execute_one(_AMOUNT_OF, {"id": id}, scalar_row)
            if available is None:
                raise BalanceNotFound(id)
            raise InsufficientFunds(id, available, delta)
        self._invalidate(balance.id, balance.user_id, balance.token_id)
        return balance

    def delete(self, id: int) -> bool:
        """Delete the balance; False if there was none."""
        row = self._execute_one(_DELETE, {"id": id}, tuple_row)
        if row is None:
            return False
        self._invalidate(*row)
        return True

    def _execute_one(self, sql: str, params: dict[str, Any], row_factory: RowFactory[Any]) -> Any:
        with self._connections.connection() as conn:
            try:
                return conn.cursor(row_factory=row_factory).execute(sql, params, prepare=True).fetchone()
            except psycopg.errors.NumericValueOutOfRange as exc:
                raise InvalidAmount(f"result does not fit NUMERIC(38, 18): {exc.diag.message_primary}") from None

    # ---- cache management (the guide's best practices) ----

    def _invalidate(self, id: int, user_id: int, token_id: int) -> None:
        if self.cache is None:
            return
        keys = self.cache.keys_for_balance(id, user_id, token_id)
        pending: set[str] | None = getattr(self._local, "batch", None)
        if pending is None:
            self.cache.invalidate(keys)
        else:
            pending.update(keys)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Defer this thread's invalidations to one DEL at the end (also when the block raises).

        Each write still commits on its own. Until the batch ends, this thread
        reads the database directly and other threads may read values cached
        before the batch's writes. Nested batches join the outermost one.
        """
        if getattr(self._local, "batch", None) is not None:
            yield
            return
        pending: set[str] = set()
        self._local.batch = pending
        try:
            yield
        finally:
            self._local.batch = None
            if pending and self.cache is not None:
                self.cache.invalidate(pending)

    def warm(self, user_ids: Iterable[int]) -> None:
        """Fill the hot per-user keys (the user's balance list and total) ahead of traffic."""
        if self.cache is None:
            return
        for user_id in user_ids:
            self.find_by_user_id(user_id)
            self.total_balance_by_user(user_id)
