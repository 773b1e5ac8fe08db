"""``balance-bench run``: services and datasets, the matrix through pytest, then summary.json and report.html."""

from __future__ import annotations

import argparse
import sys
import time

import pytest

from balance_bench.bench.runner import run_matrix
from balance_bench.config import DATASET, SERVICE, Config
from balance_bench.errors import BenchError
from balance_bench.fixtures.datasets import ensure_dataset
from balance_bench.fixtures.services import running_services
from balance_bench.reports.render import write_report
from balance_bench.reports.summary import summarise
from balance_bench.results import BENCHMARKS_FILE, new_run_dir

NAME = "run"
HELP = "run the benchmark matrix and write a run directory with the report"
OPTIONS = (*SERVICE, *DATASET, "out", "quick")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond the shared options."""


def run(config: Config, args: argparse.Namespace) -> int:
    """Run the matrix, summarise it, write the report, and print where they are."""
    started = time.perf_counter()
    run_dir = new_run_dir(config.out, config.scale_names)
    with running_services(config) as endpoints:
        datasets = {scale.name: ensure_dataset(endpoints, scale, config.seed) for scale in config.scales}
        code = run_matrix(config, endpoints, datasets, run_dir)
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # pytest already stopped the cases and dropped this run's database copies
    if code != 0 or not (run_dir / BENCHMARKS_FILE).exists():
        raise BenchError(f"the benchmark matrix did not complete (pytest exit {int(code)}); "
                         f"partial results in {run_dir}")
    summarise(run_dir)
    print(f"run directory: {run_dir}")
    print(f"report: {write_report(run_dir)}")
    print(f"finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0
