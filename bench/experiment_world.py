"""The experiments' world: each experiment's variants prepared once per scale and migration state, on private copies.

The matrix has ``World``; experiments have an ``ExperimentWorld``, in the same role. On first use of an
(experiment, scale, migration) it makes the variants' private copies
(``experiments.workspace``), runs each variant's ``prepare`` and then the
experiment's correctness ``check``, all untimed and once per session, so a
variant whose answers are wrong never gets timed. A replica, when an
experiment needs one, is started once (``fixtures.replica``) before the first
copy it must carry. Plans are captured here (``explain``, rolled back) from the
targets the experiments name. Probes run once per session at the end, after
every timed call, because they write (credits, refreshes, 1,000-iteration
loops) and must not disturb what is timed. ``record`` is what the run keeps
about each experiment beside its timings (``benchmarks.json``, under
``balance_bench.experiments``); the summarise stage turns it into records.

Everything is removed on ``close``: states closed, the keys under each
workspace's prefix deleted, the replica stopped, and the copies dropped all
at once (each DROP DATABASE waits for a checkpoint; side by side they share
one).
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, create_engine

from balance_bench.bench.experiments.registry import EXPERIMENTS
from balance_bench.bench.experiments.spec import Experiment, ExperimentCase, PlanTarget, Workspace
from balance_bench.bench.experiments.workspace import experiment_workspaces
from balance_bench.bench.plan_capture import explain, planner_settings
from balance_bench.config import Config
from balance_bench.coordinates import Coordinates, Migration
from balance_bench.fixtures.databases import drop_owned_together
from balance_bench.fixtures.replica import Replica, running_replica
from balance_bench.fixtures.services import Endpoints
from balance_bench.results import plan_document, plan_file

__all__ = ["VariantRun", "Prepared", "ExperimentWorld", "EXPERIMENTS_RECORD", "variant_runs", "json_safe"]

EXPERIMENTS_RECORD = pytest.StashKey[dict[str, Any]]()
"""What the experiment world recorded (``ExperimentWorld.record``, plus an environment when the matrix did not run),
for the JSON hook."""


@dataclass(frozen=True, order=True)
class VariantRun:
    """One pytest item's worth of an experiment: one variant at one scale and migration state (per trial)."""

    experiment: str
    variant: str
    migration: Migration
    scale: str

    @property
    def id(self) -> str:
        return f"{self.scale}-{self.migration}-{self.experiment}-{self.variant}"


def variant_runs(config: Config) -> list[VariantRun]:
    """Every (experiment, variant, migration, scale) the configured experiments time, in registry order."""
    return [VariantRun(name, variant.name, migration, scale)
            for scale in config.scale_names for name in config.experiments
            for migration in EXPERIMENTS[name].migrations for variant in EXPERIMENTS[name].variants]


def json_safe(value: Any) -> Any:
    """Parameters as JSON keeps them: numbers and strings as they are, anything else (Decimal, dates) as text."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class Prepared:
    """An experiment's variants at one scale and migration state: prepared, checked, with their cases."""

    experiment: Experiment[Any]
    scale: str
    migration: Migration
    workspaces: dict[str, Workspace]
    states: dict[str, Any]
    cases: dict[str, tuple[ExperimentCase, ...]]
    probes: dict[str, dict[str, float]] = field(default_factory=dict)  # "<variant>.<probe>" -> figures
    seconds: dict[str, float] = field(default_factory=dict)  # untimed work's wall time: "prepare", "<probe key>"

    def case(self, variant: str, case_id: str) -> ExperimentCase:
        return next(c for c in self.cases[variant] if c.id == case_id)


class ExperimentWorld:
    """Prepares experiments on first use, captures their plans, runs their probes, and removes it all at the end."""

    def __init__(self, config: Config, endpoints: Endpoints) -> None:
        self.config = config
        self.endpoints = endpoints
        self.redis = redis.Redis.from_url(endpoints.redis_url)
        self.replica: Replica | None = None
        self.prepared: dict[tuple[str, str, Migration], Prepared] = {}
        self._stack = ExitStack()
        self._engines: dict[str, Engine] = {}
        self._settings: dict[str, dict[str, str]] = {}
        self._copies: list[str] = []  # every workspace copy, dropped together on close

    def prepare(self, run: VariantRun) -> Prepared:
        """The experiment of ``run`` at its scale and migration, prepared and checked on first use."""
        key = (run.experiment, run.scale, run.migration)
        if key not in self.prepared:
            started = time.perf_counter()
            self.prepared[key] = self._prepare(EXPERIMENTS[run.experiment], run.scale, run.migration)
            self.prepared[key].seconds["prepare"] = time.perf_counter() - started
        return self.prepared[key]

    def _replica(self, experiment: Experiment[Any]) -> Replica:
        if self.replica is None:
            self.replica = self._stack.enter_context(
                running_replica(self.config, self.endpoints, apply_delay_ms=experiment.replica_apply_delay_ms))
        return self.replica

    def _prepare(self, experiment: Experiment[Any], scale_name: str, migration: Migration) -> Prepared:
        scale = next(s for s in self.config.scales if s.name == scale_name)
        replica = self._replica(experiment) if experiment.needs_replica else None
        spaces = self._stack.enter_context(experiment_workspaces(
            experiment, self.endpoints, scale, self.config.seed, migration, self.redis, replica, self._copies))
        states: dict[str, Any] = {}
        for variant in experiment.variants:
            state = experiment.prepare(spaces[variant.name])
            self._stack.callback(state.close)  # closed before its copy is dropped (LIFO)
            states[variant.name] = state
        experiment.check(states)  # raises CheckFailed: the item fails, nothing of this experiment is timed
        cases = {name: tuple(experiment.cases(state)) for name, state in states.items()}
        return Prepared(experiment, scale_name, migration, spaces, states, cases)

    def _engine(self, url: str) -> Engine:
        if url not in self._engines:
            self._engines[url] = create_engine(url, pool_size=1)
        return self._engines[url]

    def capture_plan(self, coords: Coordinates, target: PlanTarget, run_dir: Path) -> str:
        """EXPLAIN (ANALYZE, BUFFERS, SETTINGS) the target (rolled back) into the case's plan file; its path."""
        engine = self._engine(target.url)
        if target.url not in self._settings:
            self._settings[target.url] = planner_settings(engine)
        params = dict(target.params)
        relative = plan_file(coords)
        path = run_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan_document(coords, target.sql, json_safe(params), self._settings[target.url],
                                      explain(engine, target.sql, params)), encoding="utf-8")
        return relative

    def run_probes(self) -> None:
        """Every probe of every prepared experiment, once, untimed (after the trials: probes write)."""
        for prepared in self.prepared.values():
            for variant in prepared.experiment.variants:
                for probe in prepared.experiment.probes:
                    if probe.applies_to(variant.name):
                        started = time.perf_counter()
                        figures = probe.run(prepared.states[variant.name], self.config.quick)
                        key = f"{variant.name}.{probe.name}"
                        prepared.probes[key] = {k: float(v) for k, v in figures.items()}
                        prepared.seconds[key] = time.perf_counter() - started

    def any_engine(self) -> Engine | None:
        """An engine on one of the experiment world's copies (for the environment record), or None if nothing was
        prepared."""
        for prepared in self.prepared.values():
            for space in prepared.workspaces.values():
                return self._engine(space.url)
        return None

    def datasets(self) -> list[dict[str, object]]:
        """Every dataset the experiment world's copies were made from (each layout once)."""
        found: dict[str, dict[str, object]] = {}
        for prepared in self.prepared.values():
            for space in prepared.workspaces.values():
                found.setdefault(space.dataset.database, space.dataset.describe())
        return list(found.values())

    def record(self) -> dict[str, Any]:
        """What the run keeps about each experiment: per scale and migration, the check and the probe figures."""
        experiments: dict[str, Any] = {}
        for (name, scale, migration), prepared in self.prepared.items():
            entry = experiments.setdefault(name, {"scales": {}})
            entry["scales"].setdefault(scale, {})[str(migration)] = {
                "check": "passed",
                "cases": {variant: [c.id for c in cases] for variant, cases in prepared.cases.items()},
                "probes": prepared.probes,
                "seconds": {k: round(v, 3) for k, v in prepared.seconds.items()},
            }
        return {"selected": list(self.config.experiments), "experiments": experiments,
                "replica": self.replica.describe() if self.replica is not None else None}

    def close(self) -> None:
        """Close every state, drop every copy, delete the workspaces' keys, stop the replica."""
        for engine in self._engines.values():
            engine.dispose()
        try:
            self._stack.close()
        finally:
            try:
                drop_owned_together(self.endpoints, self._copies)
            finally:
                self.redis.close()
