"""``balance-bench aa``: run the matrix twice on the same commit and report what this machine can resolve."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from balance_bench.commands.run import measure, with_trials
from balance_bench.config import DATASET, SERVICE, Config
from balance_bench.errors import BenchError

if TYPE_CHECKING:
    from rich.console import Console

    from balance_bench.reports.aa import AAResult

NAME = "aa"
HELP = "A/A self-check: run the matrix twice on the same commit and show what differences this machine resolves"
OPTIONS = (*SERVICE, *DATASET, "out", "quick", "trials", "order_seed", "cpu")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The gate threshold the check judges false alarms at, and optionally two runs made already."""
    parser.add_argument("--threshold", type=float, default=10.0, metavar="PCT",
                        help="the --fail-on-regression threshold to check for false alarms (default 10)")
    parser.add_argument("--runs", nargs=2, type=Path, metavar=("FIRST", "SECOND"), default=None,
                        help="judge two existing run directories of one commit instead of making two new runs")


def _print(result: AAResult, console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"A/A: the same commit twice ({result.trials[0]} + {result.trials[1]} trials)")
    for column in ("case", "change %", "vs floor %", "p", "gate p", "detectable %", "gate"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for c in sorted(result.cases, key=lambda c: -(c.detectable_pct or 0.0)):
        table.add_row(escape(c.case), f"{c.change_pct:+.1f}",  # labels hold [..]: not markup
                      "—" if c.floor_change_pct is None else f"{c.floor_change_pct:+.1f}",
                      "—" if c.p_value is None else f"{c.p_value:.2g}",
                      "—" if c.gate_p is None else f"{c.gate_p:.2g}",
                      "—" if c.detectable_pct is None else f"{c.detectable_pct:.1f}",
                      "[red]FALSE ALARM[/]" if c.flagged else ("ok" if c in result.gated else "machine floor"))
    console.print(table)

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}%"

    console.print(f"false alarms at {result.threshold_pct:g}%: {len(result.false_alarms)} of {len(result.gated)} "
                  "gated cases; "
                  f"median distance between the runs {pct(result.median_abs_change_pct)}; "
                  f"median detectable slowdown {pct(result.median_detectable_pct)}; "
                  f"90% of cases resolve a slowdown of {pct(result.resolvable_pct)} or more")


def run(config: Config, args: argparse.Namespace) -> int:
    """Two runs into one directory, the second reported against the first; 1 if the gate raised a false alarm."""
    from rich.console import Console
    from rich.markup import escape

    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.services import running_services
    from balance_bench.reports.aa import aa_result, write_aa
    from balance_bench.reports.render import write_report
    from balance_bench.reports.runs import read_run
    from balance_bench.results import new_run_dir

    if not math.isfinite(args.threshold) or args.threshold < 0:
        raise BenchError(f"--threshold {args.threshold}: give a percentage of 0 or more")
    started = time.perf_counter()
    console = Console(highlight=False)
    if args.runs is not None:  # two runs the user made already: judge them, write nothing
        first_run, second_run = (read_run(path) for path in args.runs)
        result = aa_result(first_run, second_run, args.threshold)
        _print(result, console)
        return 1 if result.false_alarms else 0
    config = with_trials(config)
    directory = new_run_dir(config.out, config.scale_names, label="aa")
    with running_services(config) as endpoints:
        datasets = {scale.name: ensure_dataset(endpoints, scale, config.seed) for scale in config.scales}
        first, second = directory / "a", directory / "b"
        for run_dir in (first, second):
            run_dir.mkdir()
            measure(config, endpoints, datasets, run_dir)
    write_report(second, baseline=first)
    result = aa_result(read_run(first), read_run(second), args.threshold)
    _print(result, console)
    console.print(f"A/A directory: {escape(str(directory))} ({write_aa(directory, result).name}, a/, b/; "
                  f"b/report.html compares b with a) in {time.perf_counter() - started:.0f} s")
    return 1 if result.false_alarms else 0
