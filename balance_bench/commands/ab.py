"""``balance-bench ab``: baseline and candidate in the same trials, and a regression gate on the within-run intervals.

A side is a model (the checkout's, or a git revision's: ``--baseline-ref``,
``--candidate-ref``), PostgreSQL settings (``--b-settings``) and a server
(``--b-dsn``); the candidate is side b. ``--b-slowdown`` makes one read of
side b slower by a known share, to show what the gate catches here. With none of them given both sides are
the same code: an in-run A/A, which shows what this design resolves. Exit 0
without regression, 1 with one (time or counters), 2 on a user error.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from balance_bench.config import DATASET, SERVICE, Config, pg_url
from balance_bench.errors import BenchError

if TYPE_CHECKING:
    from rich.console import Console

    from balance_bench.reports.ab import ABResult

NAME = "ab"
HELP = ("A/B: time a baseline and a candidate (another git revision, PostgreSQL settings or server) in the same "
        "trials and gate on the within-run intervals")
OPTIONS = (*SERVICE, *DATASET, "out", "quick", "trials", "order_seed", "cpu")
SHOWN = 12
"""Cases the terminal table shows: the regressions first, then the largest changes."""
_WORD = {"no significant change": "same"}
"""Verdicts shortened for a narrow column (``ab.json`` has them whole)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """What each side runs, which queries, and the gate's thresholds."""
    parser.add_argument("--baseline-ref", metavar="REV",
                        help="side a (baseline) runs the balance_model of this git revision (default: the checkout)")
    parser.add_argument("--candidate-ref", metavar="REV",
                        help="side b (candidate) runs the balance_model of this git revision (default: the checkout)")
    parser.add_argument("--repo", type=Path, metavar="DIR",
                        help="the git repository the revisions are in (default: the checkout the suite runs from)")
    parser.add_argument("--b-settings", metavar="NAME=VALUE[,...]",
                        help="PostgreSQL settings side b's connections start with, e.g. enable_indexscan=off")
    parser.add_argument("--b-dsn", type=pg_url, metavar="URL",
                        help="side b's PostgreSQL server (its dataset is seeded there); default: side a's")
    parser.add_argument("--b-slowdown", metavar="READ=PCT",
                        help="side b's READ (e.g. find_by_id) made PCT percent slower by a busy wait proportional "
                             "to its time: a known regression, to see that the gate catches one of that size here")
    parser.add_argument("--query", metavar="NAME[,NAME]",
                        help="only these reads and writes of the matrix (e.g. find_by_id,credit); default all")
    parser.add_argument("--threshold", type=float, metavar="PCT", default=None,
                        help="a regression is slower by more than PCT percent (default 5)")
    parser.add_argument("--blocks-threshold", type=float, metavar="PCT", default=None,
                        help="shared or temp blocks beyond PCT percent more are a counter regression (default 10)")


def _queries(text: str | None) -> frozenset[str] | None:
    from balance_bench.matrix import READS, WRITES

    if text is None:
        return None
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(names - {*READS, *WRITES})
    if not names or unknown:
        raise BenchError(f"--query {text}: unknown {', '.join(unknown) or 'nothing'}; known: "
                         f"{', '.join([*READS, *WRITES])}")
    return names


def _slowdown(text: str | None) -> tuple[str, float] | None:
    from balance_bench.matrix import READS

    if text is None:
        return None
    name, _, value = text.partition("=")
    try:
        pct = float(value)
    except ValueError:
        pct = math.nan
    if name.strip() not in READS or not math.isfinite(pct) or pct <= 0:
        raise BenchError(f"--b-slowdown {text}: give READ=PCT with a read of the matrix ({', '.join(READS)}) and a "
                         "percentage above 0, e.g. find_by_id=20")
    return name.strip(), pct


def _percent(flag: str, value: float | None, default: float) -> float:
    if value is None:
        return default
    if not math.isfinite(value) or value < 0:
        raise BenchError(f"{flag} {value}: give a percentage of 0 or more")
    return value


def _print(result: ABResult, console: Console) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from balance_bench.reports.ab import ordered_cases

    verdict = "[red]regression[/]" if result.failed else "[green]no regression[/]"
    console.print(f"A/B: {verdict} — {escape(result.summary_line())}")
    table = Table(title=f"Largest changes, candidate against baseline ({result.trials} paired trials)",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in ("case", "ms a → b", "change [95% CI]", "detects", "verdict"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for c in ordered_cases(result)[:SHOWN]:
        table.add_row(escape(c.short_label), f"{c.baseline_ms:.3g} → {c.candidate_ms:.3g}", c.interval_text(),
                      "—" if c.detectable_pct is None else f"{c.detectable_pct:.0f}%",
                      "[red]regression[/]" if c.regression else _WORD.get(c.verdict, c.verdict))
    console.print(table)
    for counted in result.counter_regressions:
        console.print(f"[red]counter regression[/] {escape(counted.line())}")


def run(config: Config, args: argparse.Namespace) -> int:
    """Both sides in one matrix session, each summarised as a run of its own, then judged; 1 on a regression."""
    import pytest
    from rich.markup import escape

    from balance_bench.bench.revision import CHECKOUT, revision, slowed
    from balance_bench.bench.runner import run_matrix
    from balance_bench.bench.sides import ABRun, SideSetup, check_settings, parse_settings
    from balance_bench.bench.summary import summarise
    from balance_bench.commands.run import with_trials
    from balance_bench.coordinates import Side
    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.services import check_postgres, running_services
    from balance_bench.reports.ab import THRESHOLD_PCT, judge_ab, write_ab
    from balance_bench.reports.ab_page import write_ab_page
    from balance_bench.reports.console import headline_console
    from balance_bench.reports.counter_gate import BLOCKS_THRESHOLD_PCT
    from balance_bench.reports.runs import read_run
    from balance_bench.results import BENCHMARKS_FILE, new_run_dir

    threshold = _percent("--threshold", args.threshold, THRESHOLD_PCT)
    blocks = _percent("--blocks-threshold", args.blocks_threshold, BLOCKS_THRESHOLD_PCT)
    queries = _queries(args.query)
    slowdown = _slowdown(args.b_slowdown)
    settings = parse_settings(args.b_settings) if args.b_settings else {}
    started = time.perf_counter()
    config = replace(with_trials(config), top_up_s=0.0)  # the pairing gives the precision; no top-up
    with ExitStack() as stack:
        baseline = (stack.enter_context(revision(args.baseline_ref, str(Side.A), args.repo))
                    if args.baseline_ref else CHECKOUT)
        candidate = (stack.enter_context(revision(args.candidate_ref, str(Side.B), args.repo))
                     if args.candidate_ref else CHECKOUT)
        if slowdown is not None:
            candidate = slowed(candidate, *slowdown)
        endpoints = stack.enter_context(running_services(config))
        datasets = {scale.name: ensure_dataset(endpoints, scale, config.seed) for scale in config.scales}
        endpoints_b, datasets_b = endpoints, datasets
        if args.b_dsn is not None:
            check_postgres(args.b_dsn)
            endpoints_b = replace(endpoints, pg_url=args.b_dsn, pg_embedded=False, server_pids=())
            datasets_b = {scale.name: ensure_dataset(endpoints_b, scale, config.seed) for scale in config.scales}
        check_settings(endpoints_b, next(iter(datasets_b.values())).database, settings)
        directory = new_run_dir(config.out, config.scale_names, label="ab")
        ab = ABRun((SideSetup(Side.A, endpoints, datasets, baseline),
                    SideSetup(Side.B, endpoints_b, datasets_b, candidate, settings)), queries)
        code = run_matrix(config, endpoints, datasets, directory, ab=ab)
        if code == pytest.ExitCode.INTERRUPTED:  # pytest already stopped the cases and dropped the copies
            raise KeyboardInterrupt
        sides = [directory / side for side in Side]
        if code != 0 or not all((path / BENCHMARKS_FILE).exists() for path in sides):
            raise BenchError(f"the A/B did not complete (pytest exit {int(code)}); partial results in {directory}")
    for path in sides:
        summarise(path)
    result = judge_ab(directory, read_run(sides[0]), read_run(sides[1]), threshold, blocks)
    json_path, md_path = write_ab(directory, result)
    page = write_ab_page(directory, result)
    console = headline_console(sys.stdout)
    _print(result, console)
    console.print(f"A/B directory: {escape(str(directory))} ({page.name}, {json_path.name}, {md_path.name}; a/ is "
                  "the baseline, b/ the candidate, each a run directory)")
    print(f"finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 1 if result.failed else 0
