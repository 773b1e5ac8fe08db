"""The headline in a terminal: what an engineer sees when ``balance-bench run`` ends, at most ``WIDTH`` columns.

The same rows as the report's "Does the guide hold here?" (``claim_tables.headline_rows``), without the
sentence saying why (that is one click away in the report and in ``verdicts.md``): a terminal line should
hold one row. Colours only on a terminal; a CI log gets plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from balance_bench.reports.claim_tables import headline_rows
from balance_bench.reports.claims import ClaimVerdict, headline, label_counts, tone
from balance_bench.terminal import interactive

__all__ = ["WIDTH", "STYLES", "headline_console", "print_headline"]

WIDTH = 100
STYLES = {"good": "green", "bad": "bold red", "neutral": "dim"}


def headline_console(file: TextIO) -> Console:
    """A console for ``file`` at most ``WIDTH`` wide; colour only when a person watches it (``interactive``)."""
    terminal = interactive(file)
    width = min(WIDTH, Console(file=file).width) if terminal else WIDTH
    return Console(file=file, width=width, force_terminal=terminal, no_color=not terminal, highlight=False,
                   soft_wrap=False)


def print_headline(console: Console, claims: Sequence[ClaimVerdict]) -> None:
    """The headline table and one line of label counts; a line saying so when nothing could be judged."""
    rows = headline_rows(claims)
    if not rows:
        console.print("No claim of the guide could be judged from this run.")
        return
    table = Table(title="Does the guide hold here?", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False)
    # Minimum widths keep every column readable on a narrow terminal: the figures fold rather than the claim vanish.
    table.add_column("Claim", min_width=16, overflow="fold")
    table.add_column("Guide", min_width=8, overflow="fold")
    table.add_column("Measured here", min_width=12, overflow="fold")
    table.add_column("Verdict", min_width=13, no_wrap=True)
    for row in rows:
        table.add_row(row.claim, row.guide, row.measured, f"[{STYLES[row.tone]}]{row.label}[/]")
    console.print(table)
    counts = label_counts(headline(claims))
    console.print("  ".join(f"[{STYLES[tone(label)]}]{n} {label}[/]" for label, n in counts.items()))
