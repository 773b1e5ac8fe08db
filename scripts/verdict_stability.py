"""Benchmark of the suite's own trustworthiness (issue 10's targets), on this machine, with real runs.

Runs ``balance-bench run --scale SCALE`` twice, back to back, on the same commit and checks:

* the verdict labels (improvement, 012 effect, index used) are identical in both runs;
* how many cache-improvement verdicts are ``inconclusive`` and how wide their intervals are;
* every ratio the verdict table states (improvement %, 012 speedup) within +/-10% between the runs;
* ``report RUN2 --baseline RUN1 --fail-on-regression 10`` exits 0;
* a real regression is caught: a third run with the planner told not to use indexes
  (``PGOPTIONS='-c enable_indexscan=off -c enable_bitmapscan=off'``) fails the gate against run 1, naming the
  per-user with-012 cases and no reference case;
* the wall time of ``run --scale SCALE`` and of ``run --quick``.

Usage: ``python scripts/verdict_stability.py [--scale small] [--out DIR] [--json FILE]``. Uses the embedded servers
unless BALANCE_BENCH_DSN / BALANCE_BENCH_REDIS_URL are set. Takes about 3 x the duration of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from balance_bench.reports.runs import read_run
from balance_bench.reports.verdicts import INCONCLUSIVE, NOT_MEASURED, verdicts

PER_USER = ("find_by_user_id", "get_by_user", "total_balance_by_user", "find_by_user_id_and_token_id")


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "balance_bench.cli", *args], capture_output=True, text=True,
                          env=env or dict(os.environ), check=False)
    return proc, time.perf_counter() - started


def _run(out: Path, *options: str, env: dict[str, str] | None = None) -> tuple[Path, float]:
    proc, seconds = _cli("run", "--out", str(out), *options, env=env)
    if proc.returncode != 0:
        sys.exit(f"run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: ")), seconds


def _table(run_dir: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    table = {}
    for v in verdicts(read_run(run_dir)):
        improvement = v.cache.improvement if v.cache else None
        table[(v.query, v.scale, v.param_kind)] = {
            "improvement": v.cache.improvement_verdict if v.cache else None,
            "effect": v.migration.effect if v.migration else NOT_MEASURED,
            "index": v.index.used if v.index else None,
            "improvement_pct": improvement.value if improvement else None,
            "improvement_half_width": improvement.half_width if improvement else None,
            "speedup": v.migration.speedup.value if v.migration else None,
        }
    return table


def _relative(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or a == 0 else abs(b / a - 1) * 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="verdict-stability-"))

    first, t1 = _run(out, "--scale", args.scale)
    second, t2 = _run(out, "--scale", args.scale)
    a, b = _table(first), _table(second)
    label_diffs = [(k, field, a[k][field], b[k][field]) for k in a.keys() & b.keys()
                   for field in ("improvement", "effect", "index") if a[k][field] != b[k][field]]
    judged = [k for k in b if b[k]["improvement"] is not None]
    inconclusive = [k for k in judged if b[k]["improvement"] == INCONCLUSIVE]
    widths = [b[k]["improvement_half_width"] for k in judged if b[k]["improvement_half_width"] is not None]
    ratios = [(k, field, _relative(a[k][field], b[k][field])) for k in a.keys() & b.keys()
              for field in ("improvement_pct", "speedup")]
    off = [(k, field, d) for k, field, d in ratios if d is not None and d > 10.0]
    gate, _ = _cli("report", str(second), "--baseline", str(first), "--fail-on-regression", "10")

    env = {**os.environ, "PGOPTIONS": "-c enable_indexscan=off -c enable_bitmapscan=off"}
    slow, t3 = _run(out, "--scale", args.scale, env=env)
    caught, _ = _cli("report", str(slow), "--baseline", str(first), "--fail-on-regression", "10")
    named = [line for line in caught.stderr.splitlines() if line.startswith("regression")]
    per_user_named = sorted({q for q in PER_USER for line in named if f" {q} [" in line and "with_012" in line})
    references_named = [line for line in named if "raw_" in line]
    quick, tq = _run(out, "--quick")

    figures = {
        "runs": [str(first), str(second), str(slow), str(quick)],
        "run_seconds": [round(t1, 1), round(t2, 1), round(t3, 1)], "quick_seconds": round(tq, 1),
        "label_differences": [f"{k[0]} {k[2]} {field}: {x} -> {y}" for k, field, x, y in label_diffs],
        "improvement_verdicts": len(judged), "inconclusive": len(inconclusive),
        "max_improvement_half_width_pp": max(widths) if widths else None,
        "ratios_off_by_more_than_10pct": [f"{k[0]} {k[2]} {field}: {d:.1f}%" for k, field, d in off],
        "max_ratio_difference_pct": max((d for _, _, d in ratios if d is not None), default=None),
        "aa_gate_exit": gate.returncode, "aa_gate_stderr": gate.stderr.strip().splitlines()[-3:],
        "regression_gate_exit": caught.returncode, "regressions_named": len(named),
        "per_user_with_012_named": per_user_named, "reference_cases_named": len(references_named),
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
