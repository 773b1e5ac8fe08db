"""Issue 14's experiment targets, measured: rerun this on a quiet machine and quote its output.

One ``balance-bench run --experiments pagination,replica`` (a subprocess, as a user runs it), then,
from its saved summary and plans:

1. pagination at the scale, with migration 012: the whale's last page over its first with keyset pagination
   (target: within 1.5x, the whole interval) and with OFFSET (reported, and explained from the two plans:
   node types, index, rows the scans produced, buffers touched);
2. the replica hazard: stale values stored in the cache across the write-then-read iterations without the fix
   (target: at least one) and with each fix (target: zero).

    python scripts/experiment_targets.py [--scale small] [--trials 10] [--out runs]

On a shared machine say so when quoting the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from balance_bench.bench.experiments.pagination import FLAT_WITHIN
from balance_bench.reports.runs import Run, read_run
from balance_bench.reports.verdicts import format_estimate
from balance_bench.results import CaseResult, ExperimentResult, PlanFacts

REPO = Path(__file__).resolve().parents[1]


def run(out: Path, scale: str, trials: int) -> Path:
    """``balance-bench run --experiments pagination,replica``; its run directory."""
    command = [sys.executable, "-m", "balance_bench.cli", "run", "--experiments", "pagination,replica",
               "--scale", scale, "--trials", str(trials), "--out", str(out)]
    print("$", " ".join(command[1:]), file=sys.stderr, flush=True)
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=dict(os.environ), check=False)
    sys.stderr.write(proc.stderr[-3000:])
    if proc.returncode != 0:
        sys.exit(f"balance-bench run failed ({proc.returncode})")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: "))


def experiment(loaded: Run, name: str) -> ExperimentResult:
    return next(e for e in loaded.summary.experiments if e.name == name)


def _case(loaded: Run, variant: str, kind: str) -> CaseResult:
    return next(c for c in loaded.summary.cases if c.coords.experiment == "pagination" and c.coords.variant == variant
                and c.coords.param_kind == kind and c.coords.migration == "with_012")


def describe_plan(plan: PlanFacts | None) -> str:
    """What a plan did, in one line: its nodes top-down with rows, and the buffers it touched."""
    if plan is None:
        return "no plan"
    nodes = ", ".join(f"{n.label.split(' ', 1)[1] if ' ' in n.label else n.label} ({n.actual_rows or 0:.0f} rows)"
                      for n in plan.nodes)
    buffers = sum((n.shared_hit or 0) + (n.shared_read or 0) for n in plan.nodes)
    return f"{nodes}; {buffers} shared buffers (hit + read, every node); execution {plan.execution_ms or 0:.3f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("runs"))
    args = parser.parse_args()
    loaded = read_run(run(args.out, args.scale, args.trials))
    print(f"run: {loaded.path} ({loaded.design.trials} trials, scale {args.scale})")
    pagination = experiment(loaded, "pagination")
    keyset = pagination.figures["with_012.keyset_depth"]
    offset = pagination.figures["with_012.offset_depth"]
    flat = keyset.high is not None and keyset.high <= FLAT_WITHIN
    print(f"keyset last/first page (with 012): {format_estimate(keyset, '{:.2f}', 'x')} -> "
          f"{'MET' if flat else 'NOT MET'} (target: within {FLAT_WITHIN}x, whole interval)")
    print(f"OFFSET last/first page (with 012): {format_estimate(offset, '{:.2f}', 'x')}")
    for variant in ("offset", "keyset"):
        for kind in ("page-1", "page-last"):
            case = _case(loaded, variant, kind)
            print(f"  {variant} {kind}: p50 {case.median_ci.value:.3f} ms; plan: {describe_plan(case.plan)}")
    replica = experiment(loaded, "replica")
    hazard = replica.figures["with_012.replica.stale_fills.stale_fills"].value
    iterations = replica.figures["with_012.replica.stale_fills.iterations"].value
    fixes = {v: replica.figures[f"with_012.{v}.stale_fills.stale_fills"].value for v in ("primary_fill",
                                                                                          "recent_window")}
    met = hazard >= 1 and all(v == 0 for v in fixes.values())
    print(f"replica hazard: {hazard:.0f} stale fills in {iterations:.0f} write-then-read iterations without the fix; "
          + ", ".join(f"{v} {n:.0f}" for v, n in fixes.items()) + f" -> {'MET' if met else 'NOT MET'}")
    print(f"pagination: {pagination.conclusion}")
    print(f"replica: {replica.conclusion}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
