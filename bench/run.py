"""``balance-bench run``: services, datasets, the matrix through pytest, then summary and report.

The same cases as ``pytest bench/``: this command only chooses the options and
the run directory, and hands pytest its already-validated Config and running
services.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from balance_bench.config import Config
from balance_bench.errors import BenchError
from balance_bench.fixtures.datasets import ensure_dataset
from balance_bench.fixtures.plugin import Preset
from balance_bench.fixtures.services import running_services
from balance_bench.reports.render import write_report
from balance_bench.results import BENCHMARKS_FILE, SUMMARY_FILE

__all__ = ["run_command", "new_run_dir"]

BENCH_DIR = Path(__file__).resolve().parent


def new_run_dir(config: Config) -> Path:
    """A fresh, sortable run directory under ``--out``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = config.out / f"{stamp}-{'-'.join(config.scale_names)}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = config.out / f"{stamp}-{'-'.join(config.scale_names)}-{suffix}"
    path.mkdir(parents=True)
    return path


def run_matrix(config: Config, run_dir: Path, extra_args: list[str] | None = None) -> int:
    """Run the matrix into ``run_dir``; returns pytest's exit code."""
    with running_services(config) as endpoints:
        for scale in config.scales:
            ensure_dataset(endpoints, scale, config.seed)
        argv = [
            str(BENCH_DIR),
            "-p", "balance_bench.fixtures.plugin",
            "--rootdir", str(BENCH_DIR.parent),
            "--run-dir", str(run_dir),
            "--benchmark-only",
            "--benchmark-json", str(run_dir / BENCHMARKS_FILE),
            "--benchmark-columns", "min,median,mean,iqr,rounds",
            "--benchmark-sort", "name",
            "-q", "--no-header", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            *(extra_args or []),
        ]
        return pytest.main(argv, plugins=[Preset(config, endpoints)])


def run_command(config: Config, args: argparse.Namespace) -> int:
    """Run the matrix, write summary.json and report.html, and print where they are."""
    started = time.perf_counter()
    run_dir = new_run_dir(config)
    code = run_matrix(config, run_dir)
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # pytest already stopped the cases and dropped this run's database copies
    if code != 0 or not (run_dir / SUMMARY_FILE).exists():
        raise BenchError(f"the benchmark matrix did not complete (pytest exit {int(code)}); "
                         f"partial results in {run_dir}")
    print(f"run directory: {run_dir}")
    print(f"report: {write_report(run_dir)}")
    print(f"finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0
