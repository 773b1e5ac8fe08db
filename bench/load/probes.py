"""PostgreSQL's and Redis's own view of a load step: counters read before and after the window, and their deltas.

``pg_stat_database`` is per database, and each run's copy of the dataset is
private, so its deltas are this run's traffic (plus a few probe queries).
Backends publish these counters at most about once a second (PostgreSQL 15+),
so a delta may miss up to a second at either edge of a window; in steady load
the two edges cancel, and per-second rates stay unbiased. ``pg_stat_statements``
is exact per call but needs the library preloaded
(``shared_preload_libraries = 'pg_stat_statements'``); ``statements_unavailable``
says why when it cannot be read. Redis ``INFO`` counters are server-wide: on a
shared Redis they include other clients' commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
import redis

__all__ = ["PG_COUNTERS", "REDIS_COUNTERS", "database_counters", "statement_counters", "statements_unavailable",
           "redis_counters", "deltas", "statement_deltas"]

PG_COUNTERS: tuple[str, ...] = ("xact_commit", "xact_rollback", "blks_read", "blks_hit", "tup_returned",
                                "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted")
REDIS_COUNTERS: tuple[str, ...] = ("total_commands_processed", "keyspace_hits", "keyspace_misses")
_PROBE_MARK = "/* balance-bench probe */"


def database_counters(conn: psycopg.Connection[Any], database: str) -> dict[str, int]:
    """``pg_stat_database``'s counters for ``database`` as they stand now (a fresh stats snapshot)."""
    conn.execute(f"{_PROBE_MARK} SELECT pg_stat_clear_snapshot()")
    row = conn.execute(f"{_PROBE_MARK} SELECT {', '.join(PG_COUNTERS)} FROM pg_stat_database WHERE datname = %s",
                       (database,)).fetchone()
    if row is None:
        raise LookupError(f"no pg_stat_database row for {database!r}")
    return {name: int(value or 0) for name, value in zip(PG_COUNTERS, row, strict=True)}


def statements_unavailable(conn: psycopg.Connection[Any]) -> str | None:
    """None when ``pg_stat_statements`` can be read in this (our own) database, else why not.

    Creates the extension in the connected database if it is missing: only ever
    called on the run's private copies.
    """
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
    except psycopg.Error as exc:
        reason = (exc.diag.message_primary or str(exc)).strip()
        return f"pg_stat_statements unavailable: {reason}"
    return None


def statement_counters(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """Per statement of the connected database (by queryid): its text, calls and total execution time (ms)."""
    rows = conn.execute(
        f"{_PROBE_MARK} SELECT queryid::text, query, calls, total_exec_time FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND query NOT LIKE %s",
        (f"%{_PROBE_MARK}%",),
    ).fetchall()
    found: dict[str, dict[str, Any]] = {}
    for queryid, query, calls, total in rows:
        entry = found.setdefault(queryid, {"query": query, "calls": 0, "total_ms": 0.0})
        entry["calls"] += int(calls)
        entry["total_ms"] += float(total)
    return found


def redis_counters(client: redis.Redis) -> dict[str, int]:
    """Redis ``INFO stats`` counters: commands processed, keyspace hits and misses."""
    info = client.info("stats")
    return {name: int(info.get(name, 0)) for name in REDIS_COUNTERS}


def deltas(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """``after - before`` for every counter in ``before``."""
    return {name: int(after[name]) - int(before[name]) for name in before}


def statement_deltas(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]],
                     seconds: float) -> list[dict[str, Any]]:
    """Statements called in the window: calls, calls per second and mean execution time, busiest first."""
    rows = []
    for queryid, now in after.items():
        then = before.get(queryid, {"calls": 0, "total_ms": 0.0})
        calls = int(now["calls"]) - int(then["calls"])
        if calls <= 0:
            continue
        total_ms = float(now["total_ms"]) - float(then["total_ms"])
        rows.append({"query": " ".join(str(now["query"]).split())[:300], "calls": calls,
                     "calls_per_s": calls / seconds if seconds > 0 else 0.0, "mean_ms": total_ms / calls})
    return sorted(rows, key=lambda r: (-r["calls"], r["query"]))
