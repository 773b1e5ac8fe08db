"""``balance-bench run``: services and datasets, the matrix in interleaved trials, then summary.json and report.html.

``--network`` only chooses the profiles the report projects at; ``balance-bench report --network`` re-judges later.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from balance_bench.config import DATASET, QUICK_TRIALS, RUN_TRIALS, SERVICE, Config
from balance_bench.errors import BenchError

if TYPE_CHECKING:
    from balance_bench.fixtures.datasets import Dataset
    from balance_bench.fixtures.services import Endpoints
    from balance_bench.reports.render import Publication

NAME = "run"
HELP = ("run the benchmark matrix (or, with --experiments, the chosen experiments) in randomized interleaved "
        "trials and write a run directory with the report")
OPTIONS = (*SERVICE, *DATASET, "out", "quick", "trials", "order_seed", "cpu", "replica_dsn", "experiments", "network")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond the shared options."""


def with_trials(config: Config) -> Config:
    """``config`` with its trial count: ``--trials`` if given, else RUN_TRIALS (QUICK_TRIALS with ``--quick``)."""
    return replace(config, trials=config.trials or (QUICK_TRIALS if config.quick else RUN_TRIALS))


def measure(config: Config, endpoints: Endpoints, datasets: dict[str, Dataset], run_dir: Path) -> Publication:
    """One complete run into ``run_dir``: the matrix, its summary, its report and verdict files."""
    import pytest

    from balance_bench.bench.runner import run_matrix
    from balance_bench.reports.render import publish
    from balance_bench.reports.summary import summarise
    from balance_bench.results import BENCHMARKS_FILE

    # With --experiments the run times the chosen experiments instead of the guide's matrix.
    code = run_matrix(config, endpoints, datasets, run_dir, ["-m", "experiments"] if config.experiments else None)
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # pytest already stopped the cases and dropped this run's database copies
    if code != 0 or not (run_dir / BENCHMARKS_FILE).exists():
        raise BenchError(f"the benchmark matrix did not complete (pytest exit {int(code)}); "
                         f"partial results in {run_dir}")
    summarise(run_dir)
    return publish(run_dir, profiles=config.network)


def run(config: Config, args: argparse.Namespace) -> int:
    """Run the matrix, summarise it, write the report, and print where they are."""
    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.services import running_services
    from balance_bench.reports.console import headline_console, print_headline
    from balance_bench.results import new_run_dir

    started = time.perf_counter()
    config = with_trials(config)
    run_dir = new_run_dir(config.out, config.scale_names, "experiments" if config.experiments else "")
    with running_services(config) as endpoints:
        datasets = {scale.name: ensure_dataset(endpoints, scale, config.seed) for scale in config.scales}
        published = measure(config, endpoints, datasets, run_dir)
    if not config.experiments:  # an experiments run judges no claim of the guide's table: its report has them
        print_headline(headline_console(sys.stdout), published.claims)
    print(f"run directory: {run_dir}")
    print(f"report: {published.report}")
    print(f"verdicts: {published.verdicts_md} (and {published.verdicts_json.name})")
    print(f"finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0
