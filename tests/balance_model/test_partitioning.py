"""Partitioning converts the empty baseline balances into 8 hash partitions that keep its keys, checks and sequence."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import Engine, text

from balance_bench.fixtures import migrate
from balance_bench.fixtures.services import psycopg_dsn
from balance_model.model import BalanceModel
from balance_model.partitioning import PARTITION_NAME, partition_balances, partition_count, partition_name

from .conftest import seed_users_and_tokens

pytestmark = pytest.mark.services


def _connect(engine: Engine) -> psycopg.Connection:
    return psycopg.connect(psycopg_dsn(engine.url.render_as_string(hide_password=False)), autocommit=True)


def _constraints(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return {(r[0], r[1]) for r in conn.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'balances'::regclass"))}


def test_partitioning_keeps_the_baseline_constraints_and_widens_the_key(schema_db: Engine) -> None:
    """Same foreign keys and checks, primary key (id, user_id), 8 partitions named balances_p0..7."""
    before = _constraints(schema_db)
    with _connect(schema_db) as conn:
        partition_balances(conn, 8)
        assert partition_count(conn) == 8
    after = _constraints(schema_db)
    assert ("balances_pkey", "PRIMARY KEY (id)") in before
    assert after - before == {("balances_pkey", "PRIMARY KEY (id, user_id)")}
    assert before - after == {("balances_pkey", "PRIMARY KEY (id)")}
    with schema_db.connect() as conn:
        names = conn.execute(text("SELECT inhrelid::regclass::text FROM pg_inherits"
                                  " WHERE inhparent = 'balances'::regclass ORDER BY 1")).scalars().all()
        owner = conn.execute(text("SELECT pg_get_serial_sequence('balances', 'id')")).scalar()
    assert names == [partition_name(i) for i in range(8)] and all(PARTITION_NAME.match(n) for n in names)
    assert owner == "public.balances_id_seq"


def test_the_model_writes_and_reads_a_partitioned_table(schema_db: Engine) -> None:
    """Rows go to the partition of their user; the ids still come from the one sequence; 012 applies on top."""
    with _connect(schema_db) as conn:
        partition_balances(conn, 8)
    migrate.upgrade(schema_db, migrate.HEAD)
    seed_users_and_tokens(schema_db)
    with BalanceModel(schema_db) as model:
        made = [model.create(u, 1, "0xabc", Decimal(u)) for u in (1, 2, 3)]
        assert [b.id for b in made] == [1, 2, 3]
        assert model.find_by_user_id(2) == [made[1]]
        assert model.total_balance() == sum(b.usd_value for b in made)
    with schema_db.connect() as conn:
        homes = conn.execute(text("SELECT user_id, tableoid::regclass::text FROM balances")).all()
        indexed = conn.execute(text("SELECT count(*) FROM pg_inherits"
                                    " WHERE inhparent = 'idx_balances_user_created'::regclass")).scalar()
    assert all(PARTITION_NAME.match(table) for _, table in homes) and indexed == 8


def test_only_an_empty_table_with_two_or_more_partitions_is_converted(schema_db: Engine) -> None:
    """A table with rows, or a single partition, is refused and left as it was."""
    seed_users_and_tokens(schema_db)
    with BalanceModel(schema_db) as model:
        model.create(1, 1, "0xabc", 1)
    with _connect(schema_db) as conn:
        with pytest.raises(ValueError, match="at least 2"):
            partition_balances(conn, 1)
        with pytest.raises(ValueError, match="has rows"):
            partition_balances(conn, 8)
        assert partition_count(conn) == 0
