"""An in-run A/B judged: candidate against baseline within each trial, and a regression verdict on that interval.

``balance-bench ab`` timed both sides of every case in the same trials, back
to back in random order (``bench.sides``), and left one run directory per side
(``a``: baseline, ``b``: candidate). Per case and trial the ratio candidate /
baseline is taken from the two medians measured seconds apart; across trials
the ratio is the trimmed geometric mean with Yuen's interval, like every
ratio of the suite. Because the pairing removes the drift between trials, the
interval is several times narrower than the one a comparison of two separate
runs can state (``reports.time_gate``), so the gate resolves small slowdowns.

The regression verdict keeps the gate's question: is the candidate slower by
MORE than the threshold, shown at ``ALPHA`` (one-sided, against the margin) and
beyond it in plain terms? Each case also states the smallest slowdown it
would catch with ``POWER``. The counters of the two sides (plan signatures,
blocks, round trips) are compared as ``report --baseline`` compares them: a
changed plan is a regression whatever the timing says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balance_bench.coordinates import OPTIMIZED, Coordinates, Migration, Side
from balance_bench.reports.counter_gate import BLOCKS_THRESHOLD_PCT, CounterComparison, compare_counters
from balance_bench.reports.runs import Run
from balance_bench.reports.tables import ms
from balance_bench.reports.time_gate import ALPHA, FASTER, NO_CHANGE, NOT_TESTED, POWER, SLOWER, below_alpha
from balance_bench.reports.verdict_document import write_text
from balance_bench.statistics import (
    Estimate,
    TrialValues,
    median_or_none,
    paired_detectable_pct,
    paired_margin_p,
    paired_p,
    paired_values,
    ratio_estimate,
    resolved_by_share,
)

__all__ = ["AB_FILE", "AB_MD_FILE", "AB_FORMAT", "AB_VERSION", "THRESHOLD_PCT", "REGRESSION", "ABCase", "ABResult",
           "ab_case", "judge_ab", "ab_markdown", "write_ab", "ordered_cases"]

AB_FILE = "ab.json"
AB_MD_FILE = "ab.md"
AB_FORMAT = "balance-bench-ab"
AB_VERSION = 1
THRESHOLD_PCT = 5.0
"""The default threshold of the in-run gate: measured here, two sides of one revision in one run land within a
few percent of each other, and a case resolves about 10% at ``small`` (docs/ab.md quotes the figures)."""
REGRESSION = "regression"
_MD_LINES = 40


@dataclass(frozen=True)
class ABCase:
    """One case on both sides of the A/B: the within-trial ratio, its interval, and the gate's answer."""

    coords: Coordinates
    baseline_ms: float  # median of every round of the side
    candidate_ms: float
    ratio: Estimate | None  # candidate / baseline within each trial, across trials; None without a shared trial
    p_value: float | None  # two-sided: did the case move at all?
    gate_p: float | None  # one-sided: slower by more than the threshold?
    detectable_pct: float | None  # the smallest true slowdown the gate flags with POWER
    threshold_pct: float

    @property
    def label(self) -> str:
        return self.coords.label

    @property
    def short_label(self) -> str:
        """The case in a narrow column: ``find_by_id cold 012 balance`` (scale and the default projection left
        out; the full label is in ``ab.json``)."""
        c = self.coords
        parts = [c.query, str(c.cache), "012" if c.migration is Migration.WITH_012 else "no 012"]
        if c.projection != OPTIMIZED:
            parts.append(c.projection)
        return " ".join([*parts, c.param_kind])

    @property
    def change_pct(self) -> float | None:
        return None if self.ratio is None else (self.ratio.value - 1.0) * 100.0

    @property
    def regression(self) -> bool:
        """Shown (gate p < ALPHA) to be slower by more than the threshold, and beyond it in plain terms."""
        change = self.change_pct
        return change is not None and change > self.threshold_pct and below_alpha(self.gate_p)

    @property
    def verdict(self) -> str:
        if self.regression:
            return REGRESSION
        if self.p_value is None or self.ratio is None:
            return NOT_TESTED
        if not below_alpha(self.p_value):
            return NO_CHANGE
        return SLOWER if self.ratio.value > 1 else FASTER

    def interval_text(self) -> str:
        """``+21.3% [+18.9, +23.8]`` (no interval with one trial)."""
        if self.ratio is None:
            return "—"
        change = (self.ratio.value - 1) * 100
        if self.ratio.low is None or self.ratio.high is None:
            return f"{change:+.1f}%"
        return f"{change:+.1f}% [{(self.ratio.low - 1) * 100:+.1f}, {(self.ratio.high - 1) * 100:+.1f}]"

    def line(self) -> str:
        """One line: the case, both sides' medians, the change with its interval, the gate's p."""
        trials = self.ratio.trials if self.ratio is not None else 0
        gate = "n/a" if self.gate_p is None else f"{self.gate_p:.2g}"
        return (f"{self.label}: {ms(self.baseline_ms)} → {ms(self.candidate_ms)} ms, {self.interval_text()} over "
                f"{trials} paired trials; gate p={gate} for slower by more than {self.threshold_pct:g}%")

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.label, "coordinates": self.coords.as_dict(), "baseline_ms": self.baseline_ms,
                "candidate_ms": self.candidate_ms, "change_pct": self.change_pct,
                "ratio": None if self.ratio is None else self.ratio.as_list(), "p_value": self.p_value,
                "gate_p": self.gate_p, "detectable_pct": self.detectable_pct, "verdict": self.verdict}


def ab_case(coords: Coordinates, baseline: TrialValues, candidate: TrialValues, baseline_ms: float,
            candidate_ms: float, threshold_pct: float) -> ABCase:
    """Judge one case from its per-trial medians on each side (ms by trial number)."""
    ratios = [b / a for a, b in paired_values(baseline, candidate) if a > 0 and b > 0]
    return ABCase(coords=coords, baseline_ms=baseline_ms, candidate_ms=candidate_ms,
                  ratio=ratio_estimate(candidate, baseline), p_value=paired_p(ratios),
                  gate_p=paired_margin_p(ratios, threshold_pct),
                  detectable_pct=paired_detectable_pct(ratios, ALPHA, POWER, threshold_pct),
                  threshold_pct=threshold_pct)


@dataclass(frozen=True)
class ABResult:
    """The A/B's answer: time verdicts per case, counter comparisons, and what the design could resolve."""

    directory: str
    threshold_pct: float
    blocks_pct: float
    sides: tuple[Mapping[str, Any], ...]
    trials: int
    cases: tuple[ABCase, ...]
    counters: tuple[CounterComparison, ...]

    @property
    def regressions(self) -> list[ABCase]:
        return [c for c in self.cases if c.regression]

    @property
    def counter_regressions(self) -> list[CounterComparison]:
        return [c for c in self.counters if c.regression]

    @property
    def failed(self) -> bool:
        return bool(self.regressions or self.counter_regressions)

    @property
    def median_abs_change_pct(self) -> float | None:
        values = [abs(c.change_pct) for c in self.cases if c.change_pct is not None]
        return median_or_none(values)

    @property
    def median_detectable_pct(self) -> float | None:
        values = [c.detectable_pct for c in self.cases if c.detectable_pct is not None]
        return median_or_none(values)

    @property
    def resolvable_pct(self) -> float | None:
        """The slowdown that 90% of the cases resolve (each flags it with POWER)."""
        return resolved_by_share([c.detectable_pct for c in self.cases if c.detectable_pct is not None])

    def summary_line(self) -> str:
        """The answer in one line, with the design's resolution (``aa``'s figures, within one run)."""
        def pct(value: float | None) -> str:
            return "—" if value is None else f"{value:.1f}%"

        return (f"regressions at {self.threshold_pct:g}%: {len(self.regressions)} in time and "
                f"{len(self.counter_regressions)} in counters, of {len(self.cases)} cases; median distance between "
                f"the sides {pct(self.median_abs_change_pct)}; median detectable slowdown "
                f"{pct(self.median_detectable_pct)}; 90% of cases resolve a slowdown of {pct(self.resolvable_pct)} "
                "or more")

    def to_json(self) -> str:
        doc = {"format": AB_FORMAT, "version": AB_VERSION, "directory": self.directory,
               "threshold_pct": self.threshold_pct, "blocks_threshold_pct": self.blocks_pct,
               "alpha": ALPHA, "power": POWER, "trials": self.trials, "sides": list(self.sides),
               "failed": self.failed,
               "summary": {"cases": len(self.cases), "time_regressions": len(self.regressions),
                           "counter_regressions": len(self.counter_regressions),
                           "median_abs_change_pct": self.median_abs_change_pct,
                           "median_detectable_pct": self.median_detectable_pct,
                           "resolvable_pct": self.resolvable_pct},
               "regressions": [{"case": c.label, "evidence": "time", "line": c.line()} for c in self.regressions]
               + [{"case": c.label, "evidence": "counters", "line": c.line()} for c in self.counter_regressions],
               "cases": [c.as_dict() for c in self.cases]}
        return json.dumps(doc, indent=1, allow_nan=False)


def judge_ab(directory: Path, baseline: Run, candidate: Run, threshold_pct: float = THRESHOLD_PCT,
             blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> ABResult:
    """Judge the candidate's run against the baseline's, both from one A/B session (``directory``)."""
    cases = tuple(ab_case(case.coords, before.trial_medians_ms, case.trial_medians_ms, before.median_ms,
                          case.median_ms, threshold_pct)
                  for case in candidate.summary.cases if (before := baseline.case(case.coords)) is not None)
    sides = tuple(run.environment.get("ab_side", {"side": str(side)})
                  for side, run in ((Side.A, baseline), (Side.B, candidate)))
    return ABResult(directory=str(directory), threshold_pct=threshold_pct, blocks_pct=blocks_pct, sides=sides,
                    trials=max((c.ratio.trials for c in cases if c.ratio is not None), default=0), cases=cases,
                    counters=tuple(compare_counters(candidate, baseline, blocks_pct)))


def _side_text(side: Mapping[str, Any]) -> str:
    settings = side.get("settings") or {}
    extra = f", settings {', '.join(f'{k}={v}' for k, v in settings.items())}" if settings else ""
    return f"{side.get('role', side.get('side', '?'))}: {side.get('model', '?')}{extra} on {side.get('postgres', '?')}"


def ab_markdown(result: ABResult) -> str:
    """At most 40 lines for a CI summary: the answer, the sides, then the regressions (time, then counters)."""
    lines = [f"# A/B: {'❌ regression' if result.failed else '✅ no regression'}", "",
             result.summary_line() + ".", "", *(f"- {_side_text(s)}" for s in result.sides), ""]
    found = [("time", c.label, c.interval_text(), f"{ms(c.baseline_ms)} → {ms(c.candidate_ms)} ms")
             for c in result.regressions]
    found += [("counters", c.label, c.cause, c.time) for c in result.counter_regressions]
    if found:
        lines += ["| evidence | case | change | time |", "|---|---|---|---|"]
        room = _MD_LINES - len(lines) - 1
        lines += [f"| {kind} | {label} | {change} | {time} |".replace("\n", " ")
                  for kind, label, change, time in found[:room]]
        if len(found) > room:
            lines.append(f"… and {len(found) - room} more in {AB_FILE}")
    return "\n".join(lines[:_MD_LINES]) + "\n"


def write_ab(directory: Path, result: ABResult) -> tuple[Path, Path]:
    """Write ``ab.json`` and ``ab.md`` into the A/B directory, each atomically (a CI step never reads half)."""
    return (write_text(directory / AB_FILE, result.to_json(), AB_FILE),
            write_text(directory / AB_MD_FILE, ab_markdown(result), AB_MD_FILE))


def ordered_cases(result: ABResult) -> Sequence[ABCase]:
    """The cases sorted for a reader: regressions first, then by change, largest first."""
    return sorted(result.cases, key=lambda c: (not c.regression, -(c.change_pct or 0.0)))
