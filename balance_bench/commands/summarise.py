"""``balance-bench summarise RUN_DIR``: analyse a run's raw artifacts into summary.json (after a plain pytest run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from balance_bench.config import Config

NAME = "summarise"
HELP = "analyse a run directory's benchmarks.json and plans into summary.json (after pytest bench/)"
OPTIONS: tuple[str, ...] = ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run directory."""
    parser.add_argument("run_dir", type=Path)


def run(config: Config, args: argparse.Namespace) -> int:
    """Write summary.json and print its path."""
    from balance_bench.bench.summary import summarise

    print(summarise(args.run_dir))
    return 0
