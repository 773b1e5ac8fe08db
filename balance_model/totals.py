"""Where the two totals come from: the guide's SUM, a materialized view, or a summary table the writes keep.

``total_balance_by_user`` and ``total_balance`` are aggregates: the guide runs
``SUM(usd_value)`` each time (served by ``idx_balances_user_usd`` per user, a
full scan for the system total) and caches the result. Its "future
optimizations" propose materialized aggregates. Two kinds, each with its price:

* ``MATVIEW``: ``balance_user_totals_mv`` (one row per user) and
  ``balance_system_total_mv`` (one row), each with the unique index that
  ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` requires (readers are not blocked
  during a refresh). Writes cost nothing extra; the totals are stale from a
  write until the next ``refresh()``, and every refresh recomputes the whole
  aggregate (a full scan plus a diff), however little changed. The two views
  are refreshed one after the other, so they may disagree with each other for
  the length of one refresh.
* ``SUMMARY``: tables ``balance_user_totals`` and ``balance_system_total``, kept
  by the model's write path in the write's own transaction (lock the balance
  row, write it, add the change of ``usd_value`` to both totals). Never stale;
  each write costs a transaction of four statements instead of one, and every
  write updates the one system-total row, so concurrent writers queue on its
  row lock until they commit.

The schema for either is variant DDL (``install``), applied to a private copy of
a dataset, never to a reusable dataset or by the guide's migrations; both are
built from the balances present at install time and assume no write runs
meanwhile (the summary fill takes a SHARE lock to make sure). ``SUM`` needs no
schema and stays the model's default. A user whose balances are all deleted
keeps a summary row of total 0 (numerically equal to SUM's 0).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import psycopg
from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    bindparam,
    func,
    literal_column,
    select,
)

from balance_model.queries import compile_sql

__all__ = ["TotalsSource", "install", "refresh", "read_sql", "locked_value", "apply_change", "TOTAL_READS",
           "REFRESH_STATEMENTS"]


class TotalsSource(StrEnum):
    """Where the model reads its totals from."""

    SUM = "sum"
    MATVIEW = "matview"
    SUMMARY = "summary"


TOTAL_READS: tuple[str, ...] = ("total_balance_by_user", "total_balance")
"""The reads whose statement depends on the source."""

_AGGREGATE = "SELECT user_id, sum(usd_value) AS total FROM balances GROUP BY user_id"
_SYSTEM = "SELECT 1::smallint AS id, coalesce(sum(usd_value), 0) AS total FROM balances"

_CREATE: dict[TotalsSource, tuple[str, ...]] = {
    TotalsSource.SUM: (),
    TotalsSource.MATVIEW: (
        f"CREATE MATERIALIZED VIEW balance_user_totals_mv AS {_AGGREGATE}",
        "CREATE UNIQUE INDEX balance_user_totals_mv_user_id ON balance_user_totals_mv (user_id)",
        f"CREATE MATERIALIZED VIEW balance_system_total_mv AS {_SYSTEM}",
        "CREATE UNIQUE INDEX balance_system_total_mv_id ON balance_system_total_mv (id)",
        "ANALYZE balance_user_totals_mv, balance_system_total_mv",
    ),
    TotalsSource.SUMMARY: (
        "LOCK TABLE balances IN SHARE MODE",
        "CREATE TABLE balance_user_totals (user_id bigint PRIMARY KEY, total numeric NOT NULL)",
        "CREATE TABLE balance_system_total (id smallint PRIMARY KEY CHECK (id = 1), total numeric NOT NULL)",
        f"INSERT INTO balance_user_totals {_AGGREGATE}",
        f"INSERT INTO balance_system_total {_SYSTEM}",
        "ANALYZE balance_user_totals, balance_system_total",
    ),
}

REFRESH_STATEMENTS: tuple[str, ...] = (
    "REFRESH MATERIALIZED VIEW CONCURRENTLY balance_user_totals_mv",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY balance_system_total_mv",
)

# Lightweight Core tables for the reads; both kinds of aggregate have the same two columns.
_meta = MetaData()
_TABLES: dict[TotalsSource, tuple[Table, Table]] = {
    source: (
        Table(f"balance_user_totals{suffix}", _meta, Column("user_id", BigInteger, primary_key=True),
              Column("total", Numeric(asdecimal=True))),
        Table(f"balance_system_total{suffix}", _meta, Column("id", SmallInteger, primary_key=True),
              Column("total", Numeric(asdecimal=True))),
    )
    for source, suffix in ((TotalsSource.MATVIEW, "_mv"), (TotalsSource.SUMMARY, ""))
}


def _reads(source: TotalsSource) -> dict[str, str]:
    per_user, system = _TABLES[source]
    user_total = select(per_user.c.total).where(per_user.c.user_id == bindparam("user_id", type_=BigInteger))
    # A user with no row (no balances) totals 0, as SUM's coalesce says.
    return {
        "total_balance_by_user": compile_sql(
            select(func.coalesce(user_total.scalar_subquery(), literal_column("0")).label("total"))
        ),
        "total_balance": compile_sql(select(system.c.total).where(system.c.id == literal_column("1"))),
    }


_READ_SQL: dict[TotalsSource, dict[str, str]] = {s: _reads(s) for s in (TotalsSource.MATVIEW, TotalsSource.SUMMARY)}


def read_sql(source: TotalsSource, query: str) -> str | None:
    """The SQL of total read ``query`` under ``source``; None for SUM (the model's own statement)."""
    if query not in TOTAL_READS:
        raise ValueError(f"{query!r} is not a total read; total reads: {', '.join(TOTAL_READS)}")
    return None if source is TotalsSource.SUM else _READ_SQL[source][query]


def install(conn: psycopg.Connection, source: TotalsSource) -> None:
    """Create ``source``'s schema in the connected database, from its current balances, in one transaction."""
    with conn.transaction():
        for statement in _CREATE[source]:
            conn.execute(statement)


def refresh(conn: psycopg.Connection) -> None:
    """Refresh both materialized views concurrently (readers keep reading the old contents meanwhile)."""
    for statement in REFRESH_STATEMENTS:
        conn.execute(statement)


_LOCK = "SELECT user_id, usd_value FROM balances WHERE id = %(id)s FOR UPDATE"
# The change is computed by the server: exact, where Python's default Decimal context keeps only 28 digits.
_APPLY = (
    "WITH change AS (SELECT %(after)s::numeric - %(before)s::numeric AS d),"
    " per_user AS (INSERT INTO balance_user_totals AS t (user_id, total) SELECT %(user_id)s, d FROM change"
    " ON CONFLICT (user_id) DO UPDATE SET total = t.total + EXCLUDED.total)"
    " UPDATE balance_system_total SET total = total + (SELECT d FROM change) WHERE id = 1"
)


def locked_value(conn: psycopg.Connection, balance_id: int) -> tuple[int, Decimal] | None:
    """Lock balance ``balance_id`` for this transaction and return its ``(user_id, usd_value)``; None if absent."""
    row = conn.execute(_LOCK, {"id": balance_id}, prepare=True).fetchone()
    return None if row is None else (int(row[0]), row[1])


def apply_change(conn: psycopg.Connection, user_id: int, before: Decimal, after: Decimal) -> None:
    """Add ``after - before`` (a balance's usd_value) to the user's and the system's totals, in the write's
    transaction."""
    if after != before:
        conn.execute(_APPLY, {"user_id": user_id, "before": before, "after": after}, prepare=True)
