"""Wall time per stage, peak memory and interval widths of `balance-bench run` at each scale given.

Targets (issue 24): `medium` within 10 minutes and `large` within 25 minutes on this machine, at the interval
widths `small` reaches. Each scale is one `balance-bench run --scale S` in a child process (its dataset built
first by `seed`, so the run's own `datasets` stage is a reuse); the script prints the run's stage line (datasets,
matrix with its copies, plans and traffic, summary, top-ups, report, and the run's peak resident memory), and the
half-widths of the run's claim intervals by unit: percentage points for cache improvements, and for speed-up
ratios the half-width relative to the ratio (log scale, in percent).

    python scripts/run_scales.py small medium large [--cache-dir DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_BIN = Path(sys.executable).with_name("balance-bench")


def _widths(verdicts: dict[str, Any]) -> dict[str, list[float]]:
    """Half-widths of every claim's interval: pp for percentages, relative % for ratios."""
    out: dict[str, list[float]] = {"pp": [], "ratio %": []}
    for verdict in verdicts["verdicts"]:
        estimate = verdict.get("estimate") or {}
        low, high, value = estimate.get("low"), estimate.get("high"), estimate.get("value")
        if low is None or high is None or value is None:
            continue
        if estimate.get("unit") == "%":
            out["pp"].append((high - low) / 2)
        elif estimate.get("unit") == "x" and low > 0:
            out["ratio %"].append((math.exp((math.log(high) - math.log(low)) / 2) - 1) * 100)
    return out


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"median ±{statistics.median(ordered):.2f}, p90 ±{p90:.2f}, max ±{ordered[-1]:.2f} (n={len(ordered)})"


def run_scale(scale: str, cache_dir: str, out: str) -> None:
    """Seed, then run ``scale`` and print what it cost and how wide its intervals are."""
    started = time.perf_counter()
    seed = subprocess.run([str(_BIN), "seed", "--scale", scale, "--cache-dir", cache_dir], check=True,
                          capture_output=True, text=True)
    seeded = time.perf_counter() - started
    record = json.loads(seed.stdout.strip().splitlines()[-1])
    print(f"{scale}: seed {seeded:.0f} s, {'reused' if record['reused'] else 'built'}: {record['timings']}", flush=True)
    started = time.perf_counter()
    done = subprocess.run([str(_BIN), "run", "--scale", scale, "--cache-dir", cache_dir, "--out", out],
                          check=False, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(f"{scale}: run failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}", flush=True)
        return
    stages = next((line for line in done.stderr.splitlines() if line.startswith("stages:")), "stages: ?")
    run_dir = next(line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("run directory:"))
    widths = _widths(json.loads((Path(run_dir) / "verdicts.json").read_text()))
    print(f"{scale}: run {wall:.0f} s ({wall / 60:.1f} min) after seed {seeded:.0f} s; {stages}", flush=True)
    print(f"{scale}: cache-improvement half-widths (pp): {_quantiles(widths['pp'])}")
    print(f"{scale}: ratio half-widths (% of the ratio): {_quantiles(widths['ratio %'])}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="+")
    parser.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "balance-bench"))
    parser.add_argument("--out", default="runs")
    args = parser.parse_args()
    for scale in args.scales:
        run_scale(scale, args.cache_dir, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
