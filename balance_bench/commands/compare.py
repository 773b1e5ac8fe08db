"""``balance-bench compare RUN RUN [RUN...] [--output FILE]``: one HTML page over runs against different targets."""

from __future__ import annotations

import argparse
from pathlib import Path

from balance_bench.config import Config

NAME = "compare"
HELP = "compare runs made against different targets (servers, versions, settings) in one HTML page"
OPTIONS: tuple[str, ...] = ()
DEFAULT_OUTPUT = Path("comparison.html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Two or more run directories, and where the page goes."""
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN", help="run directories (at least two)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"the HTML file to write (default: {DEFAULT_OUTPUT})")


def run(config: Config, args: argparse.Namespace) -> int:
    """Load every run, refuse incomparable ones, write the page and print its path."""
    from balance_bench.reports.runs import read_run
    from balance_bench.reports.targets import write_comparison

    runs = [read_run(path) for path in args.run_dirs]
    print(write_comparison(runs, args.output))
    return 0
