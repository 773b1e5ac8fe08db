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

from balance_bench.config import DATASET, QUICK_TRIALS, RUN_TRIALS, SERVICE, SOURCE, TOP_UP_S, Config
from balance_bench.errors import BenchError
from balance_bench.scales import SOURCE_SCALE

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
OPTIONS = (*SERVICE, *DATASET, *SOURCE, "out", "quick", "trials", "top_up", "order_seed", "cpu", "replica_dsn",
           "experiments", "network")


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


def measure(config: Config, endpoints: Endpoints, datasets: dict[str, Dataset], run_dir: Path,
            stages: dict[str, float] | None = None) -> Publication:
    """One complete run into ``run_dir``: the matrix, its summary, its report and verdict files; the seconds of
    each stage added to ``stages`` when given."""
    from balance_bench.bench.summary import summarise
    from balance_bench.reports.render import publish

    clock = _StageClock(stages if stages is not None else {})
    # With --experiments the run times the chosen experiments instead of the guide's matrix.
    _matrix(config, endpoints, datasets, run_dir, ["-m", "experiments"] if config.experiments else None)
    clock.lap("matrix")
    summarise(run_dir)
    clock.lap("summary")
    if config.top_up_s and not config.experiments:
        top_up(config, endpoints, datasets, run_dir)
        clock.lap("top-ups")
    published = publish(run_dir, profiles=config.network)
    clock.lap("report")
    return published


class _StageClock:
    """Seconds between laps, into a dict of stage name to seconds."""

    def __init__(self, stages: dict[str, float]) -> None:
        self.stages = stages
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - self._last
        self._last = now


def stages_line(stages: dict[str, float], inside: dict[str, float]) -> str:
    """``stages: datasets 15 s, matrix 380 s (copies 4 s, plans 12 s), ...; peak memory 410 MiB``: where the run's
    time went (``inside``: the matrix's own untimed stages as its run record keeps them) and this process's peak
    resident memory."""
    import resource

    def seconds(items: dict[str, float]) -> str:
        return ", ".join(f"{name} {value:.0f} s" for name, value in items.items())

    parts = [f"{name} {value:.0f} s" + (f" ({seconds(inside)})" if name == "matrix" and inside else "")
             for name, value in stages.items()]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return f"stages: {', '.join(parts)}; peak memory {peak:.0f} MiB"


def _matrix_stages(published: Publication) -> dict[str, float]:
    """The matrix's untimed stages (copies, plans, traffic) as its run record keeps them."""
    recorded = published.environment.get("stage_seconds") or {}
    return {str(name): float(value) for name, value in recorded.items()}


def datasets_for(config: Config, endpoints: Endpoints) -> tuple[Config, dict[str, Dataset]]:
    """Each scale's dataset, ensured; with ``--from``, a fresh copy of the user's data instead, whose scale (named
    ``SOURCE_SCALE``) replaces ``--scale`` in the returned config.

    Always a fresh copy, never the one an earlier ``seed --from`` made: nothing cheap tells whether the source has
    changed since, and a run measures the data as it is now.
    """
    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.source import Source, copy_dataset

    if config.source is None:
        return config, {scale.name: ensure_dataset(endpoints, scale, config.seed) for scale in config.scales}
    dataset = copy_dataset(endpoints, Source.of(config))
    if dataset.source is not None:
        print(dataset.source.sentence(), file=sys.stderr, flush=True)
    return replace(config, scales=(dataset.scale,)), {dataset.scale.name: dataset}


def run(config: Config, args: argparse.Namespace) -> int:
    """Run the matrix, summarise it, write the report, and print where they are."""
    from balance_bench.bench.experiments.registry import with_experiments
    from balance_bench.fixtures.services import running_services
    from balance_bench.reports.console import headline_console, print_headline
    from balance_bench.results import new_run_dir

    started = time.perf_counter()
    config = with_trials(with_experiments(config))  # bad --experiments: one line before any directory or server
    scale_names = (SOURCE_SCALE,) if config.source is not None else config.scale_names
    run_dir = new_run_dir(config.out, scale_names, "experiments" if config.experiments else "")
    stages: dict[str, float] = {}
    with running_services(config) as endpoints:
        clock = _StageClock(stages)
        config, datasets = datasets_for(config, endpoints)
        clock.lap("datasets")
        published = measure(config, endpoints, datasets, run_dir, stages)
    if not config.experiments:  # an experiments run judges no claim of the guide's table: its report has them
        print_headline(headline_console(sys.stdout), published.claims)
    print(f"run directory: {run_dir}")
    print(f"report: {published.report}")
    print(f"verdicts: {published.verdicts_md} (and {published.verdicts_json.name})")
    print(stages_line(stages, _matrix_stages(published)), file=sys.stderr)
    print(f"finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0
