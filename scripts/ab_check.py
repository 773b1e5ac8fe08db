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
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from balance_bench.reports.ab import AB_FILE


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


def _figures(doc: dict[str, Any], cases: list[dict[str, Any]], what: str) -> str:
    detectable = sorted(c["detectable_pct"] for c in cases if c["detectable_pct"] is not None)
    changes = [abs(c["change_pct"]) for c in cases if c["change_pct"] is not None]
    alarms = [c for c in cases if c["verdict"] == "regression"]
    resolvable = detectable[int(0.9 * len(detectable))] if detectable else None
    return (f"{what}: false alarms at {doc['threshold_pct']:g}%: {len(alarms)} of {len(cases)} cases; median "
            f"distance between the sides {_pct(statistics.median(changes) if changes else None)}; median detectable "
            f"slowdown {_pct(statistics.median(detectable) if detectable else None)}; 90% of cases resolve "
            f"{_pct(resolvable)} or more")


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
    aa = json.loads((aa_dir / AB_FILE).read_text(encoding="utf-8"))
    slow = json.loads((slow_dir / AB_FILE).read_text(encoding="utf-8"))
    print(f"A/A {aa_dir.name}: {aa['trials']} paired trials, {aa['summary']['counter_regressions']} counter "
          "regressions")
    print(_figures(aa, aa["cases"], "  time"))
    others = [c for c in slow["cases"] if c["coordinates"]["query"] != args.read]
    slowed = [c for c in slow["cases"] if c["coordinates"]["query"] == args.read]
    print(f"{args.read} {args.pct:g}% slower {slow_dir.name}: {slow['trials']} paired trials, "
          f"{slow['summary']['counter_regressions']} counter regressions")
    print(_figures(slow, others, "  the other reads and writes (an A/A)"))
    caught = [c for c in slowed if c["verdict"] == "regression"]
    print(f"  {args.read}: {len(caught)} of {len(slowed)} cases flagged")
    for c in sorted(slowed, key=lambda c: c["case"]):
        ratio = c["ratio"]
        interval = "" if ratio is None or ratio[1] is None else \
            f" [{(ratio[1] - 1) * 100:+.1f}, {(ratio[2] - 1) * 100:+.1f}]"
        print(f"    {c['case']}: {c['change_pct']:+.1f}%{interval}, detects {_pct(c['detectable_pct'])}: "
              f"{c['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
