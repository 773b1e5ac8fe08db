"""The balance model: the guide's reads, atomic writes, and cache invalidation after each commit.

Every call is a single statement on a held autocommit connection (see
``connections``), so reads see only committed data, credits and debits are one
``UPDATE ... SET amount = amount + :delta`` each (never read-modify-write in
Python), and the cache is invalidated after the statement has committed.

Three options change where data comes from, each off by default (the guide's model):
``replica`` sends reads to a read replica, with ``fill_source`` saying where cache
misses load from (``routing``); ``totals`` reads the two totals from a materialized
view or from summary tables the writes then keep in their own transaction
(``totals``); the keyset read pages by cursor instead of OFFSET (``pagination``).
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

from balance_model import queries, totals
from balance_model.cache import FAMILIES, BalanceCache
from balance_model.codec import Codec, DecimalCodec, RecordCodec, RecordListCodec
from balance_model.connections import ConnectionSource, HeldConnections
from balance_model.errors import BalanceNotFound, InsufficientFunds, InvalidAmount, UnknownReference
from balance_model.money import money
from balance_model.pagination import Page, PageCursor
from balance_model.records import Balance, LegacyBalance
from balance_model.routing import FillSource
from balance_model.totals import TotalsSource

__all__ = ["BalanceModel"]

_BALANCE_ROW = args_row(Balance)
_CACHED = frozenset(f.query for f in FAMILIES)
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


def _reads(projection: str, totals_source: TotalsSource) -> dict[str, _Read]:
    record = LegacyBalance if projection == "legacy" else Balance
    one = RecordCodec(record)
    many = RecordListCodec(one)
    rows = args_row(record)
    reads: dict[str, _Read] = {}
    for query in queries.ALL_READS:
        sql = queries.sql(query, projection)
        if query in totals.TOTAL_READS:
            sql = totals.read_sql(totals_source, query) or sql
        if query in queries.SCALAR_QUERIES:
            reads[query] = _Read(query, sql, scalar_row, psycopg.Cursor.fetchone, DecimalCodec())
        elif query in queries.LIST_QUERIES:
            reads[query] = _Read(query, sql, rows, psycopg.Cursor.fetchall, many)
        else:
            reads[query] = _Read(query, sql, rows, psycopg.Cursor.fetchone, one)
    return reads


def _source(engine: Engine | ConnectionSource, max_idle: int | None) -> ConnectionSource:
    """An engine's pooled connections held between calls, or a connection source as given."""
    return HeldConnections(engine, max_idle) if isinstance(engine, Engine) else engine


class BalanceModel:
    """The guide's ``Balance`` model; with ``cache=None`` it is the pure database path.

    Statements run on ``engine``'s pooled connections (held between calls, see
    ``connections``) or on any other ``ConnectionSource``, such as a shared
    ``PooledConnections``. Thread-safe: share one instance between threads. Reads return frozen
    records (``LegacyBalance`` under the legacy projection), lists for the list
    reads, Decimal for totals; writes return the balance as committed.

    ``replica``: an engine on a read replica of ``engine``'s database; reads go
    there, writes (and a batch's reads) to ``engine``, cache misses to
    ``fill_source`` (see ``routing``; ``PRIMARY_AFTER_WRITE`` needs a cache with
    ``recent_write_ms``). ``totals``: where the two totals are read from (see
    ``totals``; ``SUMMARY`` also makes every write keep the summary tables).
    """

    def __init__(self, engine: Engine | ConnectionSource, cache: BalanceCache | None = None,
                 projection: str = "optimized", *, max_idle_connections: int | None = None,
                 replica: Engine | ConnectionSource | None = None, fill_source: FillSource = FillSource.PRIMARY,
                 totals: TotalsSource = TotalsSource.SUM) -> None:
        if projection not in queries.PROJECTIONS:
            raise ValueError(f"unknown projection {projection!r}; expected one of {', '.join(queries.PROJECTIONS)}")
        if fill_source is FillSource.PRIMARY_AFTER_WRITE and (cache is None or cache.recent_write_ms is None):
            raise ValueError("fill_source=PRIMARY_AFTER_WRITE needs a cache with recent_write_ms set")
        self.projection = projection
        self.cache = cache
        self.fill_source = fill_source
        self.totals = totals
        self._connections = _source(engine, max_idle_connections)
        self._replica = _source(replica, max_idle_connections) if replica is not None else None
        self._readers: ConnectionSource = self._replica or self._connections
        self._reads = _reads(projection, totals)
        self._local = threading.local()  # .batch: keys to invalidate when this thread's batch ends

    def close(self) -> None:
        """Give the held connections back to the engines' pools (a shared pool stays open)."""
        self._connections.close()
        if self._replica is not None:
            self._replica.close()

    def __enter__(self) -> BalanceModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reads ----

    def read(self, query: str, **params: Any) -> Any:
        """Run read ``query`` (one of ``queries.ALL_READS``) with its arguments by name."""
        try:
            spec = self._reads[query]
        except KeyError:
            raise ValueError(f"unknown read {query!r}; expected one of {', '.join(queries.ALL_READS)}") from None
        return self._read(spec, params)

    def find_by_id(self, id: int) -> Balance | None:
        found: Balance | None = self._read(self._reads["find_by_id"], {"id": id})
        return found

    def find_by_user_id(self, user_id: int) -> list[Balance]:
        """All of the user's balances, by id."""
        found: list[Balance] = self._read(self._reads["find_by_user_id"], {"user_id": user_id})
        return found

    def find_by_user_id_and_token_id(self, user_id: int, token_id: int) -> Balance | None:
        """The user's balance of this token (the lowest id if there are several addresses)."""
        found: Balance | None = self._read(self._reads["find_by_user_id_and_token_id"],
                                           {"user_id": user_id, "token_id": token_id})
        return found

    def get_by_user(self, user_id: int, limit: int = 20, offset: int = 0) -> list[Balance]:
        """One page of the user's balances, newest first (``created_at DESC, id DESC``)."""
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be >= 0, got {limit} and {offset}")
        found: list[Balance] = self._read(self._reads["get_by_user"],
                                          {"user_id": user_id, "limit": limit, "offset": offset})
        return found

    def total_balance_by_user(self, user_id: int) -> Decimal:
        """Sum of the user's ``usd_value`` (0 with no balances)."""
        found: Decimal = self._read(self._reads["total_balance_by_user"], {"user_id": user_id})
        return found

    def total_balance(self) -> Decimal:
        """Sum of every ``usd_value`` in the system."""
        found: Decimal = self._read(self._reads["total_balance"], {})
        return found

    def find_by_address(self, address: str) -> list[Balance]:
        found: list[Balance] = self._read(self._reads["find_by_address"], {"address": address})
        return found

    def find_by_token_id(self, token_id: int) -> list[Balance]:
        found: list[Balance] = self._read(self._reads["find_by_token_id"], {"token_id": token_id})
        return found

    def get_by_user_keyset(self, user_id: int, limit: int = 20, after: PageCursor | None = None) -> Page:
        """The page of the user's balances after cursor ``after`` (None: the first page), newest first.

        The same order as ``get_by_user``; the first page is ``get_by_user``'s
        offset-0 statement, later pages start from the cursor instead of
        skipping rows. ``Page.next`` continues after this page.
        """
        if limit < 1:
            raise ValueError(f"a keyset page needs limit >= 1, got {limit}")
        if after is None:
            rows = self._read(self._reads["get_by_user"], {"user_id": user_id, "limit": limit, "offset": 0})
        else:
            rows = self._read(self._reads["get_by_user_keyset"],
                              {"user_id": user_id, "limit": limit, **after.params()})
        return Page(rows, PageCursor.after(rows[-1]) if len(rows) == limit else None)

    def find_by_auto_convert_threshold(self, auto_convert_threshold: Decimal | int) -> list[Balance]:
        """The guide's anti-pattern, ``where("auto_convert_threshold", value)``: no index serves it, no order."""
        value = money(auto_convert_threshold, "auto_convert_threshold")
        rows: list[Balance] = self._read(self._reads["find_by_auto_convert_threshold"],
                                         {"auto_convert_threshold": value})
        return rows

    def _read(self, spec: _Read, params: dict[str, Any]) -> Any:
        cache = self.cache
        # Inside a batch this thread's writes are not invalidated yet: read the primary (the guide's
        # "disable cache during bulk operations"; a replica may not have replayed them either).
        if getattr(self._local, "batch", None) is not None:
            return self._fetch(spec, params, self._connections)
        if cache is None or spec.query not in _CACHED:
            return self._fetch(spec, params, self._readers)
        source = self.fill_source
        if self._replica is None or source is FillSource.REPLICA:
            return cache.read_through(spec.query, params, lambda: self._fetch(spec, params, self._readers),
                                      spec.codec)
        primary = self._connections
        if source is FillSource.PRIMARY:
            return cache.read_through(spec.query, params, lambda: self._fetch(spec, params, primary), spec.codec)
        return cache.read_through(spec.query, params, lambda: self._fetch(spec, params, self._readers), spec.codec,
                                  load_recent=lambda: self._fetch(spec, params, primary))

    @staticmethod
    def _fetch(spec: _Read, params: dict[str, Any], connections: ConnectionSource) -> Any:
        with connections.connection() as conn:
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
            balance: Balance | None = self._write(_CREATE, params, _BALANCE_ROW)
        except psycopg.errors.ForeignKeyViolation:
            raise UnknownReference(f"user {user_id} does not exist") from None
        if balance is None:
            raise UnknownReference(f"token {token_id} does not exist")
        self._invalidate(balance.id, balance.user_id, balance.token_id)
        return balance

    def credit(self, id: int, amount: Decimal | int) -> Balance:
        """Add ``amount`` (> 0) in one atomic UPDATE; usd_value and updated_at follow."""
        balance: Balance | None = self._write(
            _CREDIT, {"id": id, "delta": money(amount, "credit", positive=True)}, _BALANCE_ROW, locks=id)
        if balance is None:
            raise BalanceNotFound(id)
        self._invalidate(balance.id, balance.user_id, balance.token_id)
        return balance

    def debit(self, id: int, amount: Decimal | int) -> Balance:
        """Subtract ``amount`` (> 0) in one atomic UPDATE that matches no row if it would go negative."""
        delta = money(amount, "debit", positive=True)
        balance: Balance | None = self._write(_DEBIT, {"id": id, "delta": delta}, _BALANCE_ROW, locks=id)
        if balance is None:
            available = self._execute_one(_AMOUNT_OF, {"id": id}, scalar_row)
            if available is None:
                raise BalanceNotFound(id)
            raise InsufficientFunds(id, available, delta)
        self._invalidate(balance.id, balance.user_id, balance.token_id)
        return balance

    def delete(self, id: int) -> bool:
        """Delete the balance; False if there was none."""
        row = self._write(_DELETE, {"id": id}, tuple_row, locks=id)
        if row is None:
            return False
        self._invalidate(*row)
        return True

    def _execute_one(self, sql: str, params: dict[str, Any], row_factory: RowFactory[Any]) -> Any:
        with self._connections.connection() as conn:
            return self._one(conn, sql, params, row_factory)

    @staticmethod
    def _one(conn: psycopg.Connection, sql: str, params: dict[str, Any], row_factory: RowFactory[Any]) -> Any:
        try:
            return conn.cursor(row_factory=row_factory).execute(sql, params, prepare=True).fetchone()
        except psycopg.errors.NumericValueOutOfRange as exc:
            raise InvalidAmount(f"result does not fit NUMERIC(38, 18): {exc.diag.message_primary}") from None

    def _write(self, sql: str, params: dict[str, Any], row_factory: RowFactory[Any], locks: int | None = None) -> Any:
        """Run one write statement; with summary totals, in a transaction that also moves the totals.

        ``locks`` is the id of the balance the statement changes (None for create):
        it is locked first, so its ``usd_value`` before the write is the one the
        write replaces. Rows come back as ``Balance`` (create, credit, debit) or
        as ``(id, user_id, token_id)`` (delete: the value is gone).
        """
        if self.totals is not TotalsSource.SUMMARY:
            return self._execute_one(sql, params, row_factory)
        with self._connections.connection() as conn, conn.transaction():
            before = totals.locked_value(conn, locks) if locks is not None else None
            row = self._one(conn, sql, params, row_factory)
            if row is not None:
                user_id, after = (row.user_id, row.usd_value) if isinstance(row, Balance) else (row[1], Decimal(0))
                totals.apply_change(conn, user_id, before[1] if before is not None else Decimal(0), after)
            return row

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
