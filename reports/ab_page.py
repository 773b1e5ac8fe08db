"""The A/B's page for a reviewer (``ab.html``): the answer first, the two sides, the regressions, then every case.

Rendered from the judged result (``reports.ab``), which is judged from the two
sides' saved run directories; self-contained (inline CSS), passwords redacted.
Every table has at most five columns and one figure per cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from balance_bench.errors import redact
from balance_bench.reports.ab import ABResult, ordered_cases
from balance_bench.reports.tables import html_table, ms
from balance_bench.reports.time_gate import ALPHA
from balance_bench.reports.verdict_document import write_text

__all__ = ["AB_PAGE_FILE", "render_ab", "write_ab_page"]

AB_PAGE_FILE = "ab.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "ab.html.j2"


def _sides_frame(result: ABResult) -> pd.DataFrame:
    def settings(side: Any) -> str:
        return ", ".join(f"{k}={v}" for k, v in (side.get("settings") or {}).items()) or "server defaults"

    return pd.DataFrame([{"side": side.get("side"), "role": side.get("role"), "model": side.get("model"),
                          "settings": settings(side), "PostgreSQL": side.get("postgres")} for side in result.sides],
                        columns=["side", "role", "model", "settings", "PostgreSQL"])


def _regressions_frame(result: ABResult) -> pd.DataFrame:
    rows = [{"evidence": "time", "case": c.label, "change": c.interval_text(),
             "ms a → b": f"{ms(c.baseline_ms)} → {ms(c.candidate_ms)}"} for c in result.regressions]
    rows += [{"evidence": "counters", "case": c.label, "change": c.cause, "ms a → b": c.time.removesuffix(" ms")}
             for c in result.counter_regressions]
    return pd.DataFrame(rows, columns=["evidence", "case", "change", "ms a → b"])


def _cases_frame(result: ABResult) -> pd.DataFrame:
    rows = [{"case": c.label, "ms a → b": f"{ms(c.baseline_ms)} → {ms(c.candidate_ms)}",
             "change [95% CI]": c.interval_text(),
             "detects": "—" if c.detectable_pct is None else f"{c.detectable_pct:.1f}%", "verdict": c.verdict}
            for c in ordered_cases(result)]
    return pd.DataFrame(rows, columns=["case", "ms a → b", "change [95% CI]", "detects", "verdict"])


def _counters_frame(result: ABResult) -> pd.DataFrame:
    rows = [{"case": c.label, "what differs": c.cause or "; ".join(ch.text for ch in c.changes),
             "counters": c.verdict} for c in sorted(result.counters, key=lambda c: not c.regression) if c.changes]
    return pd.DataFrame(rows, columns=["case", "what differs", "counters"])


def render_ab(result: ABResult) -> str:
    """The page's HTML."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    scales = ", ".join(dict.fromkeys(c.coords.scale for c in result.cases)) or "—"
    html = env.get_template(TEMPLATE).render(
        failed=result.failed, summary=result.summary_line(), trials=result.trials, scales=scales,
        threshold=f"{result.threshold_pct:g}", blocks=f"{result.blocks_pct:g}", alpha=f"{ALPHA:g}",
        regression_count=len(result.regressions) + len(result.counter_regressions),
        sides=html_table(_sides_frame(result), "sides"), regressions=html_table(_regressions_frame(result), "found"),
        cases=html_table(_cases_frame(result), "cases"), counters=html_table(_counters_frame(result), "counters"),
    )
    return redact(html)


def write_ab_page(directory: Path, result: ABResult) -> Path:
    """Write ``ab.html`` into the A/B directory atomically and return its path."""
    return write_text(directory / AB_PAGE_FILE, render_ab(result), "the A/B page")
