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

from balance_bench.config import DATASET, QUICK_TRIALS, RUN_TRIALS, SERVICE, TOP_UP_S, Config
from balance_bench.errors import BenchError

if TYPE_CHECKING:
    from balance_bench.bench.top_up import TopUp
    from balance_bench.fixtures.datasets import Dataset
    from balance_bench.fixtures.services import Endpoints
    from balance_bench.reports.render import Publication

MAX_TOP_UPS = 3
"""Top-up sessions at most: each re-plans from the intervals the previous one left."""

NAME = "run"
HELP = ("run the benchmark matrix (or, with --experiments, the chosen experiments) in randomized interleaved "
        "trials and write a run directory with the report")
OPTIONS = (*SERVICE, *DATASET, "out", "quick", "trials", "top_up", "order_seed", "cpu", "replica_dsn", "experiments",
           "network")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond the shared options."""


def with_trials(config: Config) -> Config:
    """``config`` with its trial count: ``--trials`` if given, else RUN_TRIALS (QUICK_TRIALS with ``--quick``);
    and its top-up budget: ``--top-up`` if given, else TOP_UP_S (none with ``--quick`` or ``--experiments``)."""
    top_up = config.top_up_s if config.top_up_s is not None else (
        0.0 if config.quick or config.experiments else TOP_UP_S)
    return replace(config, trials=config.trials or (QUICK_TRIALS if config.quick else RUN_TRIALS), top_up_s=top_up)


def _matrix(config: Config, endpoints: Endpoints, datasets: dict[str, Dataset], run_dir: Path,
            extra_args: list[str] | None = None, top_up: tuple[int, TopUp] | None = None) -> None:
    import pytest

    from balance_bench.bench.runner import run_matrix
    from balance_bench.results import BENCHMARKS_FILE

    code = run_matrix(config, endpoints, datasets, run_dir, extra_args, top_up)
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # pytest already stopped the cases and dropped this run's database copies
    if code != 0 or not (run_dir / BENCHMARKS_FILE).exists():
        raise BenchError(f"the benchmark matrix did not complete (pytest exit {int(code)}); "
                         f"partial results in {run_dir}")


def top_up(config: Config, endpoints: Endpoints, datasets: dict[str, Dataset], run_dir: Path) -> None:
    """Spend ``config.top_up_s`` on more trials of the cache verdicts the run's trials left open (summarised).

    Each session is planned from the run as summarised so far (``reports.top_up``), its cost predicted from the
    run's own timings and corrected by what the previous session really took; it stops when nothing is open,
    nothing more fits the budget, or after ``MAX_TOP_UPS`` sessions.
    """
    from balance_bench.bench.summary import summarise
    from balance_bench.bench.top_up import TopUp
    from balance_bench.reports.claims import judge_run
    from balance_bench.reports.runs import read_run
    from balance_bench.reports.top_up import plan_top_up

    budget = left = config.top_up_s or 0.0
    first = next_trial = (config.trials or 1) + 1
    factor = 1.0  # measured / predicted seconds of the sessions so far
    for number in range(1, MAX_TOP_UPS + 1):
        run = read_run(run_dir)
        plan = plan_top_up(run, judge_run(run)[1], left / factor, next_trial)
        if plan is None:
            break
        print(f"top-up {number}: {plan.trials} more trials of {len(plan.cases)} cases for {len(plan.claims)} open "
              f"cache verdict{'s' if len(plan.claims) != 1 else ''} (about {plan.seconds * factor:.0f} s of "
              f"{left:.0f} s left)", file=sys.stderr, flush=True)
        started = time.perf_counter()
        _matrix(config, endpoints, datasets, run_dir,
                top_up=(number, TopUp(frozenset(c.id for c in plan.cases), plan.first, plan.trials)))
        spent = time.perf_counter() - started
        left -= spent
        factor = max(factor, spent / plan.seconds) if plan.seconds > 0 else factor
        next_trial = plan.first + plan.trials
        summarise(run_dir)
    if next_trial > first:
        print(f"top-ups: {next_trial - first} trials in {budget - left:.0f} s", file=sys.stderr, flush=True)


def measure(config: Config, endpoints: Endpoints, datasets: dict[str, Dataset], run_dir: Path) -> Publication:
    """One complete run into ``run_dir``: the matrix, its summary, its report and verdict files."""
    from balance_bench.bench.summary import summarise
    from balance_bench.reports.render import publish

    # With --experiments the run times the chosen experiments instead of the guide's matrix.
    _matrix(config, endpoints, datasets, run_dir, ["-m", "experiments"] if config.experiments else None)
    summarise(run_dir)
    if config.top_up_s and not config.experiments:
        top_up(config, endpoints, datasets, run_dir)
    return publish(run_dir, profiles=config.network)


def run(config: Config, args: argparse.Namespace) -> int:
    """Run the matrix, summarise it, write the report, and print where they are."""
    from balance_bench.bench.experiments.registry import with_experiments
    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.services import running_services
    from balance_bench.reports.console import headline_console, print_headline
    from balance_bench.results import new_run_dir

    started = time.perf_counter()
    config = with_trials(with_experiments(config))  # bad --experiments: one line before any directory or server
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
