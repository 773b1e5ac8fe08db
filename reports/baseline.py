"""The baseline a team commits: one check's counters per case and its findings, and a later check compared with it.

``balance-bench check --write-baseline FILE`` writes, for one scale and dataset, every case's counters
(``counters.COUNTERS`` less the hit/read split, which no rule compares: plan signature, shared and temp blocks, rows,
PostgreSQL and Redis round trips, Redis commands, bytes each way) and the findings of that check, which the file
thereby accepts. ``check --baseline FILE`` compares a new check with it by the counter gate's own rules
(``counters.counter_changes``): another plan, blocks up by more than the threshold, an added round trip or Redis
command per call is a regression; fewer of them, other rows, bytes beyond the threshold are changes, shown and not
failing. A finding the file does not list is new and fails; one it lists is known; one it lists that the check no
longer finds is resolved (shown; write the baseline again to drop it).

The file is JSON, written with sorted cases so a rewrite diffs line by line: ``format``, ``schema_version`` (1;
any other is refused), the scale and its dataset (a check of another scale or another dataset fingerprint is
refused: its counters are not comparable), the servers and planner settings (shown when they differ: a plan may
change with the PostgreSQL version alone), ``max_seq_scan_rows``, ``findings`` and ``cases``. Reading validates
every field and names the first bad one, on one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balance_bench import __version__
from balance_bench.coordinates import Coordinates
from balance_bench.errors import BenchError, redact
from balance_bench.evidence import Evidence
from balance_bench.plans.parser import plan_from_json
from balance_bench.plans.signature import plan_counters
from balance_bench.records import Fields, Kind, read_record, show
from balance_bench.reports.counter_gate import (
    BLOCKS,
    BLOCKS_THRESHOLD_PCT,
    EXACT,
    MORE,
    SHOWN,
    CounterChange,
    Value,
    counter_changes,
    values_of,
)
from balance_bench.reports.findings import ASSERTIONS, Finding
from balance_bench.reports.verdict_document import write_text

__all__ = ["FORMAT", "VERSION", "KEPT", "Counters", "Baseline", "CaseDifference", "BaselineComparison", "case_counters",
           "baseline_document", "write_baseline", "BASELINE", "read_baseline", "compare_baseline"]

FORMAT = "balance-bench-check-baseline"
VERSION = 1
KEPT: tuple[str, ...] = (*EXACT, *BLOCKS, *MORE, *SHOWN)
"""The counters a baseline keeps per case: every one a rule of ``counters`` compares or shows."""

Counters = dict[str, Value]


def case_counters(evidence: Evidence) -> dict[Coordinates, Counters]:
    """Every case's kept counters: its plan's (signature, blocks, rows) and its traffic's, None where it has none."""
    result: dict[Coordinates, Counters] = {}
    for case in evidence.cases:
        plan = plan_counters(plan_from_json(case.plan, case.coords.id)) if case.plan is not None else None
        values = values_of(plan, case.traffic)
        result[case.coords] = {name: values[name] for name in KEPT}
    return result


@dataclass(frozen=True)
class Baseline:
    """A baseline file as read: what it was written for, every case's counters, and the findings it accepts."""

    source: str
    scale: str
    dataset: dict[str, Any]
    servers: dict[str, str]
    max_seq_scan_rows: int
    counters: dict[Coordinates, Counters]
    findings: tuple[Finding, ...]

    def refuse_other_scale(self, scale: str) -> None:
        """A BenchError unless this baseline was written for ``scale``."""
        if scale != self.scale:
            raise BenchError(f"{self.source} is a baseline of scale {self.scale}; this check runs scale {scale} "
                             f"(write one with: balance-bench check --scale {scale} --write-baseline FILE)")

    def refuse_other_dataset(self, dataset: Mapping[str, Any]) -> None:
        """A BenchError unless this baseline was written on the dataset ``dataset`` describes (its fingerprint)."""
        self.refuse_other_scale(str(dataset.get("scale")))
        if dataset.get("fingerprint") != self.dataset.get("fingerprint"):
            raise BenchError(f"{self.source} was written on another {self.scale} dataset (fingerprint "
                             f"{self.dataset.get('fingerprint')}, seed {self.dataset.get('seed')}; this one is "
                             f"{dataset.get('fingerprint')}, seed {dataset.get('seed')}): its counters are not "
                             "comparable; write the baseline again on this dataset")


def _number(value: Value) -> int | float | str | None:
    """A counter as JSON writes it: a whole count without ``.0``."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _finding(finding: Finding) -> dict[str, Any]:
    return {"assertion": finding.assertion, "case": finding.coords.id, "coordinates": finding.coords.as_dict(),
            "message": finding.message}


def baseline_document(evidence: Evidence, findings: Sequence[Finding], counters: Mapping[Coordinates, Counters],
                      max_seq_scan_rows: int) -> dict[str, Any]:
    """The baseline of one check: the dataset and servers it ran on, its findings (accepted), every case's counters."""
    return {
        "format": FORMAT,
        "schema_version": VERSION,
        "generator": f"balance-bench {__version__}",
        "scale": evidence.scale,
        "dataset": evidence.dataset,
        "servers": evidence.servers,
        "settings": evidence.settings,
        "max_seq_scan_rows": max_seq_scan_rows,
        "findings": [_finding(f) for f in sorted(findings, key=lambda f: (f.coords, f.assertion, f.message))],
        "cases": [{"case": coords.id, "coordinates": coords.as_dict(),
                   "counters": {name: _number(value) for name, value in values.items()}}
                  for coords, values in sorted(counters.items())],
    }


def write_baseline(target: Path, evidence: Evidence, findings: Sequence[Finding],
                   counters: Mapping[Coordinates, Counters], max_seq_scan_rows: int) -> Path:
    """Write the baseline file to ``target`` (its folder must exist), atomically."""
    document = baseline_document(evidence, findings, counters, max_seq_scan_rows)
    return write_text(target, redact(json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False)) + "\n",
                      "the baseline")


# --- reading ------------------------------------------------------------------------------------------------


BASELINE = Kind(name="check baseline", format=FORMAT, readable=(VERSION,),
                advice="write the baseline again with this version (balance-bench check --write-baseline)",
                foreign="write one with balance-bench check --write-baseline FILE",
                missing="write one with balance-bench check --write-baseline FILE")
"""The baseline file as ``balance_bench.records`` reads it."""


def _counter(counters: Fields, name: str) -> Value:
    counters.require(name)
    if name in EXACT:
        value = counters.value(name, optional=True)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise counters.refuse(f"{counters.at(name)} is not a plan signature: {show(value)}")
        return value
    number = counters.number(name, optional=True)
    if number is not None and number < 0:
        raise counters.refuse(f"{counters.at(name)} is not a count: {show(counters.raw[name])}")
    return number


def _read_finding(r: Fields) -> Finding:
    assertion = r.text("assertion")
    if assertion not in ASSERTIONS:
        raise r.refuse(f"{r.at('assertion')} {assertion!r} is none of {', '.join(ASSERTIONS)}")
    coords = Coordinates.from_dict(r.mapping("coordinates"), r.place("coordinates"))
    return Finding(assertion, coords, r.text("message"))


def _read_case(r: Fields) -> tuple[Coordinates, Counters]:
    coords = Coordinates.from_dict(r.mapping("coordinates"), r.place("coordinates"))
    counters = r.obj("counters")
    return coords, {name: _counter(counters, name) for name in KEPT}


def read_baseline(path: Path) -> Baseline:
    """A validated baseline; anything else (unreadable, not JSON, another format or version, a bad field) is one
    BenchError line naming the file and what is wrong."""
    r, _ = read_record(path, BASELINE)
    cases = dict(_read_case(case) for case in r.items("cases"))
    return Baseline(
        source=str(path),
        scale=r.text("scale"),
        dataset=r.mapping("dataset"),
        servers={str(k): str(v) for k, v in r.mapping("servers").items()},
        max_seq_scan_rows=r.whole("max_seq_scan_rows"),
        counters=cases,
        findings=tuple(_read_finding(finding) for finding in r.items("findings")),
    )


# --- comparing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDifference:
    """One case whose counters differ from the baseline's, each change judged by the counter gate's rules."""

    coords: Coordinates
    changes: tuple[CounterChange, ...]

    @property
    def regression(self) -> bool:
        return any(change.regression for change in self.changes)

    @property
    def line(self) -> str:
        """``tiny find_by_id [...]: Index Scan using balances_pkey on balances → Seq Scan on balances``; regressed
        counters first."""
        ordered = sorted(self.changes, key=lambda change: not change.regression)
        return f"{self.coords.label}: {'; '.join(change.text for change in ordered)}"


@dataclass(frozen=True)
class BaselineComparison:
    """A check against a baseline: the cases whose counters differ, the findings new, known and resolved, and what
    could not be compared."""

    source: str
    differences: tuple[CaseDifference, ...]
    new_findings: tuple[Finding, ...]
    known_findings: tuple[Finding, ...]
    resolved_findings: tuple[Finding, ...]
    notes: tuple[str, ...]

    @property
    def regressions(self) -> tuple[CaseDifference, ...]:
        """The cases whose counters regressed: each fails the check."""
        return tuple(d for d in self.differences if d.regression)

    @property
    def changes(self) -> tuple[CaseDifference, ...]:
        """The cases whose counters changed without regressing: shown, not failing."""
        return tuple(d for d in self.differences if not d.regression)


def _cases_text(coords: Sequence[Coordinates]) -> str:
    shown = ", ".join(c.label for c in coords[:3])
    return shown + (f" and {len(coords) - 3} more" if len(coords) > 3 else "")


def compare_baseline(baseline: Baseline, evidence: Evidence, findings: Sequence[Finding],
                     counters: Mapping[Coordinates, Counters], max_seq_scan_rows: int,
                     blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> BaselineComparison:
    """A check (its evidence, findings and counters) against ``baseline``: counters case by case, findings by value."""
    differences = []
    for coords, now in counters.items():
        before = baseline.counters.get(coords)
        changes = counter_changes(before, now, blocks_pct) if before is not None else ()
        if changes:
            differences.append(CaseDifference(coords, changes))
    accepted = set(baseline.findings)
    notes = []
    added = [c for c in counters if c not in baseline.counters]
    gone = [c for c in baseline.counters if c not in counters]
    if added:
        notes.append(f"{len(added)} case(s) not in the baseline, not compared: {_cases_text(added)}")
    if gone:
        notes.append(f"{len(gone)} case(s) of the baseline this check no longer has: {_cases_text(gone)}")
    for server, version in evidence.servers.items():
        if baseline.servers.get(server, version) != version:
            notes.append(f"the baseline ran on {server} {baseline.servers[server]}, this check on {version}: a plan "
                         "may differ for that reason alone")
    if baseline.max_seq_scan_rows != max_seq_scan_rows:
        notes.append(f"the baseline flagged Seq Scans over {baseline.max_seq_scan_rows:,} rows, this check over "
                     f"{max_seq_scan_rows:,}")
    return BaselineComparison(
        source=baseline.source,
        differences=tuple(differences),
        new_findings=tuple(f for f in findings if f not in accepted),
        known_findings=tuple(f for f in findings if f in accepted),
        resolved_findings=tuple(f for f in baseline.findings if f not in set(findings)),
        notes=tuple(notes),
    )
