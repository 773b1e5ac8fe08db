"""The statements: stable names, three projections, parameters named after the arguments, one object each."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy import Engine, text

from balance_model import queries
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel
from balance_model.records import Balance, LegacyBalance

from .conftest import READ_ARGS, one_call_each, read_directly, strict

pytestmark = pytest.mark.services

ALL = [(q, p) for q in queries.READ_QUERIES for p in queries.PROJECTIONS]


def test_read_names_and_projections_are_the_contract() -> None:
    """The eight reads in the agreed order and the three projections, by their stable names."""
    assert tuple(READ_ARGS) == queries.READ_QUERIES
    assert queries.PROJECTIONS == ("legacy", "explicit_joined", "optimized")


@pytest.mark.parametrize(("query", "projection"), ALL)
def test_statement_is_built_once_and_binds_exactly_the_arguments(query: str, projection: str) -> None:
    """statement() hands out the same object every time, its binds are the read's arguments, sql() is it compiled."""
    stmt = queries.statement(query, projection)
    assert queries.statement(query, projection) is stmt
    assert set(stmt.compile().params) == set(READ_ARGS[query])
    assert queries.sql(query, projection) is queries.sql(query, projection)
    for name in READ_ARGS[query]:
        assert f"%({name})s" in queries.sql(query, projection)


def test_default_projection_is_optimized_and_unknown_names_are_refused() -> None:
    """Without a projection the optimized statement is meant; typos fail loudly."""
    assert queries.statement("find_by_id") is queries.statement("find_by_id", "optimized")
    with pytest.raises(ValueError, match="unknown read"):
        queries.statement("find_by_email")
    with pytest.raises(ValueError, match="projection"):
        queries.statement("find_by_id", "fast")


@pytest.mark.parametrize("query", sorted(queries.SCALAR_QUERIES))
def test_aggregates_share_one_statement(query: str) -> None:
    """Projections do not apply to the sums: every name gives the very same statement."""
    assert queries.statement(query, "legacy") is queries.statement(query, "optimized")
    assert queries.statement(query, "explicit_joined") is queries.statement(query, "optimized")


@pytest.mark.parametrize("query", sorted(set(queries.READ_QUERIES) - queries.SCALAR_QUERIES))
def test_legacy_selects_star_with_joins_and_optimized_lists_columns(query: str) -> None:
    """legacy is the guide's Before (balances.* + users.email + token columns), optimized its After."""
    legacy, optimized = queries.sql(query, "legacy"), queries.sql(query, "optimized")
    assert legacy.startswith("SELECT balances.*, users.email")
    assert "JOIN users" in legacy and "JOIN tokens" in legacy
    assert "*" not in optimized and "JOIN" not in optimized
    assert optimized.startswith("SELECT balances.id, balances.user_id, balances.token_id")


@pytest.mark.parametrize("query", sorted(set(queries.READ_QUERIES) - queries.SCALAR_QUERIES))
def test_explicit_joined_is_the_optimized_columns_over_the_legacy_joins(query: str) -> None:
    """explicit_joined differs from optimized only by legacy's FROM clause, and from legacy only by its columns."""
    legacy, joined = queries.sql(query, "legacy"), queries.sql(query, "explicit_joined")
    optimized = queries.sql(query, "optimized")
    columns, _, rest = joined.partition("\nFROM ")
    assert rest and columns == optimized.partition("\nFROM ")[0]
    assert rest == legacy.partition("\nFROM ")[2]
    assert "*" not in joined and "users.email" not in joined


def test_get_by_user_orders_newest_first_with_id_tiebreak() -> None:
    """The page order is created_at DESC, id DESC, so OFFSET pages neither repeat nor skip rows."""
    assert "ORDER BY balances.created_at DESC, balances.id DESC" in queries.sql("get_by_user")


@pytest.mark.parametrize("projection", queries.PROJECTIONS)
def test_result_columns_match_the_record_fields(db: Engine, projection: str) -> None:
    """Records are built positionally, so each statement's columns must be the record's fields in order."""
    record = LegacyBalance if projection == "legacy" else Balance
    fields = [f.name for f in dataclasses.fields(record)]
    url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    params = {"id": 1, "user_id": 1, "token_id": 1, "limit": 1, "offset": 0, "address": "0x"}
    with psycopg.connect(url) as conn:
        for query in set(queries.READ_QUERIES) - queries.SCALAR_QUERIES:
            cursor = conn.execute(queries.sql(query, projection), {k: params[k] for k in READ_ARGS[query]})
            assert [c.name for c in cursor.description] == fields, query


@pytest.mark.parametrize("projection", queries.PROJECTIONS)
def test_statements_run_through_sqlalchemy_give_what_the_model_returns(db: Engine, projection: str) -> None:
    """Anyone executing statement(q) with the call's arguments (e.g. for EXPLAIN) runs exactly the model's read."""
    with BalanceModel(db, projection=projection) as model:
        first = model.create(1, 1, "0xaaa", Decimal("1.25"))
        model.create(1, 2, "0xbbb", Decimal("3"))
        model.create(2, 1, "0xaaa", Decimal("0.000000000000000001"))
        for query, params in one_call_each(first.id).items():
            expected = read_directly(db, query, projection, params)
            assert strict(model.read(query, **params)) == strict(expected), query


def test_get_by_user_pages_are_disjoint_and_newest_first(plain: BalanceModel, db: Engine) -> None:
    """Pages of get_by_user cover every balance once, newest created first, ties broken by id."""
    created = [plain.create(1, 1 + i % 3, f"0x{i}", i) for i in range(7)]
    with db.begin() as conn:  # two rows with the same created_at: the id decides
        conn.execute(text("UPDATE balances SET created_at = now() - interval '1 day' WHERE id IN (:a, :b)"),
                     {"a": created[2].id, "b": created[3].id})
    pages = [plain.get_by_user(1, limit=3, offset=o) for o in (0, 3, 6)]
    seen = [b.id for page in pages for b in page]
    assert sorted(seen) == sorted(b.id for b in created)
    keys = [(b.created_at, b.id) for page in pages for b in page]
    assert keys == sorted(keys, reverse=True)
    # the tie, oldest of all: the higher id first, across the page boundary
    assert (pages[1][-1].id, pages[2][0].id) == (created[3].id, created[2].id)


@pytest.mark.parametrize("query", queries.EXPERIMENT_READS)
def test_experiment_reads_are_built_like_the_guides_reads(query: str) -> None:
    """The keyset and anti-pattern reads are list reads in both projections, built once, outside the guide's eight."""
    assert query in queries.ALL_READS and query not in queries.READ_QUERIES and query in queries.LIST_QUERIES
    for projection in queries.PROJECTIONS:
        assert queries.statement(query, projection) is queries.statement(query, projection)
    expected = {"get_by_user_keyset": {"user_id", "limit", "after_created_at", "after_id"},
                "find_by_auto_convert_threshold": {"auto_convert_threshold"}}[query]
    assert set(queries.statement(query).compile().params) == expected


def test_the_anti_pattern_read_is_the_guides_bare_filter() -> None:
    """where("auto_convert_threshold", value) as the guide writes it: one equality, no ORDER BY, no LIMIT."""
    sql = queries.sql("find_by_auto_convert_threshold")
    assert "balances.auto_convert_threshold = %(auto_convert_threshold)s" in sql
    assert "ORDER BY" not in sql and "LIMIT" not in sql


# --- an oracle that shares no SQL with the model: SELECT * and Python ---------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=UTC)
# (id, user, token, address, amount, usd_value, auto_convert_threshold, created_at): inserted out of id order,
# with a duplicate (user, token) pair (its lowest id stored last), created_at ties across page boundaries
# (tied rows stored in ascending id order, the opposite of the page order), a shared address, zero values.
ORACLE_ROWS = [
    (2, 1, 2, "0xbbb", "0", "0", "0", T0 + timedelta(days=1)),  # ties with 3 and 5
    (3, 1, 1, "0xccc", "2", "3668.246913578024691356", None, T0 + timedelta(days=1)),  # user 1 / token 1 again
    (8, 1, 1, "0xaaa", "0.000000000000000001", "0.000000000000000002", None, T0 + timedelta(days=4)),
    (5, 1, 3, "0xddd", "3.5", "3.500000000000000001", None, T0 + timedelta(days=1)),
    (1, 1, 1, "0xaaa", "1.25", "2292.654320986265432098", "10", T0),
    (7, 1, 2, "0xfff", "7", "6.999999999999999993", None, T0 - timedelta(days=1)),
    (4, 2, 1, "0xaaa", "1", "1834.123456789012345678", None, T0 + timedelta(days=2)),  # 0xaaa again
    (6, 2, 2, "0xeee", "0", "0", None, T0 + timedelta(days=2)),  # ties with 4
    (9, 3, 3, "0x999", "0", "0", None, T0 + timedelta(days=3)),  # user 3's only balance is worth 0
]
NO_BALANCES_USER = 4


@pytest.fixture()
def oracle_db(db: Engine) -> Engine:
    """Users 1-4 (4 without balances), tokens 1-3, and ORACLE_ROWS, written with plain SQL."""
    url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO users (id, email, name) VALUES (%s, %s, %s)",
                     (NO_BALANCES_USER, "nobody@example.com", "No Balances"))
        for row in ORACLE_ROWS:
            conn.execute(
                "INSERT INTO balances (id, user_id, token_id, address, amount, usd_value, auto_convert_threshold,"
                " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (*row[:4], *(None if v is None else Decimal(v) for v in row[4:7]), row[7], row[7] + timedelta(hours=1)))
    return db


def select_star(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of balances, users and tokens, by a plain ``SELECT *`` each (no WHERE, no ORDER BY, no join)."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {table: conn.execute(f"SELECT * FROM {table}").fetchall() for table in ("balances", "users", "tokens")}


def oracle(query: str, projection: str, params: dict[str, Any], tables: dict[str, list[dict[str, Any]]]) -> Any:
    """What ``query`` must return, computed in Python from the raw rows: filter, sort, slice, sum, join."""
    users = {u["id"]: u for u in tables["users"]}
    tokens = {t["id"]: t for t in tables["tokens"]}

    def record(row: dict[str, Any]) -> Balance:
        own = [row[f.name] for f in dataclasses.fields(Balance)]
        if projection in ("optimized", "explicit_joined"):  # the joins are to the row's own keys: no row gained or lost
            return Balance(*own)
        user, token = users[row["user_id"]], tokens[row["token_id"]]
        return LegacyBalance(*own, user["email"], token["symbol"], token["name"], token["decimals"], token["price_usd"])

    rows = tables["balances"]
    by_id = sorted(rows, key=lambda r: r["id"])
    if query == "find_by_id":
        return next((record(r) for r in rows if r["id"] == params["id"]), None)
    if query == "find_by_user_id":
        return [record(r) for r in by_id if r["user_id"] == params["user_id"]]
    if query == "find_by_user_id_and_token_id":
        return next((record(r) for r in by_id
                     if (r["user_id"], r["token_id"]) == (params["user_id"], params["token_id"])), None)
    if query == "get_by_user":
        newest = sorted((r for r in rows if r["user_id"] == params["user_id"]),
                        key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return [record(r) for r in newest[params["offset"]:params["offset"] + params["limit"]]]
    if query == "total_balance_by_user":
        return sum((r["usd_value"] for r in rows if r["user_id"] == params["user_id"]), Decimal(0))
    if query == "total_balance":
        return sum((r["usd_value"] for r in rows), Decimal(0))
    if query == "find_by_address":
        return [record(r) for r in by_id if r["address"] == params["address"]]
    if query == "find_by_token_id":
        return [record(r) for r in by_id if r["token_id"] == params["token_id"]]
    raise AssertionError(f"no oracle for {query}: add one")


def oracle_calls(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Every read with arguments that hit, miss, tie, page past the end and sum to zero."""
    ids = [r["id"] for r in tables["balances"]]
    user_ids = [*sorted({u["id"] for u in tables["users"]}), 99]
    token_ids = [*sorted({t["id"] for t in tables["tokens"]}), 99]
    pages = [(20, 0), (3, 0), (3, 3), (3, 6), (2, 1), (1, 2), (5, 100), (0, 0)]
    return {
        "find_by_id": [{"id": i} for i in [*ids, max(ids) + 1, 0]],
        "find_by_user_id": [{"user_id": u} for u in user_ids],
        "find_by_user_id_and_token_id": [{"user_id": u, "token_id": t} for u in user_ids for t in token_ids],
        "get_by_user": [{"user_id": u, "limit": limit, "offset": offset} for u in user_ids for limit, offset in pages],
        "total_balance_by_user": [{"user_id": u} for u in user_ids],
        "total_balance": [{}],
        "find_by_address": [{"address": a} for a in [*sorted({r["address"] for r in tables["balances"]}), "0xnone"]],
        "find_by_token_id": [{"token_id": t} for t in token_ids],
    }


@pytest.mark.parametrize("projection", queries.PROJECTIONS)
def test_every_read_matches_an_oracle_without_the_models_sql(oracle_db: Engine, cache: BalanceCache,
                                                             projection: str) -> None:
    """Each read, uncached and cached (miss, then hit), returns what Python computes from SELECT * rows."""
    tables = select_star(oracle_db)
    calls = oracle_calls(tables)
    assert set(calls) == set(queries.READ_QUERIES)
    with BalanceModel(oracle_db, projection=projection) as plain, \
            BalanceModel(oracle_db, cache, projection=projection) as cached:
        for query in queries.READ_QUERIES:
            for params in calls[query]:
                expected = strict(oracle(query, projection, params, tables))
                assert strict(plain.read(query, **params)) == expected, (query, params)
                assert strict(cached.read(query, **params)) == expected, ("miss", query, params)
                assert strict(cached.read(query, **params)) == expected, ("hit", query, params)
    assert sum(s.hits for s in cache.stats().values()) > 0


def test_the_oracle_data_holds_the_edge_cases(oracle_db: Engine) -> None:
    """The rows really contain what the oracle test relies on, so it cannot pass for lack of a hard case."""
    tables = select_star(oracle_db)
    rows = tables["balances"]
    pairs = [(r["user_id"], r["token_id"]) for r in rows]
    assert len(pairs) > len(set(pairs))  # a duplicate (user, token) pair
    user1 = [r for r in rows if r["user_id"] == 1]
    assert len(user1) > len({r["created_at"] for r in user1})  # created_at ties for get_by_user
    assert [r["id"] for r in rows] != sorted(r["id"] for r in rows)  # stored out of id order
    assert len({r["address"] for r in rows}) < len(rows)  # a shared address
    totals = {u["id"]: oracle("total_balance_by_user", "optimized", {"user_id": u["id"]}, tables)
              for u in tables["users"]}
    assert str(totals[3]) == "0E-18" and str(totals[NO_BALANCES_USER]) == "0"  # zero from zero rows and from none
    newest_of_1 = oracle("get_by_user", "optimized", {"user_id": 1, "limit": 3, "offset": 0}, tables)
    assert newest_of_1[-1].created_at == oracle("get_by_user", "optimized",
                                                {"user_id": 1, "limit": 3, "offset": 3}, tables)[0].created_at
