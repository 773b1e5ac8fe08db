"""What ``balance-bench check`` decided, written down: the terminal's answer-first summary, Markdown, JUnit XML.

All three read one ``CheckResult`` (``check``), so they cannot disagree. The terminal starts with the answer
(``check passed: 0 findings in 104 cases (scale tiny; ...)``) and then lists one line per item, failing ones first;
the Markdown (``--markdown``) is for a job summary or a pull-request comment; the JUnit file (``--junit-xml``) has
one test case per case of the check, failed when it has a failing finding or a counter regression.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from balance_bench.coordinates import Coordinates
from balance_bench.errors import redact
from balance_bench.evidence import SERVERS
from balance_bench.reports.baseline import CaseDifference
from balance_bench.reports.check import CheckResult
from balance_bench.reports.findings import ASSERTIONS, Finding
from balance_bench.reports.junit import Failure, TestCase, junit_document
from balance_bench.reports.verdict_document import markdown_cell, write_text

__all__ = ["NEW", "FINDING", "KNOWN", "RESOLVED", "REGRESSION", "CHANGED", "NOTE", "ACCEPTED", "headline",
           "written_lines", "summary_lines", "check_markdown", "check_junit", "write_markdown", "write_junit"]

NEW, FINDING, KNOWN, RESOLVED = "new", "finding", "known", "resolved"
"""A finding's status: new (not in the baseline: fails), finding (no baseline: fails), known (in the baseline),
resolved (in the baseline, no longer found)."""
REGRESSION, CHANGED, NOTE = "regression", "changed", "note"
"""A counter difference's status (regression fails, changed does not), and what could not be compared."""
ACCEPTED = "accepted"
"""A finding of a check that wrote a baseline and compared with none: the file written accepts it."""


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _where(result: CheckResult) -> str:
    servers = ", ".join(f"{name} {result.servers.get(key, '?')}" for key, name in SERVERS.items())
    return f"scale {result.scale}; copies without and with 012; {servers}"


def headline(result: CheckResult) -> str:
    """The answer in one line: passed or failed, what fails, how many cases, and what it ran on."""
    verdict = "check passed" if result.passed else "check failed"
    comparison = result.comparison
    if comparison is None:
        return f"{verdict}: {_count(len(result.findings), 'finding')} in {len(result.cases)} cases ({_where(result)})"
    known, changed = _count(len(comparison.known_findings), "known finding"), _count(len(comparison.changes),
                                                                                      "counter change")
    return (f"{verdict}: {_count(len(comparison.new_findings), 'new finding')} and "
            f"{_count(len(comparison.regressions), 'counter regression')} in {len(result.cases)} cases against "
            f"{Path(comparison.source).name} ({_where(result)}); {known}, {changed}")


def _items(result: CheckResult) -> Iterator[tuple[str, str]]:
    """(status, line) of everything worth a line, failing ones first."""
    comparison = result.comparison
    if comparison is None:
        yield from ((FINDING, f.line) for f in result.findings)
        return
    yield from ((NEW, f.line) for f in comparison.new_findings)
    yield from ((REGRESSION, d.line) for d in comparison.regressions)
    yield from ((KNOWN, f.line) for f in comparison.known_findings)
    yield from ((RESOLVED, f.line) for f in comparison.resolved_findings)
    yield from ((CHANGED, d.line) for d in comparison.changes)
    yield from ((NOTE, note) for note in comparison.notes)


def written_lines(result: CheckResult, target: Path) -> list[str]:
    """The terminal's summary of a check that wrote a baseline (and compared with none): what the file holds, then
    each finding it accepts."""
    return [f"check wrote the baseline {target}: {len(result.cases)} cases' counters, "
            f"{_count(len(result.findings), 'finding')} accepted ({_where(result)})",
            *(f"  {ACCEPTED:<10}  {f.line}" for f in result.findings)]


def summary_lines(result: CheckResult) -> list[str]:
    """The terminal's summary: the headline, then one line per item (``  new         index: tiny ...``)."""
    return [headline(result), *(f"  {status:<10}  {line}" for status, line in _items(result))]


def _finding_rows(result: CheckResult) -> list[tuple[str, Finding]]:
    comparison = result.comparison
    if comparison is None:
        return [(f"❌ {FINDING}", f) for f in result.findings]
    return [*((f"❌ {NEW}", f) for f in comparison.new_findings),
            *((f"⚪ {KNOWN}", f) for f in comparison.known_findings),
            *((f"✅ {RESOLVED}", f) for f in comparison.resolved_findings)]


def _difference_rows(differences: Sequence[CaseDifference]) -> list[str]:
    return [f"| {markdown_cell(d.coords.label)} | {markdown_cell(d.line.removeprefix(d.coords.label + ': '))} | "
            f"{'❌ ' + REGRESSION if d.regression else '⚪ ' + CHANGED} |" for d in differences]


def check_markdown(result: CheckResult) -> str:
    """The decision in one line, the findings as a table, the counter differences against the baseline, the notes."""
    mark = "✅" if result.passed else "❌"
    lines = [f"## balance-bench check: scale `{result.scale}`", "", f"{mark} {headline(result)}", ""]
    findings = _finding_rows(result)
    if findings:
        lines += ["| Status | Assertion | Case | What |", "|---|---|---|---|"]
        lines += [f"| {status} | {f.assertion} | {markdown_cell(f.coords.label)} | {markdown_cell(f.message)} |"
                  for status, f in findings]
        lines.append("")
    comparison = result.comparison
    if comparison is not None:
        lines += [f"### Counters against `{Path(comparison.source).name}`", ""]
        if comparison.differences:
            lines += ["| Case | Changes | Verdict |", "|---|---|---|",
                      *_difference_rows([*comparison.regressions, *comparison.changes]), ""]
        else:
            lines += ["Every case's counters are the baseline's (blocks within the threshold).", ""]
        lines += [*(f"- {markdown_cell(note)}" for note in comparison.notes), *([""] if comparison.notes else [])]
    lines += ["What it asserts: " + "; ".join(f"**{name}**: {text}" for name, text in ASSERTIONS.items()) +
              f" (more than {result.max_seq_scan_rows:,} rows)."]
    return redact("\n".join(lines)) + "\n"


def _test_case(result: CheckResult, coords: Coordinates) -> TestCase:
    comparison = result.comparison
    failing = [f for f in result.failing_findings if f.coords == coords]
    regressed = [d for d in result.regressions if d.coords == coords]
    failure = None
    if failing or regressed:
        message = "; ".join([*(f"{f.assertion}: {f.message}" for f in failing),
                             *(f"counters: {d.line.removeprefix(coords.label + ': ')}" for d in regressed)])
        failure = Failure(message, "finding" if failing else REGRESSION,
                          "\n".join([*(f.line for f in failing), *(d.line for d in regressed)]))
    others = [] if comparison is None else [
        *(f"{KNOWN}: {f.line}" for f in comparison.known_findings if f.coords == coords),
        *(f"{CHANGED}: {d.line}" for d in comparison.changes if d.coords == coords)]
    return TestCase(f"balance_bench.check.{result.scale}", coords.label, failure=failure,
                    output="\n".join(others) or None)


def check_junit(result: CheckResult) -> str:
    """One JUnit test case per case of the check: failed when it has a failing finding or a counter regression."""
    return junit_document(f"balance-bench check {result.scale}", f"balance-bench check ({result.scale})",
                          [_test_case(result, coords) for coords in result.cases])


def write_markdown(target: Path, result: CheckResult) -> Path:
    """Write the Markdown to ``target`` (its folder must exist)."""
    return write_text(target, check_markdown(result), "the Markdown")


def write_junit(target: Path, result: CheckResult) -> Path:
    """Write the JUnit XML to ``target`` (its folder must exist)."""
    return write_text(target, check_junit(result), "the JUnit XML")
