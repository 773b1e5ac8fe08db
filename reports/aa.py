"""The A/A self-check: two runs of the same commit, compared as the regression gate would compare them.

Nothing changed between the two runs, so every difference is this machine's
noise, and every case the gate flags is a false alarm. Per case the check
states how far the two runs landed apart (plainly and against the transport
floor), the gate's p-value, and the smallest regression the gate could detect
at the chosen threshold given the trial-to-trial spread: the threshold plus
what the spread costs. The threshold a team gates on should sit above the
distance between the runs, and the detectable figure says how far beyond it a
slowdown must go to be caught.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from balance_bench.coordinates import Kind
from balance_bench.reports.runs import Run
from balance_bench.reports.time_gate import compare_runs
from balance_bench.statistics import median_or_none, resolved_by_share

__all__ = ["AACase", "AAResult", "aa_result", "write_aa", "AA_FILE"]

AA_FILE = "aa.json"


@dataclass(frozen=True)
class AACase:
    """One case in both runs of the same commit."""

    case: str
    kind: Kind
    change_pct: float
    floor_change_pct: float | None
    p_value: float | None  # two-sided: did the case move at all?
    gate_p: float | None  # one-sided: is it slower by more than the threshold?
    detectable_pct: float | None  # the smallest true slowdown the gate flags at the threshold with POWER
    flagged: bool  # the gate would call this a regression at the threshold: a false alarm


@dataclass(frozen=True)
class AAResult:
    """What this machine can resolve, from two runs of the same commit."""

    first: str
    second: str
    threshold_pct: float
    trials: tuple[int, int]
    cases: tuple[AACase, ...]

    @property
    def false_alarms(self) -> list[AACase]:
        return [c for c in self.cases if c.flagged]

    @property
    def gated(self) -> list[AACase]:
        """The cases the gate judges (reference cases measure the machine and never gate)."""
        return [c for c in self.cases if c.kind is not Kind.REFERENCE]

    @property
    def median_abs_change_pct(self) -> float | None:
        """Median over cases of how far apart the two runs landed, against the floor where measured."""
        values = [abs(c.floor_change_pct if c.floor_change_pct is not None else c.change_pct) for c in self.gated]
        return median_or_none(values)

    @property
    def median_detectable_pct(self) -> float | None:
        values = [c.detectable_pct for c in self.gated if c.detectable_pct is not None]
        return median_or_none(values)

    @property
    def resolvable_pct(self) -> float | None:
        """The smallest slowdown the gate at the threshold would detect (with POWER) in 90% of the cases."""
        return resolved_by_share([c.detectable_pct for c in self.gated if c.detectable_pct is not None])

    def to_json(self) -> str:
        doc = {**asdict(self), "false_alarms": len(self.false_alarms),
               "median_abs_change_pct": self.median_abs_change_pct,
               "median_detectable_pct": self.median_detectable_pct, "resolvable_pct": self.resolvable_pct}
        return json.dumps(doc, indent=1)


def aa_result(first: Run, second: Run, threshold_pct: float) -> AAResult:
    """Compare ``second`` with ``first`` (same commit) case by case, as the gate does."""
    cases = tuple(
        AACase(case=c.label, kind=c.kind, change_pct=c.change_pct, floor_change_pct=c.floor_change_pct,
               p_value=c.p_value, gate_p=c.gate_p(threshold_pct), detectable_pct=c.detectable_pct(threshold_pct),
               flagged=c.is_regression(threshold_pct))
        for c in compare_runs(second, first)
    )
    return AAResult(first=str(first.path), second=str(second.path), threshold_pct=threshold_pct,
                    trials=(first.design.trials, second.design.trials), cases=cases)


def write_aa(directory: Path, result: AAResult) -> Path:
    """Write ``aa.json`` into ``directory``."""
    path = directory / AA_FILE
    path.write_text(result.to_json(), encoding="utf-8")
    return path
