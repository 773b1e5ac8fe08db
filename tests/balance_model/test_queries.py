"""The statements: stable names, both projections, parameters named after the arguments, one object each."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import Engine, text

from balance_model import queries
from balance_model.model import BalanceModel
from balance_model.records import Balance, LegacyBalance

from .conftest import READ_ARGS, one_call_each, read_directly, strict

pytestmark = pytest.mark.services

ALL = [(q, p) for q in queries.READ_QUERIES for p in queries.PROJECTIONS]


def test_read_names_and_projections_are_the_contract() -> None:
    """The eight reads in the agreed order and the two projections, by their stable names."""
    assert tuple(READ_ARGS) == queries.READ_QUERIES
    assert queries.PROJECTIONS == ("legacy", "optimized")


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
    """Projections do not apply to the sums: both names give the very same statement."""
    assert queries.statement(query, "legacy") is queries.statement(query, "optimized")


@pytest.mark.parametrize("query", sorted(set(queries.READ_QUERIES) - queries.SCALAR_QUERIES))
def test_legacy_selects_star_with_joins_and_optimized_lists_columns(query: str) -> None:
    """legacy is the guide's Before (balances.* + users.email + token columns), optimized its After."""
    legacy, optimized = queries.sql(query, "legacy"), queries.sql(query, "optimized")
    assert legacy.startswith("SELECT balances.*, users.email")
    assert "JOIN users" in legacy and "JOIN tokens" in legacy
    assert "*" not in optimized and "JOIN" not in optimized
    assert optimized.startswith("SELECT balances.id, balances.user_id, balances.token_id")


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
