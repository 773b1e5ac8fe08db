"""``balance-bench explain`` prints a plan's analysis as text or JSON, and refuses a file that is not a plan."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from balance_bench.commands import explain
from balance_bench.plans.parser import PlanError

DATA = Path(__file__).parents[1] / "plans" / "data"


def test_explain_command_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    """``explain --json`` prints one JSON object with the documented keys."""
    assert explain.explain(DATA / "pg18" / "find_by_user_id_and_token_id_baseline.plan.json", as_json=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert {
        "execution_ms",
        "planning_ms",
        "node_count",
        "indexes_used",
        "seq_scan_relations",
        "nodes",
        "findings",
    } <= set(out)
    assert out["seq_scan_relations"] == ["balances"] and out["indexes_used"] == []
    node_keys = {"node_type", "relation", "index", "actual_rows", "plan_rows", "loops", "inclusive_ms", "exclusive_ms",
                 "shared_hit", "shared_read"}  # fmt: skip
    assert all(node_keys <= set(n) for n in out["nodes"])
    assert {f["code"] for f in out["findings"]} == {"index-not-used", "slow-seq-scan"}
    assert all(set(f) >= {"code", "node", "message"} for f in out["findings"])


def test_explain_command_sorts_indexes(capsys: pytest.CaptureFixture[str]) -> None:
    """Indexes used are listed once each, sorted."""
    explain.explain(DATA / "pg15" / "misestimate.json", as_json=True)
    out = json.loads(capsys.readouterr().out)
    assert out["indexes_used"] == sorted(set(out["indexes_used"])) and len(out["indexes_used"]) >= 2


def test_explain_command_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    """Without ``--json`` the command prints the rendered tree."""
    assert explain.explain(DATA / "pg15" / "large_offset.json", as_json=False) == 0
    assert "[large-offset]" in capsys.readouterr().out


def test_explain_command_on_a_non_plan_names_the_file(tmp_path: Path) -> None:
    """A file that is not a plan gives a PlanError (a BenchError) with the file name."""
    path = tmp_path / "notes.md"
    path.write_text("# not a plan\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"notes\.md"):
        explain.explain(path, as_json=True)


def test_cli_handler_passes_the_parsed_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """The ``balance-bench explain`` handler reads the plan file and ``--json`` from the parsed arguments."""
    args = argparse.Namespace(plan_file=DATA / "pg15" / "index_scan.json", json=True)
    assert explain.run(None, args) == 0  # type: ignore[arg-type]
    assert json.loads(capsys.readouterr().out)["indexes_used"] == ["balances_pkey"]
