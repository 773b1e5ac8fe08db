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

    from balance_bench.bench.doctor import Check

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "info": "cyan"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond the shared service and dataset options."""


def print_checks(checks: list[Check], console: Console) -> None:
    """One coloured line per check, its remedy below."""
    from rich.markup import escape

    for check in checks:
        # Messages are data (Redis keys such as balance:id:7 would otherwise become emoji): escaped, never wrapped.
        status = f"[{_STYLE[check.status]}]{check.status.upper():4}[/]"
        console.print(f"{status} {escape(check.name)}: {escape(check.message)}", soft_wrap=True)
        if check.remedy:
            console.print(f"     remedy: {escape(check.remedy)}", soft_wrap=True)


def run(config: Config, args: argparse.Namespace) -> int:
    """Print each check; 1 if any failed (warnings and info lines do not)."""
    from rich.console import Console

    from balance_bench.bench.doctor import diagnose_scales

    checks = diagnose_scales(config)
    print_checks(checks, Console(highlight=False, emoji=False))
    return 1 if any(c.status == "fail" for c in checks) else 0
