"""``balance-bench doctor``: the guide's troubleshooting list as PASS/WARN/FAIL lines with remedies."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from balance_bench.config import DATASET, SERVICE, Config

NAME = "doctor"
HELP = "check the guide's troubleshooting list against live servers"
OPTIONS = (*SERVICE, *DATASET)
if TYPE_CHECKING:
    from rich.console import Console

    from balance_bench.doctor import Check

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond the shared service and dataset options."""


def print_checks(checks: list[Check], console: Console) -> None:
    """One coloured line per check, its remedy below."""
    for check in checks:
        console.print(f"[{_STYLE[check.status]}]{check.status.upper():4}[/] {check.name}: {check.message}")
        if check.remedy:
            console.print(f"     remedy: {check.remedy}")


def run(config: Config, args: argparse.Namespace) -> int:
    """Print each check; 1 if any failed."""
    from rich.console import Console

    from balance_bench.doctor import diagnose_scales

    checks = diagnose_scales(config)
    print_checks(checks, Console(highlight=False))
    return 1 if any(c.status == "fail" for c in checks) else 0
