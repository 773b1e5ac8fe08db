"""pytest wiring of the benchmark matrix: cases from the config, state switching once per group, artifacts.

Plain ``pytest bench/ --benchmark-only --scale tiny`` works and leaves the raw
artifacts (``benchmarks.json`` with the environment, ``plans/``) in its run
directory; ``balance-bench summarise RUN_DIR`` turns them into ``summary.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from balance_bench.bench.environment import capture_environment
from balance_bench.bench.matrix import MIGRATIONS, Case, read_cases, reference_cases, write_cases
from balance_bench.bench.plans import planner_settings
from balance_bench.bench.world import ScaleState, World
from balance_bench.config import Config
from balance_bench.fixtures.datasets import Dataset, ensure_dataset
from balance_bench.fixtures.plugin import config_of, preset_of
from balance_bench.fixtures.services import Endpoints
from balance_bench.results import BENCHMARKS_FILE, PLANS_DIR

_RUN_DIR = pytest.StashKey[Path]()
_ENVIRONMENT = pytest.StashKey[dict[str, Any]]()
_CASES = {"test_read": read_cases, "test_write": write_cases, "test_reference": reference_cases}
_KIND_ORDER = {"read": 0, "reference": 1, "write": 2}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("balance-bench").addoption(
        "--run-dir", type=Path, default=None,
        help="directory for plan files and summary.json (default: <--out>/pytest-<timestamp>)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cases_for = _CASES.get(metafunc.function.__name__)
    if cases_for is None or "case" not in metafunc.fixturenames:
        return
    cases = list(cases_for(config_of(metafunc.config).scale_names))
    metafunc.parametrize("case", cases, ids=[c.id for c in cases])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group cases by (scale, migration) so each migration state is applied once per scale."""
    scales = config_of(config).scale_names

    def order(item: pytest.Item) -> tuple[int, int, int]:
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        if not isinstance(case, Case):
            return (-1, 0, 0)
        return (scales.index(case.scale), MIGRATIONS.index(case.migration), _KIND_ORDER[case.kind])

    items.sort(key=order)


@pytest.fixture(scope="session")
def run_dir(pytestconfig: pytest.Config) -> Path:
    """Where this run's plan files (and, with --benchmark-json, summary.json) go."""
    path = pytestconfig.stash[_RUN_DIR]
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
def world(pytestconfig: pytest.Config, bench_config: Config, endpoints: Endpoints,
          datasets: dict[str, Dataset]) -> Iterator[World]:
    """The run's private dataset copies and models; removed at session end."""
    w = World(bench_config, endpoints, datasets)
    try:
        yield w
    finally:
        _record_environment(pytestconfig, w)
        w.close()


def _record_environment(pytestconfig: pytest.Config, w: World) -> None:
    if not w.states:
        return
    engine = next(iter(w.states.values())).engine
    environment = capture_environment(
        w.endpoints, engine, w.datasets(), {**w.config.describe(), "key_prefix": w.key_prefix}
    )
    environment["index_sizes"] = w.index_sizes()
    pytestconfig.stash[_ENVIRONMENT] = environment


@pytest.fixture()
def state(case: Case, world: World) -> ScaleState:
    """The case's scale at the case's migration state."""
    return world.ready(case.scale, case.migration)


@pytest.fixture(scope="session")
def settings_cache() -> dict[int, dict[str, str]]:
    return {}


@pytest.fixture()
def settings(state: ScaleState, settings_cache: dict[int, dict[str, str]]) -> dict[str, str]:
    """Planner settings of the case's server, read once per database."""
    key = id(state.engine)
    if key not in settings_cache:
        settings_cache[key] = planner_settings(state.engine)
    return settings_cache[key]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Every run directory gets pytest-benchmark's JSON, even when the user asked for none."""
    run_dir = config.getoption("run_dir", None)
    if run_dir is None:
        run_dir = config_of(config).out / f"pytest-{datetime.now():%Y%m%d-%H%M%S}"
    config.stash[_RUN_DIR] = Path(run_dir)
    if not config.getoption("benchmark_json", None):
        config.option.benchmark_json = str(Path(run_dir) / BENCHMARKS_FILE)


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]) -> None:
    """Carry the environment in pytest-benchmark's JSON; keep a copy in the run directory if it goes elsewhere."""
    environment = config.stash.get(_ENVIRONMENT, None)
    if environment is None:
        return
    output_json["balance_bench"] = {"environment": environment}
    run_dir = config.stash[_RUN_DIR]
    if Path(config.getoption("benchmark_json")).resolve() != (run_dir / BENCHMARKS_FILE).resolve():
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / BENCHMARKS_FILE).write_text(json.dumps(output_json, indent=4), encoding="utf-8")
