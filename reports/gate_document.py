"""What the regression gate decided, for machines: ``gate.json``, ``gate.md`` and a JUnit XML file.

``report --baseline OLD --fail-on-regression PCT`` decides from the
comparisons of ``compare``; this module only writes that decision down, so a
CI system shows it natively: ``gate.json`` for scripts, ``gate.md`` for a job
summary or a pull-request comment, and JUnit XML (one test case per gated case,
failed when it regressed) for the test views most CI systems have. Reference
cases measure the machine and never gate, so they are not test cases.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from balance_bench import __version__
from balance_bench.coordinates import Kind
from balance_bench.errors import redact
from balance_bench.reports.compare import ALPHA, Comparison
from balance_bench.reports.runs import Run
from balance_bench.reports.verdict_document import markdown_cell, write_text
from balance_bench.results import GATE_FILE, GATE_MD_FILE

__all__ = ["FORMAT", "VERSION", "MAX_MD_ROWS", "gated", "gate_document", "gate_markdown", "junit_xml", "write_gate",
           "write_junit"]

FORMAT = "balance-bench-gate"
VERSION = 1
MAX_MD_ROWS = 25
"""gate.md lists every regression, then the largest other changes up to this many rows."""


def gated(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons the gate judges: every matched case except the reference (machine) cases."""
    return [c for c in comparisons if c.kind is not Kind.REFERENCE]


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: a change that cannot be formed (a zero median) is null."""
    return value if value is not None and math.isfinite(value) else None


def _entry(c: Comparison, pct: float) -> dict[str, Any]:
    return {
        "case": c.label,
        "coordinates": c.coords.as_dict(),
        "baseline_median_ms": c.baseline_median_ms,
        "current_median_ms": c.current_median_ms,
        "change_pct": _finite(c.change_pct),
        "change_vs_floor_pct": _finite(c.floor_change_pct),
        "p_two_sided": c.p_value,
        "p_gate": c.gate_p(pct),
        "detectable_pct": c.detectable_pct(pct),
        "verdict": "regression" if c.is_regression(pct) else c.verdict,
        "regression": c.is_regression(pct),
        "line": c.line(pct),
    }


def gate_document(current: Run, baseline: Run, comparisons: Sequence[Comparison], pct: float) -> dict[str, Any]:
    """The gate's decision: the threshold, the runs, how many cases it judged, which regressed, each case."""
    cases = gated(comparisons)
    regressed = [c for c in cases if c.is_regression(pct)]
    return {
        "format": FORMAT,
        "schema_version": VERSION,
        "generator": f"balance-bench {__version__}",
        "run": current.path.name,
        "baseline": redact(str(baseline.path)),
        "threshold_pct": pct,
        "alpha": ALPHA,
        "passed": not regressed,
        "gated": len(cases),
        "regressions": [c.label for c in regressed],
        "cases": [_entry(c, pct) for c in cases],
    }


def gate_markdown(current: Run, baseline: Run, comparisons: Sequence[Comparison], pct: float) -> str:
    """The decision in one line, then the regressions and the largest other changes as a short table."""
    cases = gated(comparisons)
    regressed = [c for c in cases if c.is_regression(pct)]
    verdict = (f"❌ **{len(regressed)} regression(s)** slower by more than {pct:g}%" if regressed
               else f"✅ **No regression**: no case shown slower by more than {pct:g}%")
    others = sorted((c for c in cases if not c.is_regression(pct)), key=lambda c: -c.change_pct)
    rows = [*regressed, *others][:max(MAX_MD_ROWS, len(regressed))]
    lines = [f"## Regression gate: `{current.path.name}` against `{baseline.path.name}`", "",
             f"{verdict} ({len(cases)} cases judged, one-sided test at p < {ALPHA:g}).", "",
             "| Case | Baseline ms | Current ms | Change | Gate p | Verdict |", "|---|---|---|---|---|---|"]
    for c in rows:
        gate_p = c.gate_p(pct)
        lines.append(f"| {markdown_cell(c.label)} | {c.baseline_median_ms:.4g} | {c.current_median_ms:.4g} | "
                     f"{c.change_pct:+.1f}% | {'n/a' if gate_p is None else f'{gate_p:.2g}'} | "
                     f"{'regression' if c.is_regression(pct) else c.verdict} |")
    if len(rows) < len(cases):
        lines += ["", f"_{len(cases) - len(rows)} more cases, none a regression, in `{GATE_FILE}`._"]
    return "\n".join(lines) + "\n"


def junit_xml(current: Run, comparisons: Sequence[Comparison], pct: float) -> str:
    """One JUnit test case per gated case: failed when it regressed, passed otherwise."""
    cases = gated(comparisons)
    regressed = [c for c in cases if c.is_regression(pct)]
    suite = ET.Element("testsuite", name=f"balance-bench regression gate ({pct:g}%)", tests=str(len(cases)),
                       failures=str(len(regressed)), errors="0", skipped="0")
    for c in cases:
        test = ET.SubElement(suite, "testcase", classname=f"balance_bench.gate.{c.coords.scale}", name=c.label,
                             time=f"{c.current_median_ms / 1000:.6f}")
        if c.is_regression(pct):
            failure = ET.SubElement(test, "failure", message=f"slower by more than {pct:g}%", type="regression")
            failure.text = c.line(pct)
        else:
            ET.SubElement(test, "system-out").text = c.line(pct)
    root = ET.Element("testsuites", name=f"balance-bench {current.path.name}")
    root.append(suite)
    ET.indent(root)
    return redact(ET.tostring(root, encoding="unicode", xml_declaration=True)) + "\n"


def write_gate(current: Run, baseline: Run, comparisons: Sequence[Comparison], pct: float) -> tuple[Path, Path]:
    """Write ``gate.json`` and ``gate.md`` into the current run's directory; returns their paths."""
    document = redact(json.dumps(gate_document(current, baseline, comparisons, pct), indent=1,
                                 ensure_ascii=False, allow_nan=False)) + "\n"
    return (write_text(current.path / GATE_FILE, document),
            write_text(current.path / GATE_MD_FILE, redact(gate_markdown(current, baseline, comparisons, pct))))


def write_junit(target: Path, current: Run, comparisons: Sequence[Comparison], pct: float) -> Path:
    """Write the JUnit XML to ``target`` (its folder must exist)."""
    return write_text(target, junit_xml(current, comparisons, pct))
