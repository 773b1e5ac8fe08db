"""The experiments' timed cases, inside the same randomized interleaved trials as the matrix.

One item per experiment variant, migration state, scale and trial (marked
``experiments``; ``--experiments NAME[,NAME]|all`` chooses which). Items take
their place in their trial's shuffled order beside every other item of the
trial (``conftest``), and inside an item the variant's cases run in an order
shuffled from the same seed. A variant's cases are known only once it is
prepared (the whale's last page depends on the data), so each case gets a
pytest-benchmark fixture of its own inside the item: one entry per case and
trial in ``benchmarks.json``, like a matrix case, with its coordinates (the
experiment and variant filled in) in ``extra_info``.

Untimed: preparation and the correctness check (once per session, ``ExperimentWorld``),
calibration, each round's ``setup`` (pytest-benchmark's pedantic setup), plan
capture (once per case) and the probes (once, after every trial).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from balance_bench.bench.conftest import design_of, order_seed_of
from balance_bench.bench.environment import capture_environment
from balance_bench.bench.experiment_world import (
    EXPERIMENTS_RECORD,
    ExperimentWorld,
    VariantRun,
    json_safe,
    variant_runs,
)
from balance_bench.bench.placement import Placement
from balance_bench.bench.rounds import Pace, calibrated, timed, trials_of
from balance_bench.config import Config
from balance_bench.fixtures.plugin import config_of
from balance_bench.fixtures.services import Endpoints


def _item_id(run: VariantRun, trial: int, trials: int) -> str:
    return run.id if trials == 1 else f"{run.id}-t{trial:02d}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function.__name__ != "test_variant":
        return
    config = config_of(metafunc.config)
    trials = trials_of(config)
    points = [(run, trial) for run in variant_runs(config) for trial in range(1, trials + 1)]
    metafunc.parametrize("case,trial", points, ids=[_item_id(r, t, trials) for r, t in points])


@pytest.fixture(scope="session")
def experiment_world(pytestconfig: pytest.Config, bench_config: Config, endpoints: Endpoints,
        placement: Placement) -> Iterator[ExperimentWorld]:
    """The experiments' prepared variants; at session end their probes run, then everything is removed."""
    made = ExperimentWorld(bench_config, endpoints)
    try:
        yield made
        made.run_probes()
    finally:
        try:
            engine = made.any_engine()
            if engine is not None:  # something was prepared: keep what the run needs to conclude
                environment = capture_environment(endpoints, engine, made.datasets(),
                                                  {**bench_config.describe(), "key_prefix": endpoints.redis_prefix})
                environment["placement"] = placement.describe()
                pytestconfig.stash[EXPERIMENTS_RECORD] = {"experiments": made.record(), "environment": environment,
                                                          "design": design_of(bench_config)}
        finally:
            made.close()


def _fixture(request: pytest.FixtureRequest) -> BenchmarkFixture:
    """A pytest-benchmark fixture of its own for one more case of this item (what its ``benchmark`` fixture does)."""
    session: Any = request.config._benchmarksession  # type: ignore[attr-defined]
    return BenchmarkFixture(  # type: ignore[no-untyped-call]
        request.node, add_stats=session.benchmarks.append, logger=session.logger, warner=request.node.warn,
        disabled=session.disabled, **session.options)


@pytest.mark.experiments
def test_variant(case: VariantRun, trial: int, position: int, experiment_world: ExperimentWorld, benchmark: Any,
                 bench_config: Config, run_dir: Any, calibration: dict[str, Pace], planned: set[str],
                 request: pytest.FixtureRequest) -> None:
    """Time every case of one experiment variant once in this trial, in a shuffled order, setup untimed."""
    prepared = experiment_world.prepare(case)  # first use: copies, prepare, check (untimed, once per session)
    experiment = prepared.experiment
    state = prepared.states[case.variant]
    cases = list(prepared.cases[case.variant])
    random.Random(f"{order_seed_of(bench_config)}:{case.id}:{trial}").shuffle(cases)
    trials = trials_of(bench_config)
    extra_fixtures: list[BenchmarkFixture] = []
    try:
        for slot, item in enumerate(cases, start=1):
            fixture = benchmark if slot == 1 else _fixture(request)
            if slot > 1:
                extra_fixtures.append(fixture)
            coords = item.coordinates(experiment.name, case.migration, case.scale)
            fixture.name = f"test_variant[{coords.id if trials == 1 else f'{coords.id}-t{trial:02d}'}]"
            fixture.fullname = f"{request.node.nodeid.split('[')[0]}[{fixture.name.split('[', 1)[1]}"
            call = experiment.call(state, item)
            pace = calibrated(coords.id, calibration, bench_config, call.run, call.setup)
            timed(fixture, pace, call.run, call.setup)  # every trial: a variant's cases share one item
            extra: dict[str, Any] = {}
            if coords.id not in planned:
                target = experiment.plan(state, item)
                if target is not None:
                    extra["plan_file"] = experiment_world.capture_plan(coords, target, run_dir)
                planned.add(coords.id)
            fixture.group = coords.group
            fixture.extra_info.update(coords.as_dict(), trial=trial, position=position, slot=slot,
                                      params=json_safe(dict(item.params)), **extra)
    except BaseException:
        for fixture in extra_fixtures:
            fixture.has_error = True  # the item failed: none of its cases' timings is kept
        benchmark.has_error = True
        raise
    finally:
        for fixture in extra_fixtures:
            fixture._cleanup()  # type: ignore[no-untyped-call]
