"""What the regression gate decided, for machines: ``gate.json``, ``gate.md`` and a JUnit XML file.

``report --baseline OLD --fail-on-regression PCT`` decides from the
comparisons of ``compare`` (time) and of ``counters`` (plan signature, blocks,
round trips and Redis commands), put together by ``gate``; this module only
writes that decision down, so a CI system shows it natively: ``gate.json`` for
scripts (each regression with its ``kind``, time or counters, and its
``cause``), ``gate.md`` for a job summary or a pull-request comment, and JUnit
XML (one test case per gated case, failed when it regressed by either kind, spelled by ``junit``) for
the test views most CI systems have. Reference cases measure the machine and
never gate, so they are not test cases.

``gate.json`` versions: 2 (each regression an object with its kind and cause;
each case's counters; the blocks threshold) is written; 1 listed the
regressed cases' labels only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from balance_bench import __version__
from balance_bench.coordinates import Kind
from balance_bench.errors import redact
from balance_bench.reports.counter_gate import BLOCKS_THRESHOLD_PCT, CounterComparison
from balance_bench.reports.gate import COUNTERS, TIME, Regression, gate_regressions
from balance_bench.reports.junit import Failure, TestCase, junit_document
from balance_bench.reports.runs import Run
from balance_bench.reports.time_gate import ALPHA, Comparison
from balance_bench.reports.verdict_document import markdown_cell, write_text
from balance_bench.results import GATE_FILE, GATE_MD_FILE

__all__ = ["FORMAT", "VERSION", "MAX_MD_ROWS", "gated", "gate_document", "gate_markdown", "junit_xml", "write_gate",
           "write_junit"]

FORMAT = "balance-bench-gate"
VERSION = 2
MAX_MD_ROWS = 25
"""gate.md lists every regression, then the largest other changes up to this many rows."""


def gated(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons the gate judges: every matched case except the reference (machine) cases."""
    return [c for c in comparisons if c.kind is not Kind.REFERENCE]


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: a change that cannot be formed (a zero median) is null."""
    return value if value is not None and math.isfinite(value) else None


def _counters_entry(counted: CounterComparison | None) -> dict[str, Any] | None:
    if counted is None:
        return None
    return {
        "verdict": counted.verdict,
        "changes": [{"counter": change.counter, "before": change.before, "after": change.after,
                     "regression": change.regression, "text": change.text} for change in counted.changes],
        "notes": list(counted.notes),
    }


def _entry(c: Comparison, pct: float, counted: CounterComparison | None) -> dict[str, Any]:
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
        "regression": c.is_regression(pct) or (counted is not None and counted.regression),
        "counters": _counters_entry(counted),
        "line": c.line(pct),
    }


def _regression(r: Regression) -> dict[str, Any]:
    return {"case": r.label, "coordinates": r.coords.as_dict(), "kind": r.kind, "cause": r.cause, "line": r.line}


def gate_document(current: Run, baseline: Run, comparisons: Sequence[Comparison], pct: float,
                  counters: Sequence[CounterComparison] = (),
                  blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> dict[str, Any]:
    """The gate's decision: the thresholds, the runs, how many cases it judged, each regression with its kind and
    cause, each case with its time and its counters."""
    cases = gated(comparisons)
    counted = {c.coords: c for c in counters}
    found = gate_regressions(cases, counters, pct)
    return {
        "format": FORMAT,
        "schema_version": VERSION,
        "generator": f"balance-bench {__version__}",
        "run": current.path.name,
        "baseline": redact(str(baseline.path)),
        "threshold_pct": pct,
        "blocks_threshold_pct": blocks_pct,
        "alpha": ALPHA,
        "passed": not found,
        "gated": len(cases),
        "regressions": [_regression(r) for r in found],
        "cases": [_entry(c, pct, counted.get(c.coords)) for c in cases],
    }


def _counters_cell(counted: CounterComparison | None) -> str:
    if counted is None:
        return "not compared"
    return "; ".join(change.text for change in sorted(counted.changes, key=lambda change: not change.regression)) \
        or "; ".join(counted.notes) or "same"


def _verdict_line(found: Sequence[Regression], cases: int, pct: float) -> str:
    judged = f"{cases} cases judged (time: one-sided test at p < {ALPHA:g})."
    if not found:
        return (f"✅ **No regression**: no case shown slower by more than {pct:g}%, and no plan, blocks, round trip "
                f"or Redis command count regressed. {judged}")
    slower = sum(r.kind == TIME for r in found)
    counted = sum(r.kind == COUNTERS for r in found)
    parts = [part for part, n in ((f"{slower} slower by more than {pct:g}%", slower),
                                  (f"{counted} by counters (another plan, more blocks, an added round trip or Redis "
                                   "command)", counted)) if n]
    return f"❌ **{len({r.coords for r in found})} regression(s)**: {'; '.join(parts)}. {judged}"


def gate_markdown(current: Run, baseline: Run, comparisons: Sequence[Comparison], pct: float,
                  counters: Sequence[CounterComparison] = ()) -> str:
    """The decision in one line, then the regressions and the largest other changes as a short table."""
    cases = gated(comparisons)
    counted = {c.coords: c for c in counters}
    found = gate_regressions(cases, counters, pct)
    regressed = {r.coords for r in found}
    first = [c for c in cases if c.coords in regressed]
    others = sorted((c for c in cases if c.coords not in regressed), key=lambda c: -c.change_pct)
    rows = [*first, *others][:max(MAX_MD_ROWS, len(first))]
    lines = [f"## Regression gate: `{current.path.name}` against `{baseline.path.name}`", "",
             _verdict_line(found, len(cases), pct), "",
             "| Case | Baseline ms | Current ms | Change | Gate p | Counters | Verdict |",
             "|---|---|---|---|---|---|---|"]
    for c in rows:
        gate_p = c.gate_p(pct)
        kinds = [r.kind for r in found if r.coords == c.coords]
        verdict = f"regression ({', '.join(kinds)})" if kinds else c.verdict
        lines.append(f"| {markdown_cell(c.label)} | {c.baseline_median_ms:.4g} | {c.current_median_ms:.4g} | "
                     f"{c.change_pct:+.1f}% | {'n/a' if gate_p is None else f'{gate_p:.2g}'} | "
                     f"{markdown_cell(_counters_cell(counted.get(c.coords)))} | {verdict} |")
    if len(rows) < len(cases):
        lines += ["", f"_{len(cases) - len(rows)} more cases, none a regression, in `{GATE_FILE}`._"]
    return "\n".join(lines) + "\n"


def _test_case(c: Comparison, pct: float, found: Sequence[Regression], other: CounterComparison | None) -> TestCase:
    mine = [r for r in found if r.coords == c.coords]
    failure = None
    if mine:
        message = "; ".join(f"slower by more than {pct:g}%" if r.kind == TIME else f"counters: {r.cause}"
                            for r in mine)
        failure = Failure(message, "regression", "\n".join(r.line for r in mine))
    return TestCase(f"balance_bench.gate.{c.coords.scale}", c.label, c.current_median_ms / 1000, failure,
                    c.line(pct) + ("" if other is None else f"\n{other.line()}"))


def junit_xml(current: Run, comparisons: Sequence[Comparison], pct: float,
              counters: Sequence[CounterComparison] = ()) -> str:
    """One JUnit test case per gated case: failed when it regressed (in time, counters or both), passed otherwise."""
    cases = gated(comparisons)
    found = gate_regressions(cases, counters, pct)
    counted = {c.coords: c for c in counters}
    return junit_document(f"balance-bench {current.path.name}", f"balance-bench regression gate ({pct:g}%)",
                          [_test_case(c, pct, found, counted.get(c.coords)) for c in cases])


def write_gate(current: Run, baseline: Run, comparisons: Sequence[Comparison], pct: float,
               counters: Sequence[CounterComparison] = (),
               blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> tuple[Path, Path]:
    """Write ``gate.json`` and ``gate.md`` into the current run's directory; returns their paths."""
    document = redact(json.dumps(gate_document(current, baseline, comparisons, pct, counters, blocks_pct), indent=1,
                                 ensure_ascii=False, allow_nan=False)) + "\n"
    return (write_text(current.path / GATE_FILE, document),
            write_text(current.path / GATE_MD_FILE, redact(gate_markdown(current, baseline, comparisons, pct,
                                                                         counters))))


def write_junit(target: Path, current: Run, comparisons: Sequence[Comparison], pct: float,
                counters: Sequence[CounterComparison] = ()) -> Path:
    """Write the JUnit XML to ``target`` (its folder must exist)."""
    return write_text(target, junit_xml(current, comparisons, pct, counters))
