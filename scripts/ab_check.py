"""What the in-run A/B gate resolves here, and whether it catches a known slowdown: the figures docs/ab.md quotes.

Two ``balance-bench ab`` runs (or two made already, ``--runs``): an in-run A/A (the same code on both sides), whose
every regression is a false alarm, and one with side b's ``READ`` made ``PCT`` percent slower (``--b-slowdown``),
where every case of that read is a slowdown to catch and every other case is another A/A. Printed per run: false
alarms, the median distance between the sides, the median detectable slowdown and the slowdown 90% of cases
resolve; for the slowed read, each case's change with its interval and whether the gate flagged it.

Usage: ``python scripts/ab_check.py [--scale small] [--read find_by_id] [--pct 20] [--out DIR] [--baseline-ref REV]
[--runs AA_DIR SLOW_DIR]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from balance_bench.coordinates import Side
from balance_bench.reports.ab import ABResult, judge_ab
from balance_bench.reports.runs import read_run


def _run(out: Path, scale: str, *args: str) -> Path:
    before = set(out.iterdir()) if out.exists() else set()
    proc = subprocess.run([sys.executable, "-m", "balance_bench.cli", "ab", "--scale", scale, "--out", str(out), *args],
                          check=False, text=True, capture_output=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"balance-bench ab failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    (made,) = set(out.iterdir()) - before
    return made


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _judged(directory: Path) -> ABResult:
    """The A/B judged again from its two side directories, as ``balance-bench ab`` judged it (default thresholds)."""
    return judge_ab(directory, read_run(directory / Side.A), read_run(directory / Side.B))


def _figures(result: ABResult, what: str) -> str:
    return (f"{what}: false alarms at {result.threshold_pct:g}%: {len(result.regressions)} of {len(result.cases)} "
            f"cases; median distance between the sides {_pct(result.median_abs_change_pct)}; median detectable "
            f"slowdown {_pct(result.median_detectable_pct)}; 90% of cases resolve {_pct(result.resolvable_pct)} "
            "or more")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--read", default="find_by_id", help="the read side b slows down")
    parser.add_argument("--pct", type=float, default=20.0, help="by this many percent")
    parser.add_argument("--out", type=Path, default=Path("runs"))
    parser.add_argument("--baseline-ref", metavar="REV",
                        help="side a runs this git revision's model in both runs (HEAD: the same code through the "
                             "revision loader, a same-revision A/A)")
    parser.add_argument("--runs", nargs=2, type=Path, metavar=("AA_DIR", "SLOW_DIR"),
                        help="two A/B directories made already: the A/A and the slowed one")
    args = parser.parse_args()
    if args.runs:
        aa_dir, slow_dir = args.runs
    else:
        base = ["--baseline-ref", args.baseline_ref] if args.baseline_ref else []
        aa_dir = _run(args.out, args.scale, *base)
        slow_dir = _run(args.out, args.scale, *base, "--b-slowdown", f"{args.read}={args.pct:g}")
    aa, slow = _judged(aa_dir), _judged(slow_dir)
    print(f"A/A {aa_dir.name}: {aa.trials} paired trials, {len(aa.counter_regressions)} counter regressions")
    print(_figures(aa, "  time"))
    others = replace(slow, cases=tuple(c for c in slow.cases if c.coords.query != args.read))
    slowed = [c for c in slow.cases if c.coords.query == args.read]
    print(f"{args.read} {args.pct:g}% slower {slow_dir.name}: {slow.trials} paired trials, "
          f"{len(slow.counter_regressions)} counter regressions")
    print(_figures(others, "  the other reads and writes (an A/A)"))
    print(f"  {args.read}: {sum(c.regression for c in slowed)} of {len(slowed)} cases flagged")
    for c in sorted(slowed, key=lambda c: c.label):
        print(f"    {c.label}: {c.interval_text()}, detects {_pct(c.detectable_pct)}: {c.verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
