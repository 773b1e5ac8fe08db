"""Every statement the model runs, built once as SQLAlchemy Core objects and compiled once for psycopg.

Row reads come in three projections: ``legacy`` (the guide's "Before":
``SELECT balances.*`` plus the joined ``users.email`` and token columns),
``optimized`` (its "After": the balance's own columns, listed explicitly, no
joins) and ``explicit_joined`` (the "After"'s explicit columns, but still over
the "Before"'s joins), which exists so that a benchmark can tell what narrowing
the columns buys from what dropping the joins buys: the guide's rewrite does
both at once. Aggregates have one statement for every projection. Bind parameters are named after
the read's arguments, so ``statement(q)`` + the call's keyword arguments is all
anyone (the model, an EXPLAIN capture) needs to run exactly what the model runs;
``sql(q)`` is the very string the model sends, with psycopg's ``%(name)s``
placeholders.

Orderings: ``find_by_user_id``, ``find_by_address`` and ``find_by_token_id`` sort by
``id``; ``get_by_user`` sorts newest first, ``created_at DESC, id DESC`` (the id
breaks ties so OFFSET pages never repeat or skip a row; PostgreSQL still walks
``idx_balances_user_created`` backwards and only sorts within equal timestamps).

Beside the guide's eight reads (``READ_QUERIES``, the benchmark matrix's contract)
there are two reads the guide only talks about (``EXPERIMENT_READS``):
``get_by_user_keyset``, the cursor pagination its "future optimizations" propose
(the page after the row ``(after_created_at, after_id)`` in the same order as
``get_by_user``, with no OFFSET to read and throw away), and
``find_by_auto_convert_threshold``, its anti-pattern ``where("auto_convert_threshold",
value)``, written as the guide writes it: no ORDER BY, on a column no index covers.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Insert,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql.dml import ReturningDelete
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import FromClause

from balance_model.schema import MONEY, balances, tokens, users

__all__ = [
    "READ_QUERIES",
    "EXPERIMENT_READS",
    "ALL_READS",
    "PROJECTIONS",
    "LIST_QUERIES",
    "SCALAR_QUERIES",
    "statement",
    "sql",
    "compile_sql",
    "CREATE",
    "CREDIT",
    "DEBIT",
    "DELETE",
    "AMOUNT_OF",
]

READ_QUERIES: tuple[str, ...] = (
    "find_by_id",
    "find_by_user_id",
    "find_by_user_id_and_token_id",
    "get_by_user",
    "total_balance_by_user",
    "total_balance",
    "find_by_address",
    "find_by_token_id",
)
EXPERIMENT_READS: tuple[str, ...] = ("get_by_user_keyset", "find_by_auto_convert_threshold")
ALL_READS: tuple[str, ...] = READ_QUERIES + EXPERIMENT_READS
PROJECTIONS: tuple[str, ...] = ("legacy", "explicit_joined", "optimized")
LIST_QUERIES: frozenset[str] = frozenset({"find_by_user_id", "get_by_user", "find_by_address", "find_by_token_id",
                                          *EXPERIMENT_READS})
SCALAR_QUERIES: frozenset[str] = frozenset({"total_balance_by_user", "total_balance"})

_B = balances.c
# Explicit, in table order: the same order as Balance's fields and as balances.* expands to.
BALANCE_COLUMNS: tuple[ColumnElement[Any], ...] = (
    _B.id, _B.user_id, _B.token_id, _B.address, _B.amount, _B.usd_value,
    _B.auto_convert_threshold, _B.created_at, _B.updated_at,
)
_LEGACY_EXTRA: tuple[ColumnElement[Any], ...] = (
    users.c.email.label("user_email"),
    tokens.c.symbol.label("token_symbol"),
    tokens.c.name.label("token_name"),
    tokens.c.decimals.label("token_decimals"),
    tokens.c.price_usd.label("token_price_usd"),
)

_id = bindparam("id", type_=BigInteger)
_user_id = bindparam("user_id", type_=BigInteger)
_token_id = bindparam("token_id", type_=BigInteger)
_address = bindparam("address", type_=String)
_limit = bindparam("limit", type_=Integer)
_offset = bindparam("offset", type_=Integer)
_after_created_at = bindparam("after_created_at", type_=DateTime(timezone=True))
_after_id = bindparam("after_id", type_=BigInteger)
_threshold = bindparam("auto_convert_threshold", type_=MONEY)


def _joined() -> FromClause:
    return balances.join(users, users.c.id == _B.user_id).join(tokens, tokens.c.id == _B.token_id)


def _legacy() -> Select[Any]:
    return select(literal_column("balances.*"), *_LEGACY_EXTRA).select_from(_joined())


def _explicit_joined() -> Select[Any]:
    # The joins change no row (both are to the row's own foreign keys), only the work: what the rewrite dropped.
    return select(*BALANCE_COLUMNS).select_from(_joined())


def _optimized() -> Select[Any]:
    return select(*BALANCE_COLUMNS)


def _row_reads(base: Select[Any]) -> dict[str, Select[Any]]:
    return {
        "find_by_id": base.where(_B.id == _id),
        "find_by_user_id": base.where(_B.user_id == _user_id).order_by(_B.id),
        # (user_id, token_id) is not unique: the lowest id is "the" balance, deterministically.
        "find_by_user_id_and_token_id": base.where(_B.user_id == _user_id, _B.token_id == _token_id)
        .order_by(_B.id)
        .limit(literal_column("1")),
        "get_by_user": base.where(_B.user_id == _user_id)
        .order_by(_B.created_at.desc(), _B.id.desc())
        .limit(_limit)
        .offset(_offset),
        "find_by_address": base.where(_B.address == _address).order_by(_B.id),
        "find_by_token_id": base.where(_B.token_id == _token_id).order_by(_B.id),
        # The row comparison is the keyset condition: strictly after the cursor's row in ORDER BY order.
        "get_by_user_keyset": base.where(
            _B.user_id == _user_id, tuple_(_B.created_at, _B.id) < tuple_(_after_created_at, _after_id)
        )
        .order_by(_B.created_at.desc(), _B.id.desc())
        .limit(_limit),
        "find_by_auto_convert_threshold": base.where(_B.auto_convert_threshold == _threshold),
    }


# literal 0, not a bind: the statement's only parameters are the read's arguments.
_SUM_USD = func.coalesce(func.sum(_B.usd_value), literal_column("0")).label("total")
_AGGREGATES: dict[str, Select[Any]] = {
    "total_balance_by_user": select(_SUM_USD).where(_B.user_id == _user_id),
    "total_balance": select(_SUM_USD),
}

_STATEMENTS: dict[tuple[str, str], Select[Any]] = {
    **{(q, "legacy"): s for q, s in _row_reads(_legacy()).items()},
    **{(q, "explicit_joined"): s for q, s in _row_reads(_explicit_joined()).items()},
    **{(q, "optimized"): s for q, s in _row_reads(_optimized()).items()},
    **{(q, p): s for q, s in _AGGREGATES.items() for p in PROJECTIONS},
}


def statement(query: str, projection: str = "optimized") -> Select[Any]:
    """The Core statement the model executes for read ``query`` (the same object on every call)."""
    try:
        return _STATEMENTS[(query, projection)]
    except KeyError:
        raise ValueError(
            f"unknown read {query!r} or projection {projection!r}; reads: {', '.join(ALL_READS)}; "
            f"projections: {', '.join(PROJECTIONS)}"
        ) from None


# ---- writes: each one statement, so each is atomic on its own in autocommit ----

# Money binds are cast to the column type: exact, and typed even when NULL (INSERT ... SELECT needs that).
_delta = cast(bindparam("delta"), MONEY)
_amount = cast(bindparam("amount"), MONEY)
_price = select(tokens.c.price_usd).where(tokens.c.id == _B.token_id).scalar_subquery()

CREATE: Insert = insert(balances).from_select(
    ["user_id", "token_id", "address", "amount", "usd_value", "auto_convert_threshold"],
    select(
        _user_id,
        tokens.c.id,
        _address,
        _amount,
        _amount * tokens.c.price_usd,
        cast(bindparam("auto_convert_threshold"), MONEY),
    ).where(tokens.c.id == _token_id),
).returning(*BALANCE_COLUMNS)
"""Insert priced at the token's current price; no row back means the token does not exist."""

# SET expressions see the row's old values, so usd_value is priced on the new amount.
CREDIT: Update = (
    update(balances)
    .where(_B.id == _id)
    .values(amount=_B.amount + _delta, usd_value=(_B.amount + _delta) * _price, updated_at=func.now())
    .returning(*BALANCE_COLUMNS)
)
DEBIT: Update = (
    update(balances)
    .where(_B.id == _id, _B.amount >= _delta)
    .values(amount=_B.amount - _delta, usd_value=(_B.amount - _delta) * _price, updated_at=func.now())
    .returning(*BALANCE_COLUMNS)
)
"""No row back means not found or insufficient funds; ``AMOUNT_OF`` tells which."""
DELETE: ReturningDelete[Any] = delete(balances).where(_B.id == _id).returning(_B.id, _B.user_id, _B.token_id)
AMOUNT_OF: Select[Any] = select(_B.amount).where(_B.id == _id)

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are untyped


@cache
def compile_sql(stmt: ClauseElement) -> str:
    """``stmt`` compiled once for psycopg 3 (``%(name)s`` placeholders, typed casts)."""
    return str(stmt.compile(dialect=_DIALECT))


def sql(query: str, projection: str = "optimized") -> str:
    """The SQL text the model sends for read ``query``: ``statement(query, projection)`` compiled."""
    return compile_sql(statement(query, projection))
