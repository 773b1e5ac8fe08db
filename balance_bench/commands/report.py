"""``balance-bench report RUN_DIR [--baseline DIR] [--fail-on-regression PCT] [--network P,...]``: rebuild the report.

``--network`` re-judges the verdicts at other network profiles from the run's saved traffic: no server is touched.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from balance_bench.config import Config
from balance_bench.errors import BenchError

NAME = "report"
HELP = "(re)build report.html for a run directory"
OPTIONS: tuple[str, ...] = ("network",)
MIN_GATE_TRIALS = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run, an optional baseline, and the regression threshold."""
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--baseline", type=Path, help="an earlier run directory to compare against")
    parser.add_argument("--fail-on-regression", type=float, metavar="PCT",
                        help="exit 1 when a significant slowdown versus --baseline exceeds PCT percent, or when a "
                             "case's counters regressed (another plan, blocks beyond --blocks-threshold, an added "
                             "round trip or Redis command); also writes gate.json and gate.md into RUN_DIR")
    parser.add_argument("--blocks-threshold", type=float, metavar="PCT",
                        help="with --baseline: a case's shared or temp blocks up by more than PCT percent is a "
                             "counter regression (default 10: reports.counter_gate.BLOCKS_THRESHOLD_PCT)")
    parser.add_argument("--junit-xml", type=Path, metavar="PATH",
                        help="with --fail-on-regression: write each gated case as a JUnit test case to PATH, failed "
                             "when it regressed")


def run(config: Config, args: argparse.Namespace) -> int:
    """Write the report; with ``--fail-on-regression``, 1 when the gate finds a regression."""
    from balance_bench.reports.claims import judge_run
    from balance_bench.reports.counter_gate import BLOCKS_THRESHOLD_PCT, compare_counters
    from balance_bench.reports.gate import TIME, gate_regressions
    from balance_bench.reports.gate_document import gated, write_gate, write_junit
    from balance_bench.reports.load_section import write_load_report
    from balance_bench.reports.render import render_report, write_html
    from balance_bench.reports.runs import read_run
    from balance_bench.reports.verdict_document import write_verdicts

    pct = args.fail_on_regression
    if pct is not None and args.baseline is None:
        raise BenchError("--fail-on-regression needs --baseline OTHER_RUN_DIR to compare against")
    if args.junit_xml is not None and pct is None:
        raise BenchError("--junit-xml writes the regression gate's cases: give --baseline and --fail-on-regression")
    if args.junit_xml is not None and not args.junit_xml.parent.is_dir():
        raise BenchError(f"--junit-xml {args.junit_xml}: the folder {args.junit_xml.parent} does not exist")
    if pct is not None and (not math.isfinite(pct) or pct < 0):
        raise BenchError(f"--fail-on-regression {pct}: give a percentage of 0 or more")
    blocks_pct = args.blocks_threshold
    if blocks_pct is not None and args.baseline is None:
        raise BenchError("--blocks-threshold judges counters against a baseline: give --baseline OTHER_RUN_DIR")
    if blocks_pct is not None and (not math.isfinite(blocks_pct) or blocks_pct < 0):
        raise BenchError(f"--blocks-threshold {blocks_pct}: give a percentage of 0 or more")
    blocks_pct = BLOCKS_THRESHOLD_PCT if blocks_pct is None else blocks_pct
    current = read_run(args.run_dir)
    if not current.summary.cases and current.load_mode is not None:  # a load-only run (balance-bench load)
        if args.baseline is not None:
            raise BenchError(f"{args.run_dir} is a load run: --baseline compares benchmark matrix runs only")
        print(write_load_report(current.path))
        return 0
    baseline = read_run(args.baseline) if args.baseline is not None else None
    if pct is not None and baseline is not None:
        for run_ in (baseline, current):
            if run_.design.trials < MIN_GATE_TRIALS:
                raise BenchError(f"{run_.path}: {run_.design.trials} trial(s); the regression gate compares runs "
                                 f"trial by trial and needs at least {MIN_GATE_TRIALS} in each (balance-bench run "
                                 "makes 20)")
    judged = judge_run(current, config.network)
    counters = compare_counters(current, baseline, blocks_pct) if baseline is not None else []
    html, comparisons = render_report(current, baseline, pct, profiles=config.network, judged=judged,
                                      counters=counters, blocks_pct=blocks_pct)
    print(write_html(current.path, html))
    written = list(write_verdicts(current, judged[1]))
    if pct is None or baseline is None:
        print(f"also wrote: {', '.join(str(p) for p in written)}", file=sys.stderr)
        return 0
    if not comparisons:
        raise BenchError(f"{args.baseline}: no case matches a case of {args.run_dir} (other scales or matrix?), "
                         "so there is nothing to test for regressions")
    written += write_gate(current, baseline, comparisons, pct, counters, blocks_pct)
    if args.junit_xml is not None:
        written.append(write_junit(args.junit_xml, current, comparisons, pct, counters))
    print(f"also wrote: {', '.join(str(p) for p in written)}", file=sys.stderr)
    bad = gate_regressions(gated(comparisons), counters, pct)
    for found in bad:
        told = f"regression over {pct:g}%" if found.kind == TIME else "regression in counters"
        print(f"{told}: {found.line}", file=sys.stderr)
    return 1 if bad else 0
