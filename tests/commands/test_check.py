"""``balance-bench check`` as a user runs it: a baseline written (0), compared (0), tampered with (1, the difference
named on the terminal, in Markdown and in JUnit), each in its own process; and each user error refused in one line
(2) before any server starts."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from balance_bench.cli import main
from balance_bench.config import Config
from balance_bench.fixtures.datasets import Dataset, ensure_dataset
from balance_bench.fixtures.services import Endpoints
from balance_bench.reports.baseline import FORMAT
from balance_bench.scales import get_scale

from ..conftest import run_cli

FIND_BY_ID = "tiny-with_012-find_by_id-nocache-optimized-balance"


def _check(bench_config: Config, endpoints: Endpoints, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, on the session's servers by URL (starting and stopping embedded ones three
    times would add ~12 s and test nothing more: tests/test_cli.py runs check on its own embedded servers)."""
    return run_cli("check", "--scale", "tiny", "--cache-dir", str(bench_config.cache_dir), "--dsn", endpoints.pg_url,
                   "--redis-url", endpoints.redis_url, "--redis-prefix", "balance-bench-check-test:", *args)


@pytest.fixture()
def tiny(endpoints: Endpoints, bench_config: Config) -> Dataset:
    return ensure_dataset(endpoints, get_scale("tiny"), bench_config.seed)


@pytest.mark.services
def test_a_written_baseline_passes_its_next_check_and_a_tampered_one_fails_naming_the_case(
        bench_config: Config, endpoints: Endpoints, tiny: Dataset, tmp_path: Path) -> None:
    """Write (exit 0, its findings accepted), compare on fresh copies (exit 0, nothing differs), then compare with a
    copy whose find_by_id plan was another (exit 1: a counter regression on every output)."""
    baseline = tmp_path / "baseline.json"
    written = _check(bench_config, endpoints, "--write-baseline", str(baseline))
    assert written.returncode == 0, written.stderr
    assert written.stdout.startswith(f"check wrote the baseline {baseline}: 104 cases' counters, ")
    assert f"wrote {baseline}" in written.stderr
    again = _check(bench_config, endpoints, "--baseline", str(baseline))
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("check passed: 0 new findings and 0 counter regressions in 104 cases against "
                                   "baseline.json (scale tiny; copies without and with 012; PostgreSQL ")
    assert ", 0 counter changes\n" in again.stdout.splitlines(keepends=True)[0]
    document = json.loads(baseline.read_text(encoding="utf-8"))
    case = next(c for c in document["cases"] if c["case"] == FIND_BY_ID)
    case["counters"]["signature"] = "Seq Scan on balances"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document), encoding="utf-8")
    markdown, junit = tmp_path / "check.md", tmp_path / "check.xml"
    failed = _check(bench_config, endpoints, "--baseline", str(tampered), "--markdown", str(markdown),
                    "--junit-xml", str(junit))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.stdout.startswith("check failed: 0 new findings and 1 counter regression in 104 cases")
    line = ("tiny find_by_id [nocache, with_012, optimized, balance]: Seq Scan on balances → Index Scan using "
            "balances_pkey on balances")
    assert f"  regression  {line}\n" in failed.stdout
    assert line.split(": ", 1)[1] in markdown.read_text(encoding="utf-8")
    (suite,) = ET.parse(junit).getroot().findall("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("104", "1")


@pytest.mark.parametrize(("args", "message"), [
    (["--baseline", "{version}"],
     "check baseline schema_version 99 is not supported by this balance-bench (it reads version 1)"),
    (["--baseline", "{small}"], "is a baseline of scale small; this check runs scale tiny"),
    (["--scale", "tiny,small"], "check runs one scale at a time (one baseline each), not tiny, small"),
    (["--junit-xml", "{tmp}/absent/check.xml"], "--junit-xml {tmp}/absent/check.xml: the folder {tmp}/absent does "
                                                "not exist"),
    (["--max-seq-scan-rows", "-1"], "--max-seq-scan-rows -1: give a number of rows, 0 or more"),
], ids=["unknown-version", "other-scale", "two-scales", "no-folder", "negative-bound"])
def test_a_user_error_is_one_line_and_exit_2_before_any_server(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              args: list[str], message: str) -> None:
    """Refused before servers start (the unreachable --dsn is never reached): one line, exit 2, no traceback."""
    (tmp_path / "version.json").write_text(json.dumps({"format": FORMAT, "schema_version": 99}), encoding="utf-8")
    (tmp_path / "small.json").write_text(json.dumps({"format": FORMAT, "schema_version": 1, "scale": "small",
                                                     "dataset": {}, "servers": {}, "max_seq_scan_rows": 1000,
                                                     "findings": [], "cases": []}), encoding="utf-8")
    paths = {"version": str(tmp_path / "version.json"), "small": str(tmp_path / "small.json"), "tmp": str(tmp_path)}
    code = main(["check", "--scale", "tiny", "--dsn", "postgresql://u:hunter2@127.0.0.1:1/postgres",
                 *(arg.format(**paths) for arg in args)])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    (line,) = err.splitlines()
    assert line.startswith("balance-bench: error: ") and message.format(**paths) in line and out == ""
