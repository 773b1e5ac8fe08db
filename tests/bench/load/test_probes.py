"""Counter deltas: PostgreSQL's and Redis's view of a window, and pg_stat_statements per statement (real or not)."""

from __future__ import annotations

import time

import pytest
import redis
from sqlalchemy import Engine

from balance_bench.bench.load.probes import (
    PG_COUNTERS,
    database_counters,
    deltas,
    redis_counters,
    statement_deltas,
    statements_unavailable,
)
from balance_bench.fixtures.services import connect_postgres


def test_deltas_subtract_counter_by_counter() -> None:
    """after - before for every counter read before the window."""
    assert deltas({"xact_commit": 10, "blks_hit": 5}, {"xact_commit": 25, "blks_hit": 5, "other": 1}) == \
        {"xact_commit": 15, "blks_hit": 0}


def test_statement_deltas_rank_by_calls_and_skip_idle_statements() -> None:
    """Calls and mean time over the window only; statements not called in it are left out; new ones count fully."""
    before = {"1": {"query": "SELECT a", "calls": 10, "total_ms": 5.0},
              "2": {"query": "SELECT b", "calls": 4, "total_ms": 4.0}}
    after = {"1": {"query": "SELECT a", "calls": 110, "total_ms": 55.0},
             "2": {"query": "SELECT b", "calls": 4, "total_ms": 4.0},
             "3": {"query": "UPDATE   c\n SET x", "calls": 20, "total_ms": 40.0}}
    rows = statement_deltas(before, after, seconds=10.0)
    assert rows == [{"query": "SELECT a", "calls": 100, "calls_per_s": 10.0, "mean_ms": 0.5},
                    {"query": "UPDATE c SET x", "calls": 20, "calls_per_s": 2.0, "mean_ms": 2.0}]


@pytest.mark.services
def test_live_counters_move_with_traffic(empty_db: Engine, redis_client: redis.Redis) -> None:
    """Transactions on the database raise its xact_commit (eventually: published about once a second); Redis
    commands raise total_commands_processed; pg_stat_statements is either readable or explained."""
    url = empty_db.url.render_as_string(hide_password=False)
    name = str(empty_db.url.database)
    with connect_postgres(url) as conn:
        before = database_counters(conn, name)
        assert set(before) == set(PG_COUNTERS)
        with connect_postgres(url) as other:
            for _ in range(20):
                other.execute("SELECT 1")
        deadline = time.monotonic() + 15  # a backend publishes its counters within about a second, and on exit
        while deltas(before, database_counters(conn, name))["xact_commit"] < 20:
            assert time.monotonic() < deadline, "xact_commit did not move with 20 transactions"
            time.sleep(0.2)
        note = statements_unavailable(conn)
        assert note is None or "pg_stat_statements" in note
    redis_before = redis_counters(redis_client)
    redis_client.ping()
    assert deltas(redis_before, redis_counters(redis_client))["total_commands_processed"] >= 1
