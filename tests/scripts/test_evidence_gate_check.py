"""On real servers: a quick run with the planner told not to use indexes, gated against the session's normal quick
run at a 1000% time threshold, fails on counters alone, naming every per-user read with 012 and its plan change
(scripts/evidence_gate_check.py's check, which is the script's whole verdict)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from balance_bench.config import Config
from tests.conftest import run_cli

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "evidence_gate_check.py"
PER_USER = ("find_by_user_id", "get_by_user", "total_balance_by_user", "find_by_user_id_and_token_id")


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("evidence_gate_check_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.services
def test_the_counter_gate_alone_names_every_per_user_read_with_012(script: ModuleType, real_run_dir: Path,
                                                                   bench_config: Config, tmp_path: Path) -> None:
    """Exit 1, no time regression, and each per-user with-012 read that reaches PostgreSQL named on a counter line
    whose plan change ends in a Seq Scan; no reference case named."""
    assert script.PER_USER == PER_USER
    env = {**os.environ, "PGOPTIONS": "-c enable_indexscan=off -c enable_bitmapscan=off"}
    proc = run_cli("run", "--quick", "--out", str(tmp_path / "runs"), "--cache-dir", str(bench_config.cache_dir),
                   env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    off = Path(next(line for line in proc.stdout.splitlines() if line.startswith("run directory: "))
               .removeprefix("run directory: "))
    baseline = tmp_path / "baseline"
    baseline.symlink_to(real_run_dir)  # the report writes into the index-off run only
    outcome = script.check(baseline, off, tmp_path / "gate.xml")
    assert outcome.passed, outcome.problems
    assert outcome.exit_code == 1 and len(outcome.expected) >= len(PER_USER)
    assert {label.split(" ")[1] for label in outcome.expected} == set(PER_USER)
    assert all("Seq Scan" in outcome.named[label].split("→", 1)[1] for label in outcome.expected)
    assert (tmp_path / "gate.xml").exists()


def test_a_gate_that_missed_a_case_or_raised_time_is_reported(script: ModuleType, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """check() fails when report does not exit 1, and names a per-user read it did not see."""
    import json
    import subprocess

    off = tmp_path / "off"
    off.mkdir()
    case = {"query": "get_by_user", "migration": "with_012", "plan": {}, "scale": "tiny", "cache": "nocache",
            "projection": "optimized", "param_kind": "whale"}
    (off / "summary.json").write_text(json.dumps({"cases": [case]}), encoding="utf-8")
    (off / "gate.json").write_text(json.dumps({"regressions": [{"kind": "time"}]}), encoding="utf-8")
    label = "tiny get_by_user [nocache, with_012, optimized, whale]"

    def fake(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(args), code, "", stderr)

    code, stderr = 0, ""
    monkeypatch.setattr(script, "cli", fake)
    assert script.check(tmp_path, off, tmp_path / "x.xml").problems[0].startswith("report exited 0, not 1")
    code, stderr = 1, "regression in counters: tiny other [nocache, with_012, optimized, x]: A → B; 1 → 2 ms\n"
    problems = script.check(tmp_path, off, tmp_path / "x.xml").problems
    assert problems == ["1 time regression(s) at 1000%", f"not named: {label}"]
    stderr = f"regression in counters: {label}: shared blocks 4 → 40; 1 → 2 ms\n"
    assert script.check(tmp_path, off, tmp_path / "x.xml").problems[1].startswith(
        "named without a plan change to a Seq Scan")
