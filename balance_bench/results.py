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
be compared; anything else is refused with a message saying what to do (the file, its
version and its fields are read through ``balance_bench.records``, as every record is). Each
case's traffic per call is optional from version 2 (runs made before it was
counted have none). A case's *counters* are its plan's counters and its traffic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from balance_bench.coordinates import Coordinates
from balance_bench.errors import redact
from balance_bench.records import Fields, Kind, read_record
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
    "SUMMARY",
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

    ``signature`` is the plan's shape (``plans/signature.py``). Blocks are the root's figures, which include every
    node below it (the whole plan's work); ``rows`` is what the root returned. A figure is None when the
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


SUMMARY = Kind(
    name="summary", readable=READABLE_VERSIONS,
    advice="use the balance-bench release that wrote it, or re-run the benchmarks with this one",
    missing="is this a balance-bench run directory? after a plain pytest run: balance-bench summarise RUN_DIR")
"""``summary.json`` as ``balance_bench.records`` reads it."""


def _estimate(r: Fields, name: str) -> Estimate | None:
    value = r.value(name, optional=True)
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
        raise r.refuse(f"{r.at(name)}: {exc}") from None


def _stats(r: Fields) -> TimingStats:
    return TimingStats(**{name: r.number(name) for name in _STATS})


def _plan_counters(r: Fields) -> PlanCounters:
    r.require(*_PLAN_COUNTERS)
    signature = r.text("signature")
    if not signature.strip():
        raise r.refuse(f"{r.at('signature')} is empty")
    return PlanCounters(signature=signature, shared_hit=r.count("shared_hit", optional=True),
                        shared_read=r.count("shared_read", optional=True),
                        temp_read=r.count("temp_read", optional=True),
                        temp_written=r.count("temp_written", optional=True), rows=r.number("rows", optional=True))


def _plan_v2(r: Fields | None, version: int) -> PlanFacts | None:
    if r is None:
        return None
    return PlanFacts(
        file=r.text("file"),
        sql=r.text("sql", optional=True),
        execution_ms=r.number("execution_ms", optional=True),
        planning_ms=r.number("planning_ms", optional=True),
        total_ms=r.number("total_ms", optional=True),
        indexes_used=r.strings("indexes_used", optional=True),
        node_types=r.strings("node_types", optional=True),
        findings=tuple(FindingFact(code=f.text("code"), node=f.text("node", optional=True), message=f.text("message"))
                       for f in r.items("findings", optional=True)),
        nodes=tuple(PlanNodeRow(label=n.text("label"), depth=n.count("depth"),
                                subplan_name=n.text("subplan_name", optional=True),
                                exclusive_ms=n.number("exclusive_ms", optional=True),
                                actual_rows=n.number("actual_rows", optional=True),
                                plan_rows=n.number("plan_rows", optional=True),
                                loops=n.number("loops", optional=True),
                                shared_hit=n.count("shared_hit", optional=True),
                                shared_read=n.count("shared_read", optional=True))
                    for n in r.items("nodes", optional=True)),
        counters=_plan_counters(r.obj("counters")) if version >= COUNTERS_VERSION else None,
    )


def _server_traffic(r: Fields, commands_optional: bool = False) -> ServerTraffic:
    trips, sent, received = (r.number(name) for name in ("round_trips", "bytes_sent", "bytes_received"))
    commands = r.number("commands", optional=commands_optional)
    if min(trips, sent, received, commands or 0.0) < 0:
        raise r.refuse(f"{r.at()} has a negative count")
    return ServerTraffic(trips, sent, received, commands=commands)


def traffic_record(raw: Any, source: str, where: str) -> Traffic | None:
    """A validated ``Traffic`` from its JSON form (None stays None); a BenchError names ``source`` and the bad field
    from ``where``, the traffic's path in it."""
    return None if raw is None else _traffic(Fields(raw, source, where))


def _traffic(r: Fields | None) -> Traffic | None:
    if r is None:
        return None
    calls = r.count("calls")
    if calls < 1:
        raise r.refuse(f"{r.at('calls')} must be at least 1")
    return Traffic(calls=calls, postgres=_server_traffic(r.obj("postgres"), commands_optional=True),
                   redis=_server_traffic(r.obj("redis")))


def _trial_medians(r: Fields) -> dict[int, float]:
    raw = r.obj("trial_medians_ms")
    medians: dict[int, float] = {}
    for key in raw.raw:
        if not key.isdigit():
            raise r.refuse(f"{raw.at()} has a non-numeric trial {key!r}")
        medians[int(key)] = raw.number(key)
    if not medians:
        raise r.refuse(f"{raw.at()} is empty")
    return medians


def _case(r: Fields, version: int) -> CaseResult:
    coords = Coordinates.from_dict(r.raw, r.place())
    params = r.mapping("params", optional=True) or {}
    stats = _stats(r)
    if version == 1:
        plan_file_name = r.text("plan_file", optional=True)
        plan = None if plan_file_name is None else PlanFacts(
            file=plan_file_name, sql=None, execution_ms=r.number("execution_ms", optional=True),
            planning_ms=r.number("planning_ms", optional=True), total_ms=None,
            indexes_used=r.strings("indexes_used", optional=True), node_types=r.strings("node_types", optional=True))
        old = r.optional_obj("overhead")
        overhead = None if old is None else Overhead(
            model=old.text("model"), pairs=old.count("pairs"), model_ms=old.number("model_ms"),
            raw_ms=old.number("raw_ms"), ratio=Estimate(old.number("ratio"), None, None, 1))
        medians = {1: stats.median_ms}
    else:
        plan = _plan_v2(r.optional_obj("plan"), version)
        new = r.optional_obj("overhead")
        ratio = None if new is None else _estimate(new, "ratio")
        overhead = None if new is None or ratio is None else Overhead(
            model=new.text("model"), pairs=new.count("pairs"), model_ms=new.number("model_ms"),
            raw_ms=new.number("raw_ms"), ratio=ratio)
        medians = _trial_medians(r)
    traffic = _traffic(r.optional_obj("traffic")) if version >= 2 else None
    return CaseResult(coords=coords, params=params, rounds=r.count("rounds"), stats=stats,
                      trial_medians_ms=medians, cache_hits=r.count("cache_hits", optional=True),
                      cache_misses=r.count("cache_misses", optional=True), plan=plan, overhead=overhead,
                      traffic=traffic)


def _experiment(r: Fields) -> ExperimentResult:
    figures_raw = r.obj("figures")
    ratios_raw = r.obj("ratios")
    checks_raw = r.obj("checks")
    figures: dict[str, Estimate] = {}
    for key in figures_raw.raw:
        estimate = _estimate(figures_raw, key)
        if estimate is None:
            raise r.refuse(f"{figures_raw.at(key)} is empty")
        figures[key] = estimate
    ratios: dict[str, tuple[str, str]] = {}
    for key, pair in ratios_raw.raw.items():
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise r.refuse(f"{ratios_raw.at(key)} is not a [numerator, denominator] pair of case ids")
        ratios[key] = (pair[0], pair[1])
    notes = r.mapping("notes", optional=True)
    return ExperimentResult(
        name=r.text("name"), title=r.text("title"), question=r.text("question"),
        scale=r.text("scale", optional=True) or "",
        variants=tuple(v.build(VariantInfo) for v in r.items("variants", optional=True)),
        migrations=r.strings("migrations", optional=True),
        checks={key: checks_raw.text(key) for key in checks_raw.raw},
        figures=figures, ratios=ratios, conclusion=r.text("conclusion"), notes={} if notes is None else notes)


def _design(doc: Fields, version: int) -> Design:
    if version == 1:
        return Design(trials=1, order_seed=None, budget_s=None)
    r = doc.obj("design")
    return Design(trials=r.count("trials"), order_seed=r.count("order_seed", optional=True),
                  budget_s=r.number("budget_s", optional=True),
                  confidence=r.number("confidence", optional=True) or CONFIDENCE,
                  order=r.text("order", optional=True) or "",
                  top_ups=tuple(TopUpRecord(first_trial=t.count("first_trial"), trials=t.count("trials"),
                                            cases=t.count("cases")) for t in r.items("top_ups", optional=True)),
                  reduced_share=r.number("reduced_share", optional=True))


def read_summary(path: Path) -> Summary:
    """Load and validate ``summary.json`` (versions 1 to 4); every problem is one BenchError line naming the file."""
    doc, version = read_record(path, SUMMARY)
    environment = doc.mapping("environment")
    cases = doc.items("cases")
    experiments = doc.items("experiments", optional=True) if version >= 3 else []
    return Summary(environment=environment, design=_design(doc, version),
                   cases=[_case(c, version) for c in cases], schema_version=version,
                   experiments=[_experiment(e) for e in experiments])


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
