"""``balance-bench load``: bad input is one line and exit 2; a real quick run passes its checks; Ctrl-C and SIGTERM
leave no process, database or key behind; two Locust workers merge their percentiles exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import redis

from balance_bench.bench.load import LOCUSTFILE
from balance_bench.bench.load.percentiles import latency_stats
from balance_bench.cli import main
from balance_bench.config import Config
from balance_bench.fixtures.databases import list_owned
from balance_bench.fixtures.services import Endpoints
from balance_bench.load_records import LOAD_DIR, LOAD_FILE, read_load_record
from tests.conftest import REPO, run_cli


@pytest.mark.parametrize(("args", "message"), [
    (["--users", "0"], "--users: expected a number >= 1, got 0"),
    (["--users", "1,x"], "--users: expected a whole number"),
    (["--users", "2,2"], "repeats a count"),
    (["--mix", "chaos"], "--mix 'chaos': unknown mix"),
    (["--mix", "find_by_id=1,transfer=2"], "unknown operation 'transfer'"),
    (["--mix", "find_by_id"], "unknown mix"),
    (["--cache", "maybe"], "--cache: expected off, on or both"),
    (["--migration", "013"], "--migration: expected without_012, with_012 or both"),
    (["--duration", "0"], "--duration: must be at least 1 s"),
    (["--duration", "soon"], "--duration: expected seconds"),
    (["--pool-size", "0"], "--pool-size: expected a number >= 1"),
    (["--workers", "0"], "--workers: expected a number >= 1"),
    (["--remote-workers", "2"], "--remote-workers needs --dsn and --redis-url"),
    (["--scale", "tiny,small"], "one scale at a time"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Each bad value is refused before anything starts, as one line naming it, with status 2."""
    monkeypatch.delenv("BALANCE_BENCH_DSN", raising=False)
    monkeypatch.delenv("BALANCE_BENCH_REDIS_URL", raising=False)
    assert main(["load", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("balance-bench: error: ")
    assert message in err


def test_bad_input_from_a_real_process_is_one_line(tmp_path: Path) -> None:
    """As a user runs it: no traceback, no usage block, exit 2."""
    proc = run_cli("load", "--users", "0", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["balance-bench: error: --users: expected a number >= 1, got 0"]
    assert not any(tmp_path.iterdir())  # nothing was started or written


def test_locustfile_flag_prints_the_file_workers_need(capsys: pytest.CaptureFixture[str]) -> None:
    """``--locustfile`` prints the path to hand to ``locust -f`` on other machines."""
    assert main(["load", "--locustfile"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == LOCUSTFILE and path.is_file()


def _run_dir(stdout: str) -> Path:
    line = next(line for line in stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: "))


def _check_exact_percentiles(run_dir: Path) -> None:
    """Every step's percentiles equal those recomputed here from the union of the raw arrays."""
    record = read_load_record(run_dir / LOAD_FILE)
    for step in record.steps:
        with np.load(run_dir / step.arrays) as data:
            arrays = {k: data[k] for k in data.files}
        union = np.concatenate([v for k, v in arrays.items() if k.startswith("samples.")])
        assert step.requests == union.size > 0
        for q in (50, 95, 99):
            assert getattr(step, f"p{q}_ms") == pytest.approx(float(np.percentile(union, q)), rel=1e-12)
        for op in step.operations:
            parts = [v for k, v in arrays.items() if k.startswith(f"samples.{op.operation}.")]
            assert op.p99_ms == latency_stats(parts)["p99_ms"]


@pytest.mark.services
@pytest.mark.slow
def test_quick_load_run_passes_its_checks(tmp_path: Path, bench_config: Config, endpoints: Endpoints) -> None:
    """``load --quick``: exit 0, money conserved, no stale read, users really overlap, exact percentiles, a report."""
    before = set(list_owned(endpoints))
    proc = run_cli("load", "--quick", "--out", str(tmp_path), "--cache-dir", str(bench_config.cache_dir))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = _run_dir(proc.stdout)
    record = read_load_record(run_dir / LOAD_FILE)
    assert [c.status for c in record.conservation] == ["passed"]
    assert record.conservation[0].credit_n + record.conservation[0].debit_n > 0
    assert [s.status for s in record.staleness] == ["passed"] and record.staleness[0].checked > 0
    assert record.processes and all(p["cooperative"] and p["psycopg_wait"] != "wait_c" for p in record.processes)
    assert all(s.requests > 0 and s.failures == 0 for s in record.steps)
    assert {s.users for s in record.steps} == {1, 3}
    assert record.settings["scale"] == "tiny" and record.environment["packages"]
    assert all(s.hit_rate is not None and s.redis["total_commands_processed"] > 0 for s in record.steps)
    assert (run_dir / "report.html").read_text().count("Money conservation") == 1
    assert (run_dir / LOAD_DIR / "locust_stats.csv").exists()
    _check_exact_percentiles(run_dir)
    assert "money conservation (with_012): passed" in proc.stdout
    assert set(list_owned(endpoints)) == before  # the run's copy is gone


@pytest.mark.services
@pytest.mark.slow
def test_two_workers_merge_their_percentiles_exactly(tmp_path: Path, bench_config: Config) -> None:
    """``--workers 2``: Locust's master and two workers; both generate load and the figures are the union's."""
    proc = run_cli("load", "--quick", "--workers", "2", "--users", "4", "--mix", "reads", "--out", str(tmp_path),
                   "--cache-dir", str(bench_config.cache_dir))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = _run_dir(proc.stdout)
    record = read_load_record(run_dir / LOAD_FILE)
    assert [s.processes for s in record.steps] == [2]
    with np.load(run_dir / record.steps[0].arrays) as data:
        workers = {k.rsplit(".", 1)[1] for k in data.files if k.startswith("samples.") and data[k].size}
    assert workers == {"w0", "w1"}
    assert len({p["pid"] for p in record.processes}) == 2
    _check_exact_percentiles(run_dir)
    assert (run_dir / LOAD_DIR / "locust-worker-1.log").exists()


def _load_databases(endpoints: Endpoints) -> set[str]:
    return {name for name in list_owned(endpoints) if name.startswith("balance_bench_load_")}


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_interrupting_a_run_leaves_nothing_behind(sig: signal.Signals, status: int, tmp_path: Path,
                                                  bench_config: Config, endpoints: Endpoints) -> None:
    """Ctrl-C (SIGINT) or SIGTERM mid-step: the CLI exits with 130/143 and every process it started is gone,
    Locust's included, as are its database copy and its cache keys."""
    before = _load_databases(endpoints)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    cli = subprocess.Popen([sys.executable, "-m", "balance_bench.cli", "load", "--quick", "--duration", "60",
                            "--out", str(tmp_path), "--cache-dir", str(bench_config.cache_dir)],
                           cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    descendants: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and cli.poll() is None:
            descendants = psutil.Process(cli.pid).children(recursive=True)
            if any("locust" in " ".join(p.cmdline()) for p in descendants if p.is_running()) and \
                    list(tmp_path.glob(f"*/{LOAD_DIR}/locust.log")):
                break
            time.sleep(0.2)
        assert cli.poll() is None, cli.communicate()
        time.sleep(4)  # users are running now
        descendants = psutil.Process(cli.pid).children(recursive=True)
        assert any("locust" in " ".join(p.cmdline()) for p in descendants)
        cli.send_signal(sig)
        _, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    assert cli.returncode == status, err[-2000:]
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, [p.cmdline() for p in alive]
    assert _load_databases(endpoints) == before
    if not endpoints.redis_embedded:
        client = redis.Redis.from_url(endpoints.redis_url)
        try:
            assert not list(client.scan_iter(match=f"{endpoints.redis_prefix}load-*"))
        finally:
            client.close()


def test_record_json_is_plain(tmp_path: Path) -> None:
    """A load.json is ordinary JSON a notebook can open without balance-bench (no custom encodings)."""
    from tests.test_load_records import record

    (tmp_path / LOAD_FILE).write_text(record().to_json())
    assert json.loads((tmp_path / LOAD_FILE).read_text())["schema_version"] == 1
