"""``balance-bench check``'s decision: the findings of one check and, given a baseline, its counters against it.

Without a baseline every finding fails the check. With one (``baseline``), a finding the baseline lists is known and
does not fail; a finding it does not list fails, and so does a counter regression (another plan, blocks beyond the
threshold, an added round trip or Redis command). Nothing here is timed, so one commit on one dataset is decided
the same way every time. The terminal, the Markdown and the JUnit file (``check_document``) all read this one result.
"""

from __future__ import annotations

from dataclasses import dataclass

from balance_bench.coordinates import Coordinates
from balance_bench.evidence import Evidence
from balance_bench.reports.baseline import (
    Baseline,
    BaselineComparison,
    CaseDifference,
    Counters,
    case_counters,
    compare_baseline,
)
from balance_bench.reports.counter_gate import BLOCKS_THRESHOLD_PCT
from balance_bench.reports.findings import MAX_SEQ_SCAN_ROWS, Finding, find

__all__ = ["CheckResult", "judge_check"]


@dataclass(frozen=True)
class CheckResult:
    """One check judged: what it ran on, every case, every finding and counter, and the baseline comparison if any."""

    scale: str
    cases: tuple[Coordinates, ...]
    servers: dict[str, str]
    max_seq_scan_rows: int
    findings: tuple[Finding, ...]
    counters: dict[Coordinates, Counters]
    comparison: BaselineComparison | None = None

    @property
    def failing_findings(self) -> tuple[Finding, ...]:
        """The findings that fail the check: all of them, or with a baseline the ones it does not list."""
        return self.comparison.new_findings if self.comparison is not None else self.findings

    @property
    def regressions(self) -> tuple[CaseDifference, ...]:
        """The cases whose counters regressed against the baseline (none without one)."""
        return self.comparison.regressions if self.comparison is not None else ()

    @property
    def passed(self) -> bool:
        return not self.failing_findings and not self.regressions


def judge_check(evidence: Evidence, max_seq_scan_rows: int = MAX_SEQ_SCAN_ROWS, baseline: Baseline | None = None,
                blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> CheckResult:
    """The findings and counters of ``evidence``, compared with ``baseline`` when one is given."""
    findings = tuple(find(evidence, max_seq_scan_rows))
    counters = case_counters(evidence)
    comparison = None
    if baseline is not None:
        comparison = compare_baseline(baseline, evidence, findings, counters, max_seq_scan_rows, blocks_pct)
    return CheckResult(evidence.scale, tuple(c.coords for c in evidence.cases), dict(evidence.servers),
                       max_seq_scan_rows, findings, counters, comparison)
