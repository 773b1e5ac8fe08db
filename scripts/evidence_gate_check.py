"""The counter gate alone catches a lost index: a normal ``run --quick`` against one with the planner told not to
use indexes, gated at a time threshold no slowdown reaches.

Makes two runs into a temporary directory (or ``--out``): a normal ``balance-bench run --quick`` (the baseline)
and the same with ``PGOPTIONS='-c enable_indexscan=off -c enable_bitmapscan=off'``. libpq reads PGOPTIONS from
the environment of the client process, so every connection the second ``run`` opens (timed, plan capture and
traffic counting alike) plans without indexes, while the server, shared or embedded, is untouched. Then runs
``balance-bench report OFF --baseline NORMAL --fail-on-regression 1000 --junit-xml ...`` and checks:

* it exits 1, and gate.json has no time regression (at 1000% none is possible) and at least one counter one;
* every per-user read with migration 012 (``PER_USER``, every cache state that reaches PostgreSQL, every
  projection) is named on a ``regression in counters`` line whose cause is a plan change to a ``Seq Scan``;
* no reference case is named.

Usage: ``python scripts/evidence_gate_check.py [--out DIR] [--keep]``; prints the regression lines of the per-user
with-012 optimized reads and one verdict line; exit 0 when every check holds, 1 otherwise. Uses the embedded
servers unless BALANCE_BENCH_DSN / BALANCE_BENCH_REDIS_URL are set. Takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PER_USER = ("find_by_user_id", "get_by_user", "total_balance_by_user", "find_by_user_id_and_token_id")
"""The reads the guide's migration 012 indexes serve per user."""
INDEXES_OFF = "-c enable_indexscan=off -c enable_bitmapscan=off"
COUNTER_LINE = "regression in counters: "
THRESHOLD = "1000"
"""A time threshold no slowdown of the index-off run reaches: only the counters can fail the gate."""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``balance-bench`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "balance_bench.cli", *args], capture_output=True, text=True,
                          env=env or dict(os.environ), check=False)


def quick_run(out: Path, *extra: str, env: dict[str, str] | None = None) -> Path:
    """A ``run --quick`` into ``out``; its run directory. Exits the script when the run fails."""
    proc = cli("run", "--quick", "--out", str(out), *extra, env=env)
    if proc.returncode != 0:
        sys.exit(f"run --quick failed ({proc.returncode}): {proc.stderr[-2000:]}")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: "))


@dataclass
class Outcome:
    """What the gate said about the index-off run, and which checks failed."""

    exit_code: int
    named: dict[str, str] = field(default_factory=dict)  # case label -> its counter regression line
    expected: list[str] = field(default_factory=list)  # the per-user with-012 cases that reach PostgreSQL
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _expected(run_dir: Path) -> list[str]:
    """The labels of the run's per-user reads with 012 that reach PostgreSQL (they have a plan), read from its
    summary.json as plain JSON."""
    doc = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    labels = []
    for case in doc["cases"]:
        if case["query"] in PER_USER and case["migration"] == "with_012" and case["plan"] is not None:
            labels.append(f"{case['scale']} {case['query']} [{case['cache']}, {case['migration']}, "
                          f"{case['projection']}, {case['param_kind']}]")
    return labels


def check(baseline: Path, off: Path, junit: Path) -> Outcome:
    """Gate ``off`` against ``baseline`` at a 1000% time threshold and check what the counter gate named."""
    proc = cli("report", str(off), "--baseline", str(baseline), "--fail-on-regression", THRESHOLD,
               "--junit-xml", str(junit))
    outcome = Outcome(exit_code=proc.returncode, expected=_expected(off))
    for line in proc.stderr.splitlines():
        if line.startswith(COUNTER_LINE):
            told = line.removeprefix(COUNTER_LINE)
            outcome.named[told.split(": ", 1)[0]] = told
    if proc.returncode != 1:
        outcome.problems.append(f"report exited {proc.returncode}, not 1: {proc.stderr[-500:]}")
        return outcome
    gate = json.loads((off / "gate.json").read_text(encoding="utf-8"))
    kinds = [r["kind"] for r in gate["regressions"]]
    if "time" in kinds:
        outcome.problems.append(f"{kinds.count('time')} time regression(s) at {THRESHOLD}%")
    if not outcome.expected:
        outcome.problems.append("the run has no per-user read with 012 that reaches PostgreSQL")
    for label in outcome.expected:
        line = outcome.named.get(label)
        if line is None:
            outcome.problems.append(f"not named: {label}")
        elif "→" not in line or "Seq Scan" not in line.split("→", 1)[1]:
            outcome.problems.append(f"named without a plan change to a Seq Scan: {line}")
    outcome.problems += [f"a reference case named: {label}" for label in outcome.named if " raw_" in f" {label}"]
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, help="where the two runs go (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="evidence-gate-"))
    started = time.perf_counter()
    try:
        baseline = quick_run(out)
        off = quick_run(out, env={**os.environ, "PGOPTIONS": INDEXES_OFF})
        outcome = check(baseline, off, out / "gate.xml")
    finally:
        if args.out is None and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    for label in outcome.expected:
        if "optimized" in label and label in outcome.named:
            print(outcome.named[label])
    print(f"{len(outcome.named)} case(s) regressed in counters; {len(outcome.expected)} per-user read(s) with 012 "
          f"expected, {sum(label in outcome.named for label in outcome.expected)} named; report exit "
          f"{outcome.exit_code}; {time.perf_counter() - started:.0f} s")
    for problem in outcome.problems:
        print(f"FAIL: {problem}")
    print("PASS: the counter gate alone named every per-user with-012 read with its plan change" if outcome.passed
          else "FAIL")
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())
