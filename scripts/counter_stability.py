"""Which counters are exactly deterministic: runs of one commit on one dataset, compared counter by counter.

For every counter of ``reports/counter_gate.py`` it prints how many cases carry it in every run, in how many of
those it is identical across all the runs, and the largest relative difference (``(max / min - 1)``, in
percent; ``inf`` when one run counted 0 and another did not), with the case that has it. Reference cases
measure the machine and are left out, as the gate leaves them out. Cases are matched by their coordinates.
A run summarised before plans carried counters is refused (``balance-bench summarise RUN_DIR`` rewrites it).

Usage: ``python scripts/counter_stability.py RUN_DIR RUN_DIR [RUN_DIR ...] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from balance_bench.coordinates import Coordinates, Kind
from balance_bench.errors import BenchError
from balance_bench.reports.counter_gate import COUNTERS, counter_values
from balance_bench.reports.runs import Run, read_run
from balance_bench.results import COUNTERS_VERSION


@dataclass(frozen=True)
class Stability:
    """One counter across the runs."""

    counter: str
    cases: int  # cases that carry it in every run
    identical: int  # of those, cases with one value in every run
    largest_pct: float | None  # the largest (max / min - 1) in percent over the numeric cases; None: all identical
    worst: str | None  # the case with it
    values: str | None  # that case's values, run by run


def _relative_pct(values: list[float]) -> float:
    low, high = min(values), max(values)
    if high == low:
        return 0.0
    return math.inf if low == 0 else (high / low - 1) * 100


def stability(runs: list[Run]) -> list[Stability]:
    """Per counter, how many cases carry it in every run and how many of them are identical."""
    common: list[Coordinates] = [c.coords for c in runs[0].summary.cases if c.coords.kind is not Kind.REFERENCE
                                 and all(run.case(c.coords) is not None for run in runs)]
    values = {coords: [counter_values(run.case(coords)) for run in runs]  # type: ignore[arg-type]
              for coords in common}
    result = []
    for counter in COUNTERS:
        carried = [(coords, [v[counter] for v in per_run]) for coords, per_run in values.items()
                   if all(v[counter] is not None for v in per_run)]
        identical = sum(len(set(seen)) == 1 for _, seen in carried)
        worst: tuple[float, Coordinates, list[object]] | None = None
        for coords, seen in carried:
            if len(set(seen)) == 1:
                continue
            pct = math.inf if any(isinstance(v, str) for v in seen) else _relative_pct([float(v) for v in seen
                                                                                          if v is not None])
            if worst is None or pct > worst[0]:
                worst = (pct, coords, list(seen))
        result.append(Stability(
            counter=counter, cases=len(carried), identical=identical,
            largest_pct=None if worst is None else worst[0], worst=None if worst is None else worst[1].label,
            values=None if worst is None else " | ".join(str(v) for v in worst[2])))
    return result


def _pct(value: float | None) -> str:
    if value is None:
        return "—"
    return "inf" if math.isinf(value) else f"{value:.1f}%"


def render(runs: list[Run], rows: list[Stability]) -> str:
    """The table, one line per counter, then the worst case of each counter that is not identical everywhere."""
    lines = [f"{len(runs)} runs: " + ", ".join(run.path.name for run in runs), "",
             f"{'counter':<26} {'cases':>5} {'identical':>9} {'largest difference':>18}"]
    for row in rows:
        lines.append(f"{COUNTERS[row.counter]:<26} {row.cases:>5} {row.identical:>9} {_pct(row.largest_pct):>18}")
    differing = [row for row in rows if row.worst is not None]
    if differing:
        lines += ["", "largest difference, by counter:"]
        lines += [f"  {COUNTERS[row.counter]}: {row.worst}: {row.values}" for row in differing]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        parser.error("give at least two run directories of one commit")
    try:
        runs = [read_run(path) for path in args.runs]
    except BenchError as exc:
        print(f"counter_stability: {exc}", file=sys.stderr)
        return 2
    for run in runs:
        if run.summary.schema_version < COUNTERS_VERSION:
            print(f"counter_stability: {run.path}: summary version {run.summary.schema_version} has no plan "
                  f"counters; balance-bench summarise {run.path} rewrites it", file=sys.stderr)
            return 2
    rows = stability(runs)
    print(render(runs, rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1, allow_nan=True) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
