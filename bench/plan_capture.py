"""Capture EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) of exactly the SQL the model ran.

The statement and its parameters are recorded at the psycopg cursor as the
model executes them, on a separate *recording engine* whose connections use a
recording cursor class: the timed engine stays untouched, and the plan is of
the real query and parameters, never a retyped one. The EXPLAIN runs outside
any timed section, in a transaction that is rolled back, so a write's ANALYZE
leaves no trace.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, text

from balance_bench.coordinates import Coordinates, Kind
from balance_bench.errors import BenchError
from balance_bench.fixtures.services import psycopg_dsn
from balance_bench.results import plan_document, plan_file

__all__ = ["PLANNER_SETTINGS", "Recorded", "recording_engine", "record_statements", "explain_operation",
           "capture_plan", "explain", "planner_settings"]

PLANNER_SETTINGS = ("work_mem", "random_page_cost", "seq_page_cost", "effective_cache_size", "shared_buffers",
                    "jit", "max_parallel_workers_per_gather", "effective_io_concurrency")
_VERBS = {Kind.READ: ("SELECT", "WITH"), Kind.WRITE: ("INSERT", "UPDATE", "DELETE", "WITH")}
_SINK: contextvars.ContextVar[list[tuple[str, Any]] | None] = contextvars.ContextVar("balance_bench_sink",
                                                                                     default=None)


@dataclass
class Recorded:
    """Statements sent to the server while recording, in order."""

    statements: list[tuple[str, Any]] = field(default_factory=list)

    def main(self, kind: Kind) -> tuple[str, Any]:
        """The statement that does the case's work: the last read, or the last data-changing statement."""
        verbs = _VERBS[kind]
        for statement, params in reversed(self.statements):
            if statement.lstrip().upper().startswith(verbs):
                return statement, params
        raise BenchError(f"the model ran no {'/'.join(verbs)} statement to explain")


class _RecordingCursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        sink = _SINK.get()
        if sink is not None:
            sql = query if isinstance(query, str) else query.as_string(self.connection)
            sink.append((sql, params))
        return super().execute(query, params, **kwargs)


def recording_engine(url: str) -> Engine:
    """An engine whose connections record every statement executed inside ``record_statements``."""
    engine = create_engine(url, pool_size=2)

    def on_connect(dbapi_connection: psycopg.Connection, record: Any) -> None:
        dbapi_connection.cursor_factory = _RecordingCursor

    event.listen(engine, "connect", on_connect)
    return engine


@contextmanager
def record_statements() -> Iterator[Recorded]:
    """Record what recording engines send to the server inside the block (this thread/context only)."""
    recorded = Recorded()
    token = _SINK.set(recorded.statements)
    try:
        yield recorded
    finally:
        _SINK.reset(token)


def planner_settings(engine: Engine) -> dict[str, str]:
    """The settings that decide plans, and the server version, as the server reports them."""
    with engine.connect() as conn:
        values = {name: str(conn.execute(text(f"SHOW {name}")).scalar()) for name in PLANNER_SETTINGS}
        values["server_version"] = str(conn.execute(text("SHOW server_version")).scalar())
    return values


def explain(engine: Engine, statement: str, params: Any, options: str = "ANALYZE, BUFFERS, SETTINGS") -> Any:
    """EXPLAIN (``options``, FORMAT JSON) ``statement`` with ``params``, in a transaction rolled back after."""
    with psycopg.connect(psycopg_dsn(engine.url.render_as_string(hide_password=False))) as conn:
        try:
            row = conn.execute(f"EXPLAIN ({options}, FORMAT JSON) " + statement, params).fetchone()
            if row is None:
                raise BenchError("EXPLAIN returned no plan")
            plan = row[0]
        finally:
            conn.rollback()
    return json.loads(plan) if isinstance(plan, str) else plan


def explain_operation(engine: Engine, operation: Callable[[], Any], kind: Kind) -> tuple[str, Any, Any]:
    """Run ``operation`` once (untimed, on a recording engine) and EXPLAIN ANALYZE its main statement on ``engine``:
    ``(statement, params, plan)``, the plan as EXPLAIN's JSON."""
    with record_statements() as recorded:
        operation()
    statement, params = recorded.main(kind)
    return statement, params, explain(engine, statement, params)


def capture_plan(engine: Engine, operation: Callable[[], Any], kind: Kind, coords: Coordinates,
                 settings: dict[str, str], run_dir: Path) -> str:
    """Run ``operation`` once (untimed, on a recording engine), EXPLAIN ANALYZE its main statement, save it.

    Returns the plan file's path relative to ``run_dir``.
    """
    statement, params, plan = explain_operation(engine, operation, kind)
    relative = plan_file(coords)
    path = run_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan_document(coords, statement, params, settings, plan), encoding="utf-8")
    return relative
