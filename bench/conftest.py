"""pytest wiring of the benchmark matrix: trials, their randomized order, the live copies, the raw artifacts.

A run is K trials (``--trials``; plain pytest runs one unless told otherwise).
Every case runs once per trial, for its share of the rounds, and within each
trial (per scale) the cases run in an order shuffled from a recorded seed,
comparison by comparison: the states of one question (cache, migration,
projection) run back to back, so the two sides of every ratio are measured
seconds apart: machine drift then moves both sides of a ratio together
instead of landing in it.

Plain ``pytest bench/ --benchmark-only --scale tiny`` works and leaves the raw
artifacts (``benchmarks.json`` with the environment, ``plans/``) in its run
directory; ``balance-bench summarise RUN_DIR`` turns them into ``summary.json``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from balance_bench.bench.environment import capture_environment
from balance_bench.bench.experiment_world import EXPERIMENTS_RECORD, VariantRun
from balance_bench.bench.experiments.registry import with_experiments
from balance_bench.bench.outage import pytest_runtest_call, pytest_runtest_makereport  # noqa: F401  hooks
from balance_bench.bench.placement import Placement, place
from balance_bench.bench.plan_capture import planner_settings
from balance_bench.bench.rounds import Pace, budget_of, trials_of
from balance_bench.bench.sides import ABRun, ab_of
from balance_bench.bench.top_up import top_up_of
from balance_bench.bench.world import Copy, World
from balance_bench.config import Config
from balance_bench.coordinates import Coordinates, Side
from balance_bench.fixtures.datasets import Dataset, ensure_dataset
from balance_bench.fixtures.plugin import config_of, preset_of, settle_config
from balance_bench.fixtures.services import Endpoints
from balance_bench.matrix import REDUCED_SHARE, read_cases, reference_cases, write_cases
from balance_bench.results import BENCHMARKS_FILE, ORDER_BLOCKS, PLANS_DIR

_RUN_DIR = pytest.StashKey[Path]()
_RECORD = pytest.StashKey[dict[Side | None, dict[str, Any]]]()
_POSITIONS = pytest.StashKey[dict[str, int]]()
_CASES = {"test_read": read_cases, "test_write": write_cases, "test_reference": reference_cases}
DEFAULT_ORDER_SEED = 20261126
T = TypeVar("T")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("balance-bench").addoption(
        "--run-dir", type=Path, default=None,
        help="directory for plan files and benchmarks.json (default: runs/pytest-<timestamp>)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Every run directory gets pytest-benchmark's JSON, even when the user asked for none."""
    config.addinivalue_line("markers", "experiments: the experiments' timed cases (choose them with --experiments)")
    settle_config(config, with_experiments)  # the registry judges --experiments before anything is collected
    run_dir = config.getoption("run_dir", None)
    if run_dir is None:
        run_dir = config_of(config).out / f"pytest-{datetime.now():%Y%m%d-%H%M%S}"
    config.stash[_RUN_DIR] = Path(run_dir)
    if not config.getoption("benchmark_json", None):
        config.option.benchmark_json = Path(run_dir) / BENCHMARKS_FILE


def order_seed_of(config: Config) -> int:
    """The seed the trial orders are shuffled from (recorded with the results)."""
    return config.order_seed if config.order_seed is not None else DEFAULT_ORDER_SEED


def _item_id(case: Coordinates, trial: int, trials: int, side: Side | None = None) -> str:
    name = case.id if trials == 1 else f"{case.id}-t{trial:02d}"
    return name if side is None else f"{name}-{side}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cases_for = _CASES.get(metafunc.function.__name__)
    if cases_for is None or "case" not in metafunc.fixturenames:
        return
    config = config_of(metafunc.config)
    trials = trials_of(config)
    top_up = top_up_of(metafunc.config)
    ab = ab_of(metafunc.config)
    if ab is not None:  # every chosen case once per side in every trial
        sided = [(case, trial, side) for case in cases_for(config.scale_names) if ab.selects(case)
                 for trial in range(1, trials + 1) for side in Side]
        metafunc.parametrize("case,trial,side", sided, ids=[_item_id(c, t, trials, s) for c, t, s in sided])
        return
    if top_up is None:
        points = [(case, trial) for case in cases_for(config.scale_names) for trial in range(1, trials + 1)]
    else:  # only the chosen cases, in trials numbered after the run's
        points = [(case, trial) for case in cases_for(config.scale_names) if case.id in top_up.cases
                  for trial in top_up.numbers]
    metafunc.parametrize("case,trial", points, ids=[_item_id(c, t, trials) for c, t in points])


@pytest.hookimpl(trylast=True)  # after -m/-k deselection, so positions count the items that run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Per scale, trial after trial; each trial every case once, comparison by comparison, shuffled by the seed."""
    bench = config_of(config)
    seed = order_seed_of(bench)

    def point(item: pytest.Item) -> tuple[Coordinates | VariantRun, int] | None:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else None
        if not params or not isinstance(params.get("case"), Coordinates | VariantRun):
            return None  # an experiment variant's item takes its place in the trial like a matrix case
        return params["case"], int(params["trial"])

    _deselect_experiments(config, bench.experiments, items)
    ab = ab_of(config)
    if top_up_of(config) is not None or ab is not None:  # a matrix test with none of the chosen cases has only its
        # empty-set skip
        empty = [item for item in items if point(item) is None and getattr(item, "originalname", "") in _CASES]
        if empty:
            config.hook.pytest_deselected(items=empty)
            items[:] = [item for item in items if item not in empty]
    groups: dict[tuple[int, int], list[pytest.Item]] = {}
    others: list[pytest.Item] = []
    for item in items:
        found = point(item)
        if found is None:
            others.append(item)
            continue
        case, trial = found
        groups.setdefault((bench.scale_names.index(case.scale), trial), []).append(item)
    positions: dict[str, int] = {}
    ordered: list[pytest.Item] = []
    for (scale_index, trial), group in sorted(groups.items()):
        rng = random.Random(f"{seed}:{bench.scale_names[scale_index]}:{trial}")
        family = (lambda i: _family(point(i))) if ab is None else (lambda i: _pair(point(i)))
        for position, item in enumerate(trial_order(group, rng, family), start=1):
            positions[item.nodeid] = position
            ordered.append(item)
    config.stash[_POSITIONS] = positions
    items[:] = others + ordered


def _family(found: tuple[Coordinates | VariantRun, int] | None) -> str:
    """The comparison an item belongs to: every state of one question, or every variant of one experiment."""
    assert found is not None
    case = found[0]
    return case.group if isinstance(case, Coordinates) else f"{case.scale} {case.experiment}"


def _pair(found: tuple[Coordinates | VariantRun, int] | None) -> str:
    """In an A/B, a case's two sides are its family: baseline and candidate seconds apart, in random order."""
    assert found is not None and isinstance(found[0], Coordinates)
    return found[0].id


def trial_order(items: list[T], rng: random.Random, family: Callable[[T], str]) -> list[T]:
    """One trial's order: families in shuffled order, each family's items together, shuffled among themselves.

    The alternatives a ratio compares (cold and warm, without and with 012, the
    projections) are then seconds apart instead of anywhere in a trial that
    lasts many seconds: the host's slow phases, which come and go on that scale
    even with everything pinned, then fall on both sides of a ratio together.
    A randomized complete block design inside each trial; the items' own names
    give the starting order, so the result does not depend on collection order.
    """
    families: dict[str, list[T]] = {}
    for item in sorted(items, key=lambda i: getattr(i, "nodeid", str(i))):
        families.setdefault(family(item), []).append(item)
    names = sorted(families)
    rng.shuffle(names)
    ordered: list[T] = []
    for name in names:
        members = families[name]
        rng.shuffle(members)
        ordered += members
    return ordered


def _deselect_experiments(config: pytest.Config, selected: tuple[str, ...], items: list[pytest.Item]) -> None:
    """Without ``--experiments`` the experiment items are deselected (not skipped); ``-m experiments`` then errs."""
    if selected:
        return
    if "experiments" in (config.option.markexpr or "") and "not experiments" not in config.option.markexpr:
        raise pytest.UsageError("-m experiments selects nothing without --experiments NAME[,NAME] or all")
    dropped = [item for item in items if item.get_closest_marker("experiments") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item.get_closest_marker("experiments") is None]


@pytest.fixture(scope="session")
def run_root(pytestconfig: pytest.Config) -> Path:
    """Where this session's benchmarks.json goes."""
    path = pytestconfig.stash[_RUN_DIR]
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture()
def side() -> Side | None:
    """The A/B side an item runs on (parametrized in an A/B session); None in a plain run."""
    return None


@pytest.fixture()
def run_dir(run_root: Path, side: Side | None) -> Path:
    """Where the item's plan files go: the run directory, or in an A/B its side's own run directory."""
    path = run_root if side is None else run_root / side
    (path / PLANS_DIR).mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def datasets(pytestconfig: pytest.Config, bench_config: Config, endpoints: Endpoints) -> dict[str, Dataset]:
    """Each scale's dataset: the ones ``balance-bench run`` prepared, else ensured here once per scale."""
    preset = preset_of(pytestconfig)
    if preset is not None and preset.datasets:
        return preset.datasets
    return {scale.name: ensure_dataset(endpoints, scale, bench_config.seed) for scale in bench_config.scales}


@pytest.fixture(scope="session")
def placement(bench_config: Config, endpoints: Endpoints) -> Iterator[Placement]:
    """The timed client and the embedded servers on one CPU (``--cpu``) for the session; undone at its end.

    Backends forked later (the copies' connections) inherit the postmaster's mask.
    """
    made = place(bench_config, endpoints)
    try:
        yield made
    finally:
        made.release()


@pytest.fixture(scope="session")
def worlds(pytestconfig: pytest.Config, bench_config: Config, endpoints: Endpoints,
           datasets: dict[str, Dataset], placement: Placement) -> Iterator[dict[Side | None, World]]:
    """The run's private dataset copies and models, one world per A/B side (else one); removed at session end."""
    ab = ab_of(pytestconfig)
    made: dict[Side | None, World] = {}
    try:
        if ab is None:
            made[None] = World(bench_config, endpoints, datasets)
        else:
            for setup in ab.sides:  # b after a: b shares a's copies when both are on one server
                first = made.get(Side.A)
                shares = first if first is not None and first.endpoints.pg_url == setup.endpoints.pg_url else None
                made[setup.side] = World(bench_config, setup.endpoints, setup.datasets,
                                         implementation=setup.implementation, settings=setup.settings,
                                         label=str(setup.side), shares=shares)
        yield made
    finally:
        try:
            for side, w in made.items():
                _record_run(pytestconfig, w, placement, side, ab)
        finally:
            for w in reversed(made.values()):  # a sharing world before the one whose copies it uses
                w.close()


@pytest.fixture()
def world(worlds: dict[Side | None, World], side: Side | None) -> World:
    """The world of the item's side (the only one in a plain run)."""
    return worlds[side]


def _record_run(pytestconfig: pytest.Config, w: World, placement: Placement, side: Side | None,
                ab: ABRun | None) -> None:
    if not w.scales:
        return
    config = w.config
    engine = next(iter(next(iter(w.scales.values())).copies.values())).engine
    environment = capture_environment(w.endpoints, engine, w.datasets(), {**config.describe(),
                                                                        "key_prefix": w.key_prefix})
    environment["index_sizes"] = w.index_sizes()
    environment["placement"] = placement.describe()
    environment["write_targets"] = {name: vars(s.write_target) for name, s in w.scales.items()}
    environment["stage_seconds"] = dict(w.stage_seconds)
    if side is not None and ab is not None:
        environment["ab_side"] = ab.setup(side).describe()
    pytestconfig.stash.setdefault(_RECORD, {})[side] = {"environment": environment, "design": design_of(config)}


def design_of(config: Config) -> dict[str, Any]:
    """The run's design as recorded: trials, the seed of their order, each case's timing budget (and the share
    of it the cases that decide no close verdict get)."""
    return {"trials": trials_of(config), "order_seed": order_seed_of(config), "budget_s": budget_of(config),
            "reduced_share": REDUCED_SHARE, "order": ORDER_BLOCKS}


@pytest.fixture()
def position(request: pytest.FixtureRequest) -> int:
    """The item's place in its trial's shuffled order (1-based)."""
    return request.config.stash.get(_POSITIONS, {}).get(request.node.nodeid, 0)


@pytest.fixture()
def state(case: Coordinates, trial: int, world: World) -> Copy:
    """The copy at the case's migration state; the first case of a trial starts it (VACUUM, untimed)."""
    world.begin_trial(case.scale, trial)
    return world.copy(case.scale, case.migration)


@pytest.fixture(scope="session")
def settings_cache() -> dict[int, dict[str, str]]:
    return {}


@pytest.fixture()
def settings(state: Copy, settings_cache: dict[int, dict[str, str]]) -> dict[str, str]:
    """Planner settings of the case's server, read once per database."""
    key = id(state.engine)
    if key not in settings_cache:
        settings_cache[key] = planner_settings(state.engine)
    return settings_cache[key]


@pytest.fixture(scope="session")
def calibration() -> dict[str, Pace]:
    """Each case's pace (``rounds.Pace``), calibrated once per case (its first trial) and kept for the others."""
    return {}


def _done_already(pytestconfig: pytest.Config) -> set[str]:
    top_up = top_up_of(pytestconfig)
    return set(top_up.cases) if top_up is not None else set()


@pytest.fixture(scope="session")
def planned_by_side(pytestconfig: pytest.Config) -> dict[Side | None, set[str]]:
    return {side: _done_already(pytestconfig) for side in (None, *Side)}


@pytest.fixture(scope="session")
def accounted_by_side(pytestconfig: pytest.Config) -> dict[Side | None, set[str]]:
    return {side: _done_already(pytestconfig) for side in (None, *Side)}


@pytest.fixture()
def planned(planned_by_side: dict[Side | None, set[str]], side: Side | None) -> set[str]:
    """Cases whose plan was captured already: once per case (and A/B side), in the first trial that runs it (a
    top-up's cases have theirs from the run)."""
    return planned_by_side[side]


@pytest.fixture()
def accounted(accounted_by_side: dict[Side | None, set[str]], side: Side | None) -> set[str]:
    """Cases whose traffic was counted already: once per case (and A/B side), in the first trial that runs it (a
    top-up's cases have theirs from the run)."""
    return accounted_by_side[side]


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]) -> None:
    """Carry the environment and the run's design in pytest-benchmark's JSON; copy it into the run directory."""
    records = config.stash.get(_RECORD, {})
    if ab_of(config) is not None:
        _write_sides(config.stash[_RUN_DIR], records, benchmarks, output_json)
        return
    record = records.get(None)
    experiments = config.stash.get(EXPERIMENTS_RECORD, None)
    if experiments is not None:  # experiments ran: their record, and the environment when the matrix did not run
        record = {"environment": experiments["environment"], "design": experiments["design"], **(record or {}),
                  "experiments": experiments["experiments"]}
    if record is None:
        return
    top_up = top_up_of(config)
    if top_up is not None:  # its own file beside the run's, which it must never replace
        output_json["balance_bench"] = {**record, "top_up": top_up.describe()}
        return
    output_json["balance_bench"] = record
    run_dir = config.stash[_RUN_DIR]
    if Path(config.getoption("benchmark_json")).resolve() != (run_dir / BENCHMARKS_FILE).resolve():
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / BENCHMARKS_FILE).write_text(json.dumps(output_json, indent=1), encoding="utf-8")


def _write_sides(root: Path, records: dict[Side | None, dict[str, Any]], benchmarks: list[Any],
                 output_json: dict[str, Any]) -> None:
    """An A/B's results as one run directory per side (``root/a``, ``root/b``), each with its side's record."""
    output_json["balance_bench"] = {"ab_sides": [str(side) for side in records if side is not None]}
    for side, record in records.items():
        if side is None:
            continue
        mine = [b for b in output_json["benchmarks"] if b.get("extra_info", {}).get("side") == str(side)]
        (root / side).mkdir(parents=True, exist_ok=True)
        document = {**output_json, "benchmarks": mine, "balance_bench": record}
        # params hold Coordinates: written by name, as pytest-benchmark's own safe encoder writes them
        (root / side / BENCHMARKS_FILE).write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
