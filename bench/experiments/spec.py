"""The shape of an experiment: what one declares, so the engine can run it and the report can conclude from it.

An experiment answers one of the guide's open questions by comparing *variants*
(of the schema or of the model; the first is the baseline) on private copies
of the same dataset, in the same run. It declares, as data and small functions:

``name``, ``title``, ``question``
    the registry key (``--experiments NAME``), the report section's title, and
    the guide's words it tests;
``variants``
    each with the dataset ``layout`` its copy is made from and a one-line
    ``schema`` note saying what its preparation changes;
``migrations``
    the migration states it runs under (``without_012``/``with_012``);
``needs_replica``, ``replica_apply_delay_ms``
    whether its workspaces carry a read replica, and the apply delay an
    embedded one is started with;
``prepare(workspace) -> state``
    per variant, untimed, on the variant's own private copy: apply the variant
    DDL, build the models, pick parameters that depend on the data (the
    whale's last page, a threshold value). The state has ``close()``;
``cases(state) -> cases``
    the timed calls of that variant: ``operation`` and ``param_kind`` (stable
    names such as ``page-last``, never data-dependent numbers, so case ids
    match across scales and runs), the parameters, and the ``Kind`` and
    ``CacheState`` that place it in ``Coordinates`` (``case.coordinates(...)``);
``call(state, case) -> Call``
    the zero-argument call to time, and an optional per-round ``setup`` that
    must not be timed (deleting the keys a cold call needs absent);
``check(states)``
    the correctness check, given every variant's state of one migration state:
    run once before any timed call; raises ``CheckFailed`` naming what differs;
``plan(state, case) -> PlanTarget | None``
    exactly the SQL and parameters to EXPLAIN for that case, and on which database;
``probes``
    untimed measurements that are not a latency (staleness, stale fills, hit
    rates, invalidations sent): each returns named numbers;
``ratios``
    the comparisons the conclusion reads, as (numerator case, denominator case):
    the engine computes each per trial, with a confidence interval;
``conclude(figures) -> str``
    the one-sentence conclusion from the measured figures (ratios and probe
    numbers, keyed ``"<migration>.<name>"``); it says "inconclusive" when the
    interval straddles the line the sentence draws.

Everything an experiment measures is the system under test (``balance_model``)
called from outside; the model never knows it is benchmarked.
``exercise`` drives one experiment once, untimed: what the tests do, and the
reference for the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import redis
from sqlalchemy import Engine, create_engine

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.fixtures.datasets import Dataset
from balance_bench.fixtures.replica import Replica

__all__ = [
    "State",
    "Variant",
    "Workspace",
    "ExperimentCase",
    "Call",
    "PlanTarget",
    "Probe",
    "Ratio",
    "Estimate",
    "Figures",
    "Experiment",
    "CheckFailed",
    "Outcome",
    "exercise",
    "figure_key",
    "times",
    "interval",
]


class State(Protocol):
    """What ``prepare`` returns: anything with ``close()`` (models, engines, parameters)."""

    def close(self) -> None: ...


S = TypeVar("S", bound=State)


class CheckFailed(AssertionError):
    """A variant gave a different answer than the oracle or the baseline: its timings would mean nothing."""


@dataclass(frozen=True)
class Variant:
    """One side of the comparison; the experiment's first variant is the baseline."""

    name: str
    description: str
    layout: str = "plain"  # fixtures.layouts name of the dataset its private copy is made from
    schema: str = "the dataset as built (no change)"  # what prepare changes in the copy


@dataclass(frozen=True)
class Workspace:
    """What the engine hands ``prepare`` for one variant: its private copy and the services.

    ``url`` is an owned copy of ``dataset`` (``CREATE DATABASE ... TEMPLATE``) at
    ``migration``, dropped by whoever made it; ``key_prefix`` is unique to this
    workspace; ``replica`` is set when the experiment ``needs_replica``.
    """

    variant: str
    migration: Migration
    dataset: Dataset
    url: str
    redis: redis.Redis
    key_prefix: str
    replica: Replica | None = None
    seed: int = 42  # for every random choice an experiment makes (read mixes, write targets)

    def engine(self, **kwargs: Any) -> Engine:
        """A new engine on the private copy (the caller disposes of it)."""
        return create_engine(self.url, **kwargs)

    @property
    def replica_url(self) -> str:
        """The private copy's URL on the replica."""
        if self.replica is None:
            raise ValueError("this workspace has no replica")
        return self.replica.database_url(self.database)

    @property
    def database(self) -> str:
        from sqlalchemy.engine import make_url

        return str(make_url(self.url).database)


@dataclass(frozen=True)
class ExperimentCase:
    """One timed call of one variant. ``id`` is stable across runs and scales (ratios name cases by it)."""

    variant: str
    operation: str
    param_kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    kind: Kind = Kind.READ
    cache: CacheState = CacheState.NOCACHE

    @property
    def id(self) -> str:
        return f"{self.variant}-{self.operation}-{self.param_kind}"

    def coordinates(self, experiment: str, migration: Migration, scale: str) -> Coordinates:
        """The case's place in the run: the matrix's coordinates with the experiment and variant filled in."""
        return Coordinates(self.kind, self.operation, self.cache, migration, scale, OPTIMIZED, self.param_kind,
                           experiment, self.variant)


@dataclass(frozen=True)
class Call:
    """The call to time, and what to do (untimed) before each round."""

    run: Callable[[], object]
    setup: Callable[[], None] | None = None


@dataclass(frozen=True)
class PlanTarget:
    """Exactly what to EXPLAIN (ANALYZE, BUFFERS) for a case, and on which database."""

    url: str
    sql: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Probe(Generic[S]):
    """An untimed measurement of one variant's state, returning named numbers (counts, seconds, shares)."""

    name: str
    description: str
    run: Callable[[S, bool], Mapping[str, float]]  # (state, quick) -> figures
    variants: tuple[str, ...] = ()  # the variants it measures; empty: every variant

    def applies_to(self, variant: str) -> bool:
        return not self.variants or variant in self.variants


@dataclass(frozen=True)
class Ratio:
    """A figure the conclusion reads: the numerator case's median over the denominator's, per trial."""

    name: str
    numerator: str  # ExperimentCase.id
    denominator: str


@dataclass(frozen=True)
class Estimate:
    """A measured figure with its 95% confidence interval (``low``/``high`` None when there was one trial)."""

    value: float
    low: float | None = None
    high: float | None = None

    def above(self, line: float) -> bool | None:
        """True if the whole interval is above ``line``, False if below, None if it straddles it (or no CI)."""
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        if low > line:
            return True
        if high < line:
            return False
        return None


Figures = Mapping[str, Estimate]
"""Measured figures by ``figure_key(migration, name)``: ratios and ``<variant>.<probe>.<number>`` probe figures."""


def figure_key(migration: Migration | str, name: str) -> str:
    """How figures are keyed: the migration state, then the ratio's or probe figure's name."""
    return f"{migration}.{name}"


def times(estimate: Estimate) -> str:
    """A ratio as the conclusions print it: ``2.41x (95% CI 2.30-2.52)``."""
    return f"{estimate.value:.2f}x{interval(estimate, '{:.2f}')}"


def interval(estimate: Estimate, fmt: str = "{:.3g}") -> str:
    """`` (95% CI low-high)`` or nothing when there is no interval."""
    if estimate.low is None or estimate.high is None:
        return ""
    return f" (95% CI {fmt.format(estimate.low)}-{fmt.format(estimate.high)})"


@dataclass(frozen=True)
class Experiment(Generic[S]):
    """One experiment's declaration (see the module docstring for each field's contract)."""

    name: str
    title: str
    question: str
    variants: tuple[Variant, ...]
    migrations: tuple[Migration, ...]
    prepare: Callable[[Workspace], S]
    cases: Callable[[S], tuple[ExperimentCase, ...]]
    call: Callable[[S, ExperimentCase], Call]
    check: Callable[[Mapping[str, S]], None]
    plan: Callable[[S, ExperimentCase], PlanTarget | None]
    conclude: Callable[[Figures], str]
    probes: tuple[Probe[S], ...] = ()
    ratios: tuple[Ratio, ...] = ()
    needs_replica: bool = False
    replica_apply_delay_ms: int = 0  # recovery_min_apply_delay for an embedded replica (recorded with results)

    @property
    def baseline(self) -> Variant:
        return self.variants[0]

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)


@dataclass
class Outcome:
    """What one untimed pass of an experiment produced, per migration state given to ``exercise``."""

    results: dict[str, object] = field(default_factory=dict)  # case id -> the call's return value
    plans: dict[str, Any] = field(default_factory=dict)  # case id -> EXPLAIN JSON
    probes: dict[str, Mapping[str, float]] = field(default_factory=dict)  # "<variant>.<probe>" -> figures


def exercise(experiment: Experiment[Any], workspaces: Mapping[str, Workspace], *, quick: bool = True,
             explain: Callable[[PlanTarget], Any] | None = None) -> Outcome:
    """Prepare every variant, check them, call each case once (with its setup), explain it, run the probes.

    ``workspaces`` maps each variant name to its workspace (one migration state).
    Nothing is timed: this is the correctness pass the engine makes before
    timing, and what the tests run.
    """
    outcome = Outcome()
    with ExitStack() as stack:
        states: dict[str, Any] = {}
        for variant in experiment.variants:
            state = experiment.prepare(workspaces[variant.name])
            stack.callback(state.close)
            states[variant.name] = state
        experiment.check(states)
        for variant in experiment.variants:
            state = states[variant.name]
            for case in experiment.cases(state):
                call = experiment.call(state, case)
                if call.setup is not None:
                    call.setup()
                outcome.results[case.id] = call.run()
                target = experiment.plan(state, case)
                if target is not None and explain is not None:
                    outcome.plans[case.id] = explain(target)
        for variant in experiment.variants:
            for probe in experiment.probes:
                if probe.applies_to(variant.name):
                    outcome.probes[f"{variant.name}.{probe.name}"] = probe.run(states[variant.name], quick)
    return outcome
