"""Issue 15's load targets, measured: rerun this on a quiet machine and quote its output.

Three runs of ``balance-bench load`` (subprocesses, as a user runs them), then one summary:

1. cache on against off, ``small`` with migration 012, the ``reads`` mix, a user sweep: throughput at the
   highest user count, and PostgreSQL calls per second falling by at least the cache hit rate;
2. the harness: one user, warm ``find_by_id`` only, Locust's p50 against the same call timed in-process
   just before and after the swarm (target: within 1.5x);
3. ``--workers 1`` against ``--workers 2`` at the same setting: throughput side by side, and each run's
   percentiles recomputed here from the union of the raw per-process arrays (exact merge).

    python scripts/load_targets.py [--scale small] [--users 1,4,16] [--duration 20] [--warmup 10] [--out runs]

Every figure is one step of one run (add ``--trials 3`` to the first run's arguments by hand for intervals);
on a shared machine say so when quoting them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from balance_bench.load_records import LOAD_FILE, LoadRecord, read_load_record

REPO = Path(__file__).resolve().parents[1]


def load(out: Path, *args: str) -> tuple[Path, LoadRecord]:
    """Run ``balance-bench load`` with ``args``; its run directory and record."""
    command = [sys.executable, "-m", "balance_bench.cli", "load", "--out", str(out), *args]
    print("$", " ".join(command[1:]), file=sys.stderr, flush=True)
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=dict(os.environ), check=False)
    sys.stderr.write(proc.stderr)
    if proc.returncode not in (0, 1):
        sys.exit(f"balance-bench load failed ({proc.returncode})")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("run directory: "))
    run_dir = Path(line.removeprefix("run directory: "))
    return run_dir, read_load_record(run_dir / LOAD_FILE)


def cache_target(record: LoadRecord) -> dict[str, Any]:
    top = max(s.users for s in record.steps)
    on = next(s for s in record.steps if s.users == top and s.cache == "on")
    off = next(s for s in record.steps if s.users == top and s.cache == "off")
    reduction = 1 - on.db_calls_per_s / off.db_calls_per_s
    per_request_off = off.db_calls_per_s / off.throughput_rps
    per_request_on = on.db_calls_per_s / on.throughput_rps
    return {"users": top, "throughput_off": off.throughput_rps, "throughput_on": on.throughput_rps,
            "ratio": on.throughput_rps / off.throughput_rps, "p99_off": off.p99_ms, "p99_on": on.p99_ms,
            "db_calls_off": off.db_calls_per_s, "db_calls_on": on.db_calls_per_s, "source": on.db_calls_source,
            "reduction": reduction, "hit_rate": on.hit_rate,
            "per_request_reduction": 1 - per_request_on / per_request_off}


def exact_merge(run_dir: Path, record: LoadRecord) -> bool:
    """Whether every step's p50/p95/p99 equal numpy's on the union of the raw arrays of every process."""
    for step in record.steps:
        with np.load(run_dir / step.arrays) as data:
            union = np.concatenate([data[k] for k in data.files if k.startswith("samples.")])
        if any(getattr(step, f"p{q}_ms") != float(np.percentile(union, q)) for q in (50, 95, 99)):
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--users", default="1,4,16")
    parser.add_argument("--duration", default="20")
    parser.add_argument("--warmup", default="10")
    parser.add_argument("--out", type=Path, default=Path("runs"))
    args = parser.parse_args()
    common = ["--scale", args.scale, "--migration", "with_012", "--duration", args.duration, "--warmup", args.warmup]

    run1, cache = load(args.out, *common, "--mix", "reads", "--cache", "both", "--users", args.users)
    c = cache_target(cache)
    run2, harness = load(args.out, *common, "--mix", "find_by_id=1", "--cache", "on", "--users", "1")
    step = harness.steps[0]
    op = next(o for o in step.operations if o.operation == "find_by_id")
    ref = harness.reference or {}
    in_process = [ref["before"]["median_ms"], ref["after"]["median_ms"]]
    by_id = next(f for f in step.cache_families if f.family == "by_id")
    workers = {}
    for n in (1, 2):
        run_dir, record = load(args.out, *common, "--mix", "reads", "--cache", "on", "--users", "8",
                               "--workers", str(n))
        workers[n] = (record.steps[0], exact_merge(run_dir, record))

    print(f"1. cache on vs off ({args.scale}, with_012, reads, {c['users']} users; {run1.name}):")
    print(f"   throughput {c['throughput_off']:,.0f} -> {c['throughput_on']:,.0f} req/s (x{c['ratio']:.2f}); "
          f"p99 {c['p99_off']:.3g} -> {c['p99_on']:.3g} ms")
    print(f"   PostgreSQL calls/s ({c['source']}) {c['db_calls_off']:,.0f} -> {c['db_calls_on']:,.0f}: "
          f"-{c['reduction']:.1%} per second, -{c['per_request_reduction']:.1%} per request; "
          f"hit rate {c['hit_rate']:.1%}; falls by at least the hit rate: "
          f"{'yes' if c['reduction'] >= (c['hit_rate'] or 0) else 'no'}")
    print(f"2. harness ({run2.name}): one user, warm find_by_id (by_id hit rate {by_id.hit_rate:.1%}): Locust p50 "
          f"{op.p50_ms:.4f} ms (Locust's own {op.locust_p50_ms}), in-process median {in_process[0]:.4f} / "
          f"{in_process[1]:.4f} ms (before/after): ratio {op.p50_ms / np.mean(in_process):.2f} (target <= 1.5)")
    for n, (s, exact) in workers.items():
        print(f"3. --workers {n}: {s.throughput_rps:,.0f} req/s, p50 {s.p50_ms:.3g} ms, p99 {s.p99_ms:.3g} ms, "
              f"{s.processes} process(es); percentiles equal the union's: {exact}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
