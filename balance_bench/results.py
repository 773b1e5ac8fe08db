"""The run artifact contract: directory layout, plan files, and ``summary.json`` as typed, versioned records.

A run directory holds what the benchmark stage writes (``benchmarks.json``,
pytest-benchmark's own JSON with every raw timing and the environment, and
``plans/<case>.json``) and what the summarise stage derives from it
(``summary.json``), which the report and notebooks read. Both writers and
readers take every name and format from here.

``summary.json`` versions: 4 (version 3 plus each plan's counters: its
signature, shared and temp blocks, rows returned) is written; 3 (version 2 plus
the experiments that ran: their figures with intervals and their conclusions)
is read as a run without plan counters; 2 (trials, per-trial medians,
intervals, plan facts) as a run without experiments either; 1 (one block of
rounds per case) is still read, as a run of one trial, so an older baseline can
be compared; anything else is refused with a message saying what to do. Each
case's traffic per call is optional from version 2 (runs made before it was
counted have none). A case's *counters* are its plan's counters and its traffic.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from balance_bench.coordinates import Coordinates
from balance_bench.errors import BenchError, redact
from balance_bench.statistics import CONFIDENCE, METHOD, Estimate, TimingStats, geometric_estimate

__all__ = [
    "SCHEMA_VERSION",
    "READABLE_VERSIONS",
    "COUNTERS_VERSION",
    "SUMMARY_FILE",
    "BENCHMARKS_FILE",
    "top_up_file",
    "top_up_files",
    "TopUpRecord",
    "PLANS_DIR",
    "REPORT_FILE",
    "VERDICTS_FILE",
    "VERDICTS_MD_FILE",
    "GATE_FILE",
    "GATE_MD_FILE",
    "PLAN_FORMAT",
    "PLAN_SCHEMA_VERSION",
    "plan_file",
    "plan_document",
    "PlanNodeRow",
    "FindingFact",
    "PlanCounters",
    "PlanFacts",
    "Overhead",
    "ServerTraffic",
    "Traffic",
    "CaseResult",
    "VariantInfo",
    "ExperimentResult",
    "traffic_record",
    "ORDER_BLOCKS",
    "Design",
    "Summary",
    "read_summary",
    "write_summary",
    "new_run_dir",
]

SCHEMA_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
COUNTERS_VERSION = 4
"""The first summary version whose plans carry their counters (``PlanCounters``)."""
SUMMARY_FILE = "summary.json"
BENCHMARKS_FILE = "benchmarks.json"
PLANS_DIR = "plans"
_TOP_UP_PREFIX = "benchmarks-top-up-"
REPORT_FILE = "report.html"
VERDICTS_FILE = "verdicts.json"
"""Every claim verdict of the run, machine-readable (schema: reports/schemas/verdicts.schema.json)."""
VERDICTS_MD_FILE = "verdicts.md"
"""The headline table in GitHub-flavoured Markdown, for a CI job summary or a pull-request comment."""
GATE_FILE = "gate.json"
GATE_MD_FILE = "gate.md"
"""What ``report --baseline --fail-on-regression`` decided, as JSON and as Markdown."""
ORDER_BLOCKS = "comparison blocks"
"""A trial's order since the states of one question run back to back (``Design.order``)."""

PLAN_FORMAT = "balance-bench-plan"
PLAN_SCHEMA_VERSION = 1
"""A plan file: ``{"format", "schema_version", "case", "sql", "params", "settings", "plan"}``."""

_STATS = ("min_ms", "median_ms", "mean_ms", "p95_ms", "p99_ms", "stddev_ms", "iqr_ms", "max_ms")


def top_up_file(number: int) -> str:
    """The pytest-benchmark file of a run's ``number``-th top-up session (1-based), beside ``BENCHMARKS_FILE``."""
    return f"{_TOP_UP_PREFIX}{number}.json"


def top_up_files(run_dir: Path) -> list[Path]:
    """The run's top-up files, in the order they were written."""
    numbered = {}
    for path in run_dir.glob(f"{_TOP_UP_PREFIX}*.json"):
        number = path.name.removeprefix(_TOP_UP_PREFIX).removesuffix(".json")
        if number.isdigit():
            numbered[int(number)] = path
    return [numbered[n] for n in sorted(numbered)]


# --- plan files -----------------------------------------------------------------------------------------------


def plan_file(coords: Coordinates) -> str:
    """The plan file of a case, relative to the run directory (any character unsafe in a file name as ``_``)."""
    return f"{PLANS_DIR}/{re.sub(r'[^A-Za-z0-9_.-]', '_', coords.id)}.json"


def plan_document(coords: Coordinates, sql: str, params: Any, settings: Mapping[str, str], plan: Any) -> str:
    """A plan file's text: EXPLAIN's JSON with the case, the exact SQL and parameters, and the planner settings."""
    doc = {"format": PLAN_FORMAT, "schema_version": PLAN_SCHEMA_VERSION, "case": coords.as_dict(), "sql": sql,
           "params": params, "settings": dict(settings), "plan": plan}
    return redact(json.dumps(doc, indent=1, default=str))


# --- records --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanNodeRow:
    """One plan node as the report shows it (from the analyser, computed once by the summarise stage)."""

    label: str
    depth: int
    subplan_name: str | None
    exclusive_ms: float | None
    actual_rows: float | None
    plan_rows: float | None
    loops: float | None
    shared_hit: int | None
    shared_read: int | None


@dataclass(frozen=True)
class FindingFact:
    """A finding of the plan analyser: a stable code, the node it is about, and its message."""

    code: str
    node: str | None
    message: str


@dataclass(frozen=True)
class PlanCounters:
    """What a case's plan did, counted: evidence that does not depend on the machine's speed.

    ``signature`` is the plan's shape (``reports/signature.py``). Blocks are the root's figures, which include
    every node below it (the whole plan's work); ``rows`` is what the root returned. A figure is None when the
    plan did not print it (captured without BUFFERS or without ANALYZE).
    """

    signature: str
    shared_hit: int | None
    shared_read: int | None
    temp_read: int | None
    temp_written: int | None
    rows: float | None

    @property
    def shared_blocks(self) -> int | None:
        """Shared blocks hit plus read: the plan's page accesses, wherever the pages came from."""
        return None if self.shared_hit is None or self.shared_read is None else self.shared_hit + self.shared_read

    @property
    def temp_blocks(self) -> int | None:
        """Temp blocks read plus written: work that spilled to disk."""
        return None if self.temp_read is None or self.temp_written is None else self.temp_read + self.temp_written


_PLAN_COUNTERS = ("signature", "shared_hit", "shared_read", "temp_read", "temp_written", "rows")
"""Every key of a plan's ``counters`` in summary.json; each is required from ``COUNTERS_VERSION`` on."""


@dataclass(frozen=True)
class PlanFacts:
    """What the summarise stage learned from a case's plan file, so nothing downstream re-analyses it."""

    file: str
    sql: str | None
    execution_ms: float | None
    planning_ms: float | None
    total_ms: float | None
    indexes_used: tuple[str, ...]
    node_types: tuple[str, ...]
    findings: tuple[FindingFact, ...] = ()
    nodes: tuple[PlanNodeRow, ...] = ()
    counters: PlanCounters | None = None  # absent in summaries before COUNTERS_VERSION

    @property
    def shape(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Node types and indexes: two plans with the same shape did the same kind of work."""
        return self.node_types, self.indexes_used


@dataclass(frozen=True)
class Overhead:
    """The model's call against its raw twin, timed in alternation within each trial (reference cases)."""

    model: str
    pairs: int
    model_ms: float  # median over every pair
    raw_ms: float
    ratio: Estimate  # model / raw within each trial, across trials


@dataclass(frozen=True)
class ServerTraffic:
    """What one call exchanged with one server, per call: counted from real traffic (``bench/traffic.py``)."""

    round_trips: float
    bytes_sent: float  # client to server, protocol bytes
    bytes_received: float
    commands: float | None = None  # Redis commands (a pipeline holds several); None for PostgreSQL

    @property
    def bytes(self) -> float:
        return self.bytes_sent + self.bytes_received


@dataclass(frozen=True)
class Traffic:
    """A case's traffic per call with PostgreSQL and Redis, averaged over ``calls`` untimed calls."""

    calls: int
    postgres: ServerTraffic
    redis: ServerTraffic

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``summary.json`` and the benchmark's ``extra_info``)."""
        return {"calls": self.calls, "postgres": _server_json(self.postgres), "redis": _server_json(self.redis)}


def _server_json(server: ServerTraffic) -> dict[str, Any]:
    doc: dict[str, Any] = {"round_trips": server.round_trips, "bytes_sent": server.bytes_sent,
                           "bytes_received": server.bytes_received}
    if server.commands is not None:
        doc["commands"] = server.commands
    return doc


@dataclass(frozen=True)
class CaseResult:
    """One case over the whole run: coordinates, timing distribution, per-trial medians, plan facts."""

    coords: Coordinates
    params: dict[str, Any]
    rounds: int
    stats: TimingStats
    trial_medians_ms: dict[int, float]
    cache_hits: int | None = None
    cache_misses: int | None = None
    plan: PlanFacts | None = None
    overhead: Overhead | None = None
    traffic: Traffic | None = None  # absent in summaries written before it was recorded

    @property
    def name(self) -> str:
        return self.coords.id

    @property
    def trials(self) -> int:
        """How many trials measured this case."""
        return len(self.trial_medians_ms)

    @property
    def median_ms(self) -> float:
        """Median of every round of every trial."""
        return self.stats.median_ms

    @property
    def median_ci(self) -> Estimate:
        """The per-trial medians' trimmed geometric mean with its interval across trials."""
        values = [v for v in self.trial_medians_ms.values() if v > 0]
        return geometric_estimate(values) if values else Estimate(self.median_ms, None, None, 0)


@dataclass(frozen=True)
class VariantInfo:
    """One variant of an experiment as the report names it: what it is and what its preparation changed."""

    name: str
    description: str
    layout: str
    schema: str


@dataclass(frozen=True)
class ExperimentResult:
    """One experiment at one scale: its question, variants, figures (ratios with intervals, probes) and conclusion.

    ``figures`` are keyed ``<migration>.<ratio>`` and ``<migration>.<variant>.<probe>.<number>`` (probe figures
    have no interval: they are counted or timed once); ``ratios`` says which cases each ratio divides. ``scale``
    is empty for an experiment that measures nothing (the guide's table).
    """

    name: str
    title: str
    question: str
    scale: str
    variants: tuple[VariantInfo, ...]
    migrations: tuple[str, ...]
    checks: dict[str, str]  # migration -> what the correctness check said before anything was timed
    figures: dict[str, Estimate]
    ratios: dict[str, tuple[str, str]]  # ratio name -> (numerator case id, denominator case id)
    conclusion: str
    notes: dict[str, Any]

    def cases(self, cases: Sequence[CaseResult]) -> list[CaseResult]:
        """The run's cases that belong to this experiment at its scale."""
        return [c for c in cases if c.coords.experiment == self.name and c.coords.scale == self.scale]


@dataclass(frozen=True)
class TopUpRecord:
    """One top-up session: the trial numbers it added (``first_trial`` on) and how many cases it timed."""

    first_trial: int
    trials: int
    cases: int


@dataclass(frozen=True)
class Design:
    """How the run was measured: trials, their order, and what each case got per trial."""

    trials: int
    order_seed: int | None
    budget_s: float | None  # timing budget per case over the whole run
    confidence: float = CONFIDENCE
    order: str = ""  # how a trial orders its cases: ORDER_BLOCKS, or "" (recorded before: all cases shuffled)
    interval: str = METHOD  # estimates are recomputed from per-trial medians when read: always today's method
    top_ups: tuple[TopUpRecord, ...] = ()  # more trials for the cases of undecided verdicts, after ``trials``
    reduced_share: float | None = None  # the budget share of writes, other projections, references (None: whole)


@dataclass(frozen=True)
class Summary:
    """Everything a report needs about one run, apart from raw timings and plans (kept beside it)."""

    environment: dict[str, Any]
    design: Design
    cases: list[CaseResult]
    schema_version: int = SCHEMA_VERSION
    experiments: list[ExperimentResult] = field(default_factory=list)

    def to_json(self) -> str:
        doc = {"schema_version": SCHEMA_VERSION, "environment": self.environment, "design": _design_json(self.design),
               "cases": [_case_json(c) for c in self.cases],
               "experiments": [_experiment_json(e) for e in self.experiments]}
        # Belt and braces: nothing saved may carry a URL password.
        return redact(json.dumps(doc, indent=1, default=str))


# --- writing --------------------------------------------------------------------------------------------------


def _design_json(design: Design) -> dict[str, Any]:
    return {"trials": design.trials, "order_seed": design.order_seed, "budget_s": design.budget_s,
            "confidence": design.confidence, "interval": design.interval, "order": design.order,
            "top_ups": [vars(t) for t in design.top_ups], "reduced_share": design.reduced_share}


def _case_json(case: CaseResult) -> dict[str, Any]:
    plan = case.plan
    overhead = case.overhead
    if plan is not None and plan.counters is None:  # the reader would refuse the file: never write it
        raise ValueError(f"{case.name}: its plan has no counters, which summary version {SCHEMA_VERSION} requires "
                         "(summary.plan_facts makes them from the plan file)")
    return {
        "name": case.name,
        **case.coords.as_dict(),
        "params": case.params,
        "rounds": case.rounds,
        "trials": case.trials,
        **{name: getattr(case.stats, name) for name in _STATS},
        "trial_medians_ms": {str(t): v for t, v in sorted(case.trial_medians_ms.items())},
        "median_ci_ms": case.median_ci.as_list(),
        "cache_hits": case.cache_hits,
        "cache_misses": case.cache_misses,
        "plan": None if plan is None else {
            "file": plan.file, "sql": plan.sql, "execution_ms": plan.execution_ms, "planning_ms": plan.planning_ms,
            "total_ms": plan.total_ms, "indexes_used": list(plan.indexes_used), "node_types": list(plan.node_types),
            "findings": [vars(f) for f in plan.findings], "nodes": [vars(n) for n in plan.nodes],
            "counters": None if plan.counters is None else vars(plan.counters),
        },
        "overhead": None if overhead is None else {
            "model": overhead.model, "pairs": overhead.pairs, "model_ms": overhead.model_ms,
            "raw_ms": overhead.raw_ms, "ratio": overhead.ratio.as_list(),
        },
        "traffic": None if case.traffic is None else case.traffic.as_dict(),
    }


def _experiment_json(result: ExperimentResult) -> dict[str, Any]:
    return {"name": result.name, "title": result.title, "question": result.question, "scale": result.scale,
            "variants": [vars(v) for v in result.variants], "migrations": list(result.migrations),
            "checks": dict(result.checks), "figures": {k: v.as_list() for k, v in result.figures.items()},
            "ratios": {k: list(v) for k, v in result.ratios.items()}, "conclusion": result.conclusion,
            "notes": result.notes}


def write_summary(run_dir: Path, summary: Summary) -> Path:
    """Write ``summary.json`` atomically (a crash never leaves a truncated file behind)."""
    target = run_dir / SUMMARY_FILE
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(summary.to_json(), encoding="utf-8")
    tmp.replace(target)
    return target


# --- reading --------------------------------------------------------------------------------------------------


class _Reader:
    """Typed access to one JSON object, every problem a BenchError naming the file and the field."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise BenchError(f"{where} is not an object")
        self.raw, self.where = raw, where

    def _get(self, name: str, optional: bool = False) -> Any:
        if name not in self.raw or self.raw[name] is None:
            if not optional:
                raise BenchError(f"{self.where} lacks {name}")
            return None
        return self.raw[name]

    def number(self, name: str, optional: bool = False) -> float | None:
        value = self._get(name, optional)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BenchError(f"{self.where}.{name} is not a number: {value!r}")
        return float(value)

    def count(self, name: str, optional: bool = False) -> int | None:
        value = self.number(name, optional)
        if value is None:
            return None
        if value < 0 or not value.is_integer():
            raise BenchError(f"{self.where}.{name} is not a count: {value!r}")
        return int(value)

    def text(self, name: str, optional: bool = False) -> str | None:
        value = self._get(name, optional)
        if value is None:
            return None
        if not isinstance(value, str):
            raise BenchError(f"{self.where}.{name} is not a string")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        value = self._get(name, optional=True) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BenchError(f"{self.where}.{name} is not a list of strings")
        return tuple(value)

    def obj(self, name: str) -> _Reader:
        return _Reader(self._get(name), f"{self.where}.{name}")

    def optional_obj(self, name: str) -> _Reader | None:
        value = self._get(name, optional=True)
        return None if value is None else _Reader(value, f"{self.where}.{name}")

    def items(self, name: str) -> list[_Reader]:
        value = self._get(name, optional=True) or []
        if not isinstance(value, list):
            raise BenchError(f"{self.where}.{name} is not a list")
        return [_Reader(v, f"{self.where}.{name}[{i}]") for i, v in enumerate(value)]

    def estimate(self, name: str) -> Estimate | None:
        value = self._get(name, optional=True)
        if value is None:
            return None
        try:
            if not isinstance(value, list) or len(value) != 4:
                raise ValueError("expected [value, low, high, trials]")
            for v in value:
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise ValueError(f"{v!r} is not a number")
            return Estimate.from_list(value)
        except ValueError as exc:
            raise BenchError(f"{self.where}.{name}: {exc}") from None


def _stats(r: _Reader) -> TimingStats:
    values = {name: r.number(name) for name in _STATS}
    return TimingStats(**{k: float(v or 0.0) for k, v in values.items()})


def _plan_counters(r: _Reader) -> PlanCounters:
    for name in _PLAN_COUNTERS:
        if name not in r.raw:
            raise BenchError(f"{r.where} lacks {name}")
    signature = r.text("signature") or ""
    if not signature.strip():
        raise BenchError(f"{r.where}.signature is empty")
    return PlanCounters(signature=signature, shared_hit=r.count("shared_hit", optional=True),
                        shared_read=r.count("shared_read", optional=True),
                        temp_read=r.count("temp_read", optional=True),
                        temp_written=r.count("temp_written", optional=True), rows=r.number("rows", optional=True))


def _plan_v2(r: _Reader | None, version: int) -> PlanFacts | None:
    if r is None:
        return None
    return PlanFacts(
        file=r.text("file") or "",
        sql=r.text("sql", optional=True),
        execution_ms=r.number("execution_ms", optional=True),
        planning_ms=r.number("planning_ms", optional=True),
        total_ms=r.number("total_ms", optional=True),
        indexes_used=r.strings("indexes_used"),
        node_types=r.strings("node_types"),
        findings=tuple(FindingFact(code=f.text("code") or "", node=f.text("node", optional=True),
                                   message=f.text("message") or "") for f in r.items("findings")),
        nodes=tuple(PlanNodeRow(label=n.text("label") or "", depth=n.count("depth") or 0,
                                subplan_name=n.text("subplan_name", optional=True),
                                exclusive_ms=n.number("exclusive_ms", optional=True),
                                actual_rows=n.number("actual_rows", optional=True),
                                plan_rows=n.number("plan_rows", optional=True),
                                loops=n.number("loops", optional=True),
                                shared_hit=n.count("shared_hit", optional=True),
                                shared_read=n.count("shared_read", optional=True)) for n in r.items("nodes")),
        counters=_plan_counters(r.obj("counters")) if version >= COUNTERS_VERSION else None,
    )


def _server_traffic(r: _Reader, commands_optional: bool = False) -> ServerTraffic:
    trips, sent, received = (r.number(name) or 0.0 for name in ("round_trips", "bytes_sent", "bytes_received"))
    commands = r.number("commands", optional=commands_optional)
    if min(trips, sent, received, commands or 0.0) < 0:
        raise BenchError(f"{r.where} has a negative count")
    return ServerTraffic(trips, sent, received, commands=commands)


def traffic_record(raw: Any, where: str) -> Traffic | None:
    """A validated ``Traffic`` from its JSON form (None stays None); a BenchError names the bad field."""
    if raw is None:
        return None
    r = _Reader(raw, where)
    calls = r.count("calls") or 0
    if calls < 1:
        raise BenchError(f"{where}.calls must be at least 1")
    return Traffic(calls=calls, postgres=_server_traffic(r.obj("postgres"), commands_optional=True),
                   redis=_server_traffic(r.obj("redis")))


def _trial_medians(r: _Reader) -> dict[int, float]:
    raw = r.obj("trial_medians_ms")
    medians: dict[int, float] = {}
    for key in raw.raw:
        if not str(key).isdigit():
            raise BenchError(f"{r.where}.trial_medians_ms has a non-numeric trial {key!r}")
        medians[int(key)] = float(raw.number(key) or 0.0)
    if not medians:
        raise BenchError(f"{r.where}.trial_medians_ms is empty")
    return medians


def _case(raw: Any, where: str, version: int) -> CaseResult:
    r = _Reader(raw, where)
    coords = Coordinates.from_dict(r.raw, where)
    params = r.raw.get("params") or {}
    if not isinstance(params, dict):
        raise BenchError(f"{where}.params is not an object")
    stats = _stats(r)
    if version == 1:
        plan_file_name = r.text("plan_file", optional=True)
        plan = None if plan_file_name is None else PlanFacts(
            file=plan_file_name, sql=None, execution_ms=r.number("execution_ms", optional=True),
            planning_ms=r.number("planning_ms", optional=True), total_ms=None,
            indexes_used=r.strings("indexes_used"), node_types=r.strings("node_types"))
        old = r.optional_obj("overhead")
        overhead = None if old is None else Overhead(
            model=old.text("model") or "", pairs=old.count("pairs") or 0, model_ms=old.number("model_ms") or 0.0,
            raw_ms=old.number("raw_ms") or 0.0, ratio=Estimate(old.number("ratio") or 0.0, None, None, 1))
        medians = {1: stats.median_ms}
    else:
        plan = _plan_v2(r.optional_obj("plan"), version)
        new = r.optional_obj("overhead")
        ratio = None if new is None else new.estimate("ratio")
        overhead = None if new is None or ratio is None else Overhead(
            model=new.text("model") or "", pairs=new.count("pairs") or 0, model_ms=new.number("model_ms") or 0.0,
            raw_ms=new.number("raw_ms") or 0.0, ratio=ratio)
        medians = _trial_medians(r)
    traffic = traffic_record(r.raw.get("traffic"), f"{where}.traffic") if version >= 2 else None
    return CaseResult(coords=coords, params=params, rounds=r.count("rounds") or 0, stats=stats,
                      trial_medians_ms=medians, cache_hits=r.count("cache_hits", optional=True),
                      cache_misses=r.count("cache_misses", optional=True), plan=plan, overhead=overhead,
                      traffic=traffic)


def _experiment(raw: Any, where: str) -> ExperimentResult:
    r = _Reader(raw, where)
    figures_raw = r.obj("figures")
    ratios_raw = r.obj("ratios")
    checks_raw = r.obj("checks")
    notes = r.raw.get("notes")
    notes = {} if notes is None else notes
    figures: dict[str, Estimate] = {}
    for key in figures_raw.raw:
        estimate = figures_raw.estimate(key)
        if estimate is None:
            raise BenchError(f"{where}.figures.{key} is empty")
        figures[str(key)] = estimate
    ratios: dict[str, tuple[str, str]] = {}
    for key, pair in ratios_raw.raw.items():
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise BenchError(f"{where}.ratios.{key} is not a [numerator, denominator] pair of case ids")
        ratios[str(key)] = (pair[0], pair[1])
    if not isinstance(notes, dict):
        raise BenchError(f"{where}.notes is not an object")
    return ExperimentResult(
        name=r.text("name") or "", title=r.text("title") or "", question=r.text("question") or "",
        scale=r.text("scale", optional=True) or "",
        variants=tuple(VariantInfo(name=v.text("name") or "", description=v.text("description") or "",
                                   layout=v.text("layout") or "", schema=v.text("schema") or "")
                       for v in r.items("variants")),
        migrations=r.strings("migrations"),
        checks={str(k): checks_raw.text(k) or "" for k in checks_raw.raw},
        figures=figures, ratios=ratios, conclusion=r.text("conclusion") or "", notes=notes)


def _design(doc: dict[str, Any], version: int, where: str) -> Design:
    if version == 1:
        return Design(trials=1, order_seed=None, budget_s=None)
    r = _Reader(doc.get("design"), f"{where}: design")
    return Design(trials=r.count("trials") or 0, order_seed=r.count("order_seed", optional=True),
                  budget_s=r.number("budget_s", optional=True),
                  confidence=r.number("confidence", optional=True) or CONFIDENCE,
                  order=r.text("order", optional=True) or "",
                  top_ups=tuple(TopUpRecord(first_trial=t.count("first_trial") or 0, trials=t.count("trials") or 0,
                                            cases=t.count("cases") or 0) for t in r.items("top_ups")),
                  reduced_share=r.number("reduced_share", optional=True))


def read_summary(path: Path) -> Summary:
    """Load and validate ``summary.json`` (versions 1 to 4); every problem is one BenchError line naming the file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"{path}: no such file (is this a balance-bench run directory? "
                         "after a plain pytest run: balance-bench summarise RUN_DIR)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BenchError(f"{path}: not valid JSON (truncated or corrupt?): {exc}") from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise BenchError(f"{path}: not a balance-bench summary (no schema_version)")
    version = doc["schema_version"]
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise BenchError(
            f"{path}: summary schema_version {version!r} is not supported by this balance-bench "
            f"(it reads versions {', '.join(map(str, READABLE_VERSIONS))}); use the balance-bench release that "
            "wrote it, or re-run the benchmarks with this one"
        )
    environment, cases = doc.get("environment"), doc.get("cases")
    if not isinstance(environment, dict) or not isinstance(cases, list):
        raise BenchError(f"{path}: summary needs an 'environment' object and a 'cases' list")
    experiments = doc.get("experiments") or [] if version >= 3 else []
    if not isinstance(experiments, list):
        raise BenchError(f"{path}: experiments is not a list")
    return Summary(environment=environment, design=_design(doc, version, str(path)),
                   cases=[_case(c, f"{path}: cases[{i}]", version) for i, c in enumerate(cases)],
                   schema_version=version,
                   experiments=[_experiment(e, f"{path}: experiments[{i}]") for i, e in enumerate(experiments)])


# --- run directories ------------------------------------------------------------------------------------------


def new_run_dir(out: Path, scale_names: Sequence[str], label: str = "") -> Path:
    """A fresh, sortable run directory under ``out``: ``<timestamp>-<scales>[-label]``, suffixed if taken."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = "-".join([stamp, *scale_names, *([label] if label else [])])
    path, suffix = out / base, 1
    while path.exists():
        suffix += 1
        path = out / f"{base}-{suffix}"
    path.mkdir(parents=True)
    return path
