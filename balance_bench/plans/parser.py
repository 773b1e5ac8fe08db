"""Read EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output, however it was saved, into a typed tree.

People hand us plans in several shapes: the one-element list psql prints, a
bare object, a paste of psql's aligned output (``QUERY PLAN`` header, ``----``
rule, ``+`` continuations, ``(1 row)`` footer), or the suite's own plan file
(``"format": "balance-bench-plan"``). All become one ``ExplainPlan``.

PostgreSQL 13-18 differ in what they print; the fields here take each spelling:

* I/O timing: ``I/O Read Time``/``I/O Write Time`` (13-16, shared and local
  blocks together), ``Temp I/O Read Time``/``Temp I/O Write Time`` (15+), and
  from 17 ``Shared I/O ...``/``Local I/O ...`` replace the unprefixed keys;
* 18 prints fractional ``Actual Rows`` (an average per loop, e.g. 0.50), adds
  ``Index Searches`` and ``Disabled``, and turns BUFFERS on by default.

Anything that is not a plan raises ``PlanError`` (and nothing else does): the
message names the source and what is wrong, on one line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balance_bench.errors import BenchError
from balance_bench.records import Fields, Kind, check_version, decode_json, read_text
from balance_bench.records import show as _show

__all__ = [
    "PlanError",
    "Buffers",
    "IoTiming",
    "PlanNode",
    "Trigger",
    "Jit",
    "PlanCase",
    "ExplainPlan",
    "WRAPPER_FORMAT",
    "WRAPPER_SCHEMA_VERSION",
    "MAX_DEPTH",
    "PLAN_FILE",
    "read_plan",
    "parse_plan",
    "plan_from_json",
]

WRAPPER_FORMAT = "balance-bench-plan"
WRAPPER_SCHEMA_VERSION = 1
MAX_DEPTH = 200
"""Deepest plan tree accepted: far beyond real plans, well within Python's recursion limit."""
PLAN_FILE = Kind(name="plan file", format=WRAPPER_FORMAT, readable=(WRAPPER_SCHEMA_VERSION,),
                 advice="re-capture the plan with this version of balance-bench", constants=False)
"""The suite's plan file as ``balance_bench.records`` reads it (its EXPLAIN output is this module's to check)."""


class PlanError(BenchError):
    """The input is not a usable EXPLAIN plan; the message says which input and why, on one line."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(" ".join(f"{source}: {problem}".split()))


@dataclass(frozen=True)
class Buffers:
    """Block counts as EXPLAIN prints them: inclusive of the node's children."""

    shared_hit: int = 0
    shared_read: int = 0
    shared_dirtied: int = 0
    shared_written: int = 0
    local_hit: int = 0
    local_read: int = 0
    local_dirtied: int = 0
    local_written: int = 0
    temp_read: int = 0
    temp_written: int = 0


@dataclass(frozen=True)
class IoTiming:
    """I/O time in ms (track_io_timing); before 17, ``shared_*`` holds shared and local blocks together."""

    shared_read_ms: float = 0.0
    shared_write_ms: float = 0.0
    local_read_ms: float = 0.0
    local_write_ms: float = 0.0
    temp_read_ms: float = 0.0
    temp_write_ms: float = 0.0


@dataclass(frozen=True)
class PlanNode:
    """One plan node. Actual times, rows and ``rows_removed_*`` are per-loop averages, as EXPLAIN prints them;
    ``heap_fetches`` and the heap block counts are totals over all loops. None means "not printed"."""

    node_type: str
    relation: str | None
    alias: str | None
    index: str | None
    cte_name: str | None
    parent_relationship: str | None
    subplan_name: str | None
    parallel_aware: bool
    join_type: str | None  # "Inner", "Left", "Semi" ... on joins
    strategy: str | None  # "Plain", "Sorted", "Hashed", "Mixed" on Aggregate and SetOp
    partial_mode: str | None  # "Simple", "Partial", "Finalize" on parallel aggregates
    scan_direction: str | None  # "Forward", "Backward", "NoMovement" on index scans
    operation: str | None  # "Insert", "Update", "Delete", "Merge" on ModifyTable
    plan_rows: float | None
    total_cost: float | None
    actual_startup_ms: float | None
    actual_total_ms: float | None
    actual_rows: float | None
    actual_loops: float | None
    rows_removed_by_filter: float | None
    rows_removed_by_join_filter: float | None
    rows_removed_by_index_recheck: float | None
    heap_fetches: float | None
    index_searches: float | None
    exact_heap_blocks: float | None
    lossy_heap_blocks: float | None
    sort_method: str | None
    sort_space_type: str | None
    sort_space_used_kb: float | None
    hash_batches: float | None
    hashagg_batches: float | None
    disk_usage_kb: float | None
    storage: str | None
    workers_planned: int | None
    workers_launched: int | None
    buffers: Buffers | None
    io: IoTiming | None
    texts: tuple[str, ...]
    """Every other text the node prints (conditions, keys, output): where InitPlan references show."""
    plans: tuple[PlanNode, ...]


@dataclass(frozen=True)
class Trigger:
    """A trigger's time, which EXPLAIN counts in Execution Time but in no plan node."""

    name: str
    relation: str | None
    time_ms: float | None
    calls: float | None


@dataclass(frozen=True)
class Jit:
    """JIT compilation summary; ``total_ms`` is part of execution time."""

    functions: float | None
    total_ms: float | None


@dataclass(frozen=True)
class PlanCase:
    """The benchmark case a plan file was captured for (the wrapper's ``case``)."""

    query: str | None = None
    cache: str | None = None
    migration: str | None = None
    scale: str | None = None
    projection: str | None = None
    param_kind: str | None = None
    experiment: str | None = None  # set for an experiment's case (with its variant), empty for the matrix's
    variant: str | None = None


@dataclass(frozen=True)
class ExplainPlan:
    """One EXPLAIN result: the tree, the summary times, and the suite's case when it came in a plan file."""

    source: str
    root: PlanNode
    planning_ms: float | None
    execution_ms: float | None
    triggers: tuple[Trigger, ...]
    jit: Jit | None
    case: PlanCase | None = None
    sql: str | None = None


def read_plan(path: Path) -> ExplainPlan:
    """Read and parse a plan file; an unreadable file is a PlanError too."""
    return parse_plan(read_text(path, error=PlanError), str(path))


def parse_plan(text: str, source: str = "<text>") -> ExplainPlan:
    """Parse JSON text or a psql aligned-output paste of it."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise PlanError(source, "empty: no EXPLAIN output in it")
    if stripped[0] not in "[{":
        stripped = _unwrap_psql(stripped, source)
    return plan_from_json(decode_json(stripped, source, constants=False, error=PlanError), source)


def plan_from_json(data: object, source: str = "<json>") -> ExplainPlan:
    """Build the tree from decoded JSON: EXPLAIN's list or object, or the suite's plan-file wrapper."""
    if isinstance(data, dict) and "format" in data:
        return _from_wrapper(data, source)
    return _from_explain(data, source, "", case=None, sql=None)


# --- text to JSON -------------------------------------------------------------------------------------------

_PSQL_HEADER = re.compile(r"^\s*QUERY PLAN\s*$")
_PSQL_RULE = re.compile(r"^[-+─┼]+$")
_PSQL_FOOTER = re.compile(r"^\(\d+ rows?\)$")
_TEXT_FORMAT_HINT = re.compile(r"\(cost=|\(actual |\brows=\d")


def _unwrap_psql(text: str, source: str) -> str:
    """Undo psql's aligned layout: header, rule, ``+`` continuation marks and the row-count footer."""
    lines = text.splitlines()
    header = next((number for number, line in enumerate(lines) if _PSQL_HEADER.match(line)), None)
    rule = lines[header + 1].strip() if header is not None and header + 1 < len(lines) else ""
    if header is None or not _PSQL_RULE.match(rule):
        if _TEXT_FORMAT_HINT.search(text):
            raise PlanError(
                source, "this is EXPLAIN's text format; capture with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"
            )
        raise PlanError(source, "neither JSON nor a psql paste of EXPLAIN (FORMAT JSON) output")
    body: list[str] = []
    for raw in lines[header + 2 :]:
        line = raw.rstrip()
        if _PSQL_FOOTER.match(line.strip()):
            break
        body.append(line[:-1] if line.endswith("+") else line)
    if not "".join(body).strip():
        raise PlanError(source, "psql paste with a QUERY PLAN header but no plan under it")
    return "\n".join(body)


# --- JSON to tree -------------------------------------------------------------------------------------------


def _from_wrapper(data: dict[str, object], source: str) -> ExplainPlan:
    """The suite's plan file: read as a record (``balance_bench.records``), the EXPLAIN output in it as above."""
    check_version(data, source, PLAN_FILE, error=PlanError)
    wrapper = Fields(data, source, error=PlanError)
    wrapper.require("plan")
    case = wrapper.optional_obj("case")
    return _from_explain(data["plan"], source, "plan", case=PlanCase() if case is None else case.build(PlanCase),
                         sql=wrapper.text("sql", optional=True))


def _from_explain(data: object, source: str, where: str, case: PlanCase | None, sql: str | None) -> ExplainPlan:
    if isinstance(data, list):
        if len(data) != 1:
            raise PlanError(
                source, f"{where or 'the JSON'} is a list of {len(data)} items, not EXPLAIN's one-plan list"
            )
        where = f"{where}[0]"
        data = data[0]
    if not isinstance(data, dict) or "Plan" not in data:
        raise PlanError(source, f'{where or "the JSON"} has no "Plan" object: not EXPLAIN (FORMAT JSON) output')
    prefix = f"{where}." if where else ""
    return ExplainPlan(
        source=source,
        root=_node(data["Plan"], source, f"{prefix}Plan", 1),
        planning_ms=_number(data, "Planning Time", source, prefix),
        execution_ms=_number(data, "Execution Time", source, prefix),
        triggers=_triggers(data, source, prefix),
        jit=_jit(data, source, prefix),
        case=case,
        sql=sql,
    )


# Keys that name or place a node rather than print an expression.
_IDENTITY_KEYS = frozenset(
    {"Node Type", "Parent Relationship", "Subplan Name", "Relation Name", "Alias", "Schema", "Index Name", "CTE Name"}
)


def _node(data: object, source: str, where: str, depth: int) -> PlanNode:
    if not isinstance(data, dict):
        raise PlanError(source, f"{where} is {_show(data)}, not a plan node object")
    if depth > MAX_DEPTH:
        raise PlanError(source, f"{where}: plan nested deeper than {MAX_DEPTH} levels")
    node_type = _text(data, "Node Type", source, f"{where}.")
    if not node_type:
        raise PlanError(source, f'{where} has no "Node Type": not a plan node')
    children = data.get("Plans", [])
    if not isinstance(children, list):
        raise PlanError(source, f'{where}."Plans" is {_show(children)}, not a list')
    plans: list[PlanNode] = []
    for position, child in enumerate(children):
        plans.append(_node(child, source, f"{where}.Plans[{position}]", depth + 1))
    at = f"{where}."
    parallel_aware = data.get("Parallel Aware", False)
    if not isinstance(parallel_aware, bool):
        raise PlanError(source, f'{at}"Parallel Aware" is {_show(parallel_aware)}, not true or false')
    return PlanNode(
        node_type=node_type,
        relation=_text(data, "Relation Name", source, at),
        alias=_text(data, "Alias", source, at),
        index=_text(data, "Index Name", source, at),
        cte_name=_text(data, "CTE Name", source, at),
        parent_relationship=_text(data, "Parent Relationship", source, at),
        subplan_name=_text(data, "Subplan Name", source, at),
        parallel_aware=parallel_aware,
        join_type=_text(data, "Join Type", source, at),
        strategy=_text(data, "Strategy", source, at),
        partial_mode=_text(data, "Partial Mode", source, at),
        scan_direction=_text(data, "Scan Direction", source, at),
        operation=_text(data, "Operation", source, at),
        plan_rows=_number(data, "Plan Rows", source, at),
        total_cost=_number(data, "Total Cost", source, at),
        actual_startup_ms=_number(data, "Actual Startup Time", source, at),
        actual_total_ms=_number(data, "Actual Total Time", source, at),
        actual_rows=_number(data, "Actual Rows", source, at),
        actual_loops=_number(data, "Actual Loops", source, at),
        rows_removed_by_filter=_number(data, "Rows Removed by Filter", source, at),
        rows_removed_by_join_filter=_number(data, "Rows Removed by Join Filter", source, at),
        rows_removed_by_index_recheck=_number(data, "Rows Removed by Index Recheck", source, at),
        heap_fetches=_number(data, "Heap Fetches", source, at),
        index_searches=_number(data, "Index Searches", source, at),
        exact_heap_blocks=_number(data, "Exact Heap Blocks", source, at),
        lossy_heap_blocks=_number(data, "Lossy Heap Blocks", source, at),
        sort_method=_text(data, "Sort Method", source, at),
        sort_space_type=_text(data, "Sort Space Type", source, at),
        sort_space_used_kb=_number(data, "Sort Space Used", source, at),
        hash_batches=_number(data, "Hash Batches", source, at),
        hashagg_batches=_number(data, "HashAgg Batches", source, at),
        disk_usage_kb=_number(data, "Disk Usage", source, at),
        storage=_text(data, "Storage", source, at),
        workers_planned=_count(data, "Workers Planned", source, at),
        workers_launched=_count(data, "Workers Launched", source, at),
        buffers=_buffers(data, source, at),
        io=_io_timing(data, source, at),
        texts=_texts(data),
        plans=tuple(plans),
    )


_BUFFER_KEYS: Mapping[str, str] = {
    "shared_hit": "Shared Hit Blocks",
    "shared_read": "Shared Read Blocks",
    "shared_dirtied": "Shared Dirtied Blocks",
    "shared_written": "Shared Written Blocks",
    "local_hit": "Local Hit Blocks",
    "local_read": "Local Read Blocks",
    "local_dirtied": "Local Dirtied Blocks",
    "local_written": "Local Written Blocks",
    "temp_read": "Temp Read Blocks",
    "temp_written": "Temp Written Blocks",
}

# Each field's spellings, newest first: 17 split "I/O Read Time" into shared and local.
_IO_KEYS: Mapping[str, tuple[str, ...]] = {
    "shared_read_ms": ("Shared I/O Read Time", "I/O Read Time"),
    "shared_write_ms": ("Shared I/O Write Time", "I/O Write Time"),
    "local_read_ms": ("Local I/O Read Time",),
    "local_write_ms": ("Local I/O Write Time",),
    "temp_read_ms": ("Temp I/O Read Time",),
    "temp_write_ms": ("Temp I/O Write Time",),
}


def _buffers(data: dict[str, object], source: str, at: str) -> Buffers | None:
    if not any(key in data for key in _BUFFER_KEYS.values()):
        return None
    return Buffers(**{field: _count(data, key, source, at) or 0 for field, key in _BUFFER_KEYS.items()})


def _io_timing(data: dict[str, object], source: str, at: str) -> IoTiming | None:
    if not any(key in data for keys in _IO_KEYS.values() for key in keys):
        return None
    values: dict[str, float] = {}
    for field, keys in _IO_KEYS.items():
        found = [value for key in keys if (value := _number(data, key, source, at)) is not None]
        values[field] = found[0] if found else 0.0
    return IoTiming(**values)


def _texts(data: dict[str, object]) -> tuple[str, ...]:
    texts: list[str] = []
    for key, value in data.items():
        if key in _IDENTITY_KEYS:
            continue
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(item for item in value if isinstance(item, str))
    return tuple(texts)


def _triggers(data: dict[str, object], source: str, prefix: str) -> tuple[Trigger, ...]:
    items = data.get("Triggers", [])
    if not isinstance(items, list):
        raise PlanError(source, f'{prefix}"Triggers" is {_show(items)}, not a list')
    triggers: list[Trigger] = []
    for position, item in enumerate(items):
        at = f"{prefix}Triggers[{position}]."
        if not isinstance(item, dict):
            raise PlanError(source, f"{at[:-1]} is {_show(item)}, not an object")
        triggers.append(
            Trigger(
                name=_text(item, "Trigger Name", source, at) or "",
                relation=_text(item, "Relation", source, at),
                time_ms=_number(item, "Time", source, at),
                calls=_number(item, "Calls", source, at),
            )
        )
    return tuple(triggers)


def _jit(data: dict[str, object], source: str, prefix: str) -> Jit | None:
    jit = data.get("JIT")
    if jit is None:
        return None
    if not isinstance(jit, dict):
        raise PlanError(source, f'{prefix}"JIT" is {_show(jit)}, not an object')
    timing = jit.get("Timing")
    if timing is not None and not isinstance(timing, dict):
        raise PlanError(source, f'{prefix}JIT."Timing" is {_show(timing)}, not an object')
    total = _number(timing, "Total", source, f"{prefix}JIT.Timing.") if timing is not None else None
    return Jit(functions=_number(jit, "Functions", source, f"{prefix}JIT."), total_ms=total)


# --- typed field access -------------------------------------------------------------------------------------


def _text(data: Mapping[str, object], key: str, source: str, at: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise PlanError(source, f'{at}"{key}" is {_show(value)}, not text')


def _number(data: Mapping[str, object], key: str, source: str, at: str) -> float | None:
    """A finite, non-negative number, or None when the key is absent (EXPLAIN never prints negatives)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(source, f'{at}"{key}" is {_show(value)}, not a number')
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or number < 0:
        raise PlanError(source, f'{at}"{key}" is {_show(value)}, out of range for a plan')
    return number


def _count(data: Mapping[str, object], key: str, source: str, at: str) -> int | None:
    number = _number(data, key, source, at)
    if number is None:
        return None
    if not number.is_integer():
        raise PlanError(source, f'{at}"{key}" is {_show(data.get(key))}, not a whole number')
    return int(number)
