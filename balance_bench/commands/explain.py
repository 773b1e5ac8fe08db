"""``balance-bench explain PLAN_FILE [--json]``: one plan's tree with exclusive times and findings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from balance_bench.config import Config

NAME = "explain"
HELP = "analyse an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plan file"
OPTIONS: tuple[str, ...] = ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The plan file, and the output form."""
    parser.add_argument("plan_file", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the text tree")


def explain(path: Path, as_json: bool) -> int:
    """Analyse a saved plan and print it; a PlanError (one line) on a file that is not a plan."""
    from balance_bench.plans.analysis import analyse, render_text
    from balance_bench.plans.parser import read_plan

    analysis = analyse(read_plan(path))
    print(json.dumps(analysis.to_dict(), indent=2) if as_json else render_text(analysis))
    return 0


def run(config: Config, args: argparse.Namespace) -> int:
    """Print the plan file's analysis."""
    return explain(args.plan_file, args.json)
