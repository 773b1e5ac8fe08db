"""report.html: verdicts first, self-contained, escaped, secret-free; bad input is one line and exit 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from balance_bench.errors import BenchError
from balance_bench.reports.render import write_report
from balance_bench.results import REPORT_FILE


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "balance_bench.cli", "report", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_has_verdicts_first_then_charts_per_query(report_path: Path) -> None:
    """The verdict table opens the report and every read query gets a section with a chart."""
    html = report_path.read_text(encoding="utf-8")
    verdicts, first_svg = html.find('id="T_verdicts"'), html.find("<svg")
    assert 0 < verdicts < first_svg
    queries = set(re.findall(r'<section id="q-[^"]+" class="query">', html))
    assert len(queries) >= 4
    assert html.count("<svg") >= 2 * len(queries)


def test_report_is_self_contained(report_path: Path) -> None:
    """No src or href points outside the file, and nothing is loaded from a CDN."""
    html = report_path.read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//', html)
    assert "<script" not in html and "<link" not in html


def test_report_is_written_atomically(make_run: Callable[..., Path]) -> None:
    """The report replaces report.html in one step and leaves no temporary file behind."""
    run = make_run()
    path = write_report(run)
    assert path == run / REPORT_FILE and path.stat().st_size > 10_000
    assert sorted(p.name for p in run.iterdir() if "tmp" in p.name) == []


def test_every_string_is_escaped(make_run: Callable[..., Path]) -> None:
    """Markup in case names, parameters, parameter kinds, SQL and the environment arrives as text."""
    html = write_report(make_run(evil=True)).read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(" in html or "&lt;script&gt;alert(&#39;" in html


def test_no_password_reaches_the_report(make_run: Callable[..., Path]) -> None:
    """A URL password in the environment is redacted everywhere it would appear."""
    secret_env = {"settings": {"dsn": "postgresql://u:secretpw@h/db", "redis_url": "redis://:hunter2@h:6379/0"}}
    html = write_report(make_run(env=secret_env)).read_text(encoding="utf-8")
    assert "secretpw" not in html and "hunter2" not in html
    assert "postgresql://u:***@h/db" in html


def test_index_sizes_are_shown_when_recorded(make_run: Callable[..., Path]) -> None:
    """environment["index_sizes"][scale] becomes a table; without it the report says they were not recorded."""
    html = write_report(make_run(env={"index_sizes": {"tiny": {"idx_balances_user_usd": 630784}}})).read_text()
    assert "idx_balances_user_usd" in html and "616.0 KiB" in html
    assert "did not record index sizes" in write_report(make_run(env={"index_sizes": None})).read_text(encoding="utf-8")


def _break(run: Path, what: str) -> Path:
    """Damage one file of a good run directory; returns the file that is now bad."""
    if what == "truncated summary":
        target = run / "summary.json"
        target.write_text(target.read_text()[:500])
    elif what == "unknown schema_version":
        target = run / "summary.json"
        doc = json.loads(target.read_text())
        doc["schema_version"] = 99
        target.write_text(json.dumps(doc))
    elif what == "foreign json":
        target = run / "summary.json"
        target.write_text(json.dumps({"benchmarks": [], "machine_info": {}}))
    elif what == "truncated benchmarks":
        target = run / "benchmarks.json"
        target.write_text(target.read_text()[:300])
    else:
        raise AssertionError(what)
    return target


BAD = ["truncated summary", "unknown schema_version", "foreign json", "truncated benchmarks"]


@pytest.mark.parametrize("what", BAD)
def test_bad_input_is_one_line_naming_the_file(make_run: Callable[..., Path], what: str) -> None:
    """Each kind of damage is a BenchError of one line that names the damaged file."""
    run = make_run()
    target = _break(run, what)
    with pytest.raises(BenchError) as info:
        write_report(run)
    message = str(info.value)
    assert "\n" not in message and str(target) in message


def test_missing_run_directory_is_one_line(tmp_path: Path) -> None:
    """A directory that does not exist, or exists without a summary, is named in one line."""
    with pytest.raises(BenchError, match="no such run directory"):
        write_report(tmp_path / "nope")
    with pytest.raises(BenchError, match=r"summary\.json"):
        write_report(tmp_path)


@pytest.mark.parametrize("what", ["missing directory", "truncated summary", "unknown schema_version"])
def test_cli_bad_input_exits_2_with_one_line(make_run: Callable[..., Path], tmp_path: Path, what: str) -> None:
    """`balance-bench report` prints one error line naming the file, exits 2, and shows no traceback."""
    if what == "missing directory":
        run, target = tmp_path / "missing", tmp_path / "missing"
    else:
        run = make_run()
        target = _break(run, what)
    result = _cli(run)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("balance-bench: error:") and str(target) in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_identical_baseline_passes_the_regression_gate(make_run: Callable[..., Path]) -> None:
    """With the same timings as the baseline, --fail-on-regression 10 exits 0 and prints the report path."""
    run, baseline = make_run(seed=3), make_run(seed=3)
    result = _cli(run, "--baseline", baseline, "--fail-on-regression", "10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(run / REPORT_FILE)
    assert "Comparison with baseline" in (run / REPORT_FILE).read_text(encoding="utf-8")


def test_cli_twice_as_slow_fails_the_regression_gate(make_run: Callable[..., Path]) -> None:
    """A 2x slowdown of the writes over many samples exits 1 and names each regressed case on one line."""
    slow = lambda case: 2.0 if case.kind == "write" else 1.0  # noqa: E731
    run, baseline = make_run(slowdown=slow, seed=4), make_run(seed=5)
    result = _cli(run, "--baseline", baseline, "--fail-on-regression", "10")
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("regression")]
    assert len(lines) == 8 and all(any(w in line for w in ("create", "credit", "debit", "delete")) for line in lines)
    html = (run / REPORT_FILE).read_text(encoding="utf-8")
    assert "8 regression(s)" in html


def test_cli_fail_on_regression_needs_a_baseline(make_run: Callable[..., Path]) -> None:
    """--fail-on-regression without --baseline is a usage error, not a silent pass."""
    result = _cli(make_run(), "--fail-on-regression", "10")
    assert result.returncode == 2 and "--baseline" in result.stderr


def test_cli_gate_refuses_runs_without_trials(make_run: Callable[..., Path]) -> None:
    """A single-trial run (a plain pytest run, or a version 1 summary) cannot be gated: one line, exit 2."""
    result = _cli(make_run(trials=1), "--baseline", make_run(), "--fail-on-regression", "10")
    assert result.returncode == 2 and "needs at least 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_intervals_and_inconclusive_verdicts_are_shown(make_run: Callable[..., Path]) -> None:
    """The verdict table prints each figure with its interval; a one-trial run says why it cannot decide."""
    html = write_report(make_run()).read_text(encoding="utf-8")
    assert re.search(r"\d+\.\d \[\d+\.\d, \d+\.\d\]", html), "an improvement with its interval"
    assert "confidence interval across trials" in html and "single trial" not in html
    single = write_report(make_run(trials=1)).read_text(encoding="utf-8")
    assert "This run has a single trial" in single and ">inconclusive<" in single


def test_a_version_1_run_still_renders(make_run: Callable[..., Path]) -> None:
    """A summary written before trials existed loads as one trial and renders, saying what it lacks."""
    run = make_run()
    doc = json.loads((run / "summary.json").read_text())
    for case in doc["cases"]:
        plan = case.pop("plan")
        case.update(plan_file=plan["file"] if plan else None, indexes_used=plan["indexes_used"] if plan else [],
                    node_types=plan["node_types"] if plan else [], execution_ms=None, planning_ms=None,
                    name=f"test[{case['name']}]")
        for key in ("trials", "trial_medians_ms", "median_ci_ms", "overhead"):
            case.pop(key)
    (run / "summary.json").write_text(json.dumps({"schema_version": 1, "environment": doc["environment"],
                                                  "cases": doc["cases"]}))
    html = write_report(run).read_text(encoding="utf-8")
    assert "a version 1 summary" in html and "kept no node table" in html
