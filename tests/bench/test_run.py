"""A real quick run: a complete, valid summary with plans, honest cache states, and foreign data untouched."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql
from sqlalchemy.engine import make_url

from balance_bench.config import Config
from balance_bench.fixtures.databases import PREFIX, list_owned
from balance_bench.fixtures.services import Endpoints, psycopg_dsn
from balance_bench.matrix import read_cases, reference_cases, write_cases
from balance_bench.plans.parser import read_plan
from balance_bench.results import read_summary
from balance_model.schema import INDEX_012_NAMES
from tests.conftest import run_cli

pytestmark = [pytest.mark.services, pytest.mark.slow]

SECRET = "s3cret-pw-9f2c"
PER_USER = ("find_by_user_id", "get_by_user", "total_balance_by_user", "find_by_user_id_and_token_id")


@pytest.fixture(scope="module")
def summary(real_run_dir: Path):  # type: ignore[no-untyped-def]
    return read_summary(real_run_dir / "summary.json")


def test_cli_prints_run_directory_and_report(real_run_output: subprocess.CompletedProcess[str],
                                             real_run_dir: Path) -> None:
    """The command prints the run directory and report path, and writes all four artifacts."""
    assert f"report: {real_run_dir / 'report.html'}" in real_run_output.stdout
    for name in ("summary.json", "benchmarks.json", "report.html", "plans"):
        assert (real_run_dir / name).exists(), name


def test_every_combination_exactly_once_in_every_trial(summary) -> None:  # type: ignore[no-untyped-def]
    """The summary holds each case of the tiny matrix exactly once, measured in each of the run's 3 trials."""
    expected = [c for f in (read_cases, write_cases, reference_cases) for c in f(("tiny",))]
    keys = [c.coords for c in summary.cases]
    assert len(keys) == len(set(keys)) and set(keys) == set(expected)
    assert summary.design.trials == 3 and all(set(c.trial_medians_ms) == {1, 2, 3} for c in summary.cases)


def test_database_cases_have_valid_plans(summary, real_run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Every case that touches the database has a plan file that parses, with execution time recorded."""
    for case in summary.cases:
        touches_db = case.coords.kind != "reference" and case.coords.cache != "warm"
        assert (case.plan is not None) == touches_db, case.name
        if case.plan is not None:
            plan = read_plan(real_run_dir / case.plan.file)
            assert plan.case is not None and plan.case.query == case.coords.query
            assert case.plan.execution_ms is not None and case.plan.node_types and case.plan.nodes


def test_migration_012_decides_index_use_for_per_user_queries(summary) -> None:  # type: ignore[no-untyped-def]
    """With 012 the per-user plans use one of its five indexes; without 012 none of them."""
    for case in summary.cases:
        if case.coords.query not in PER_USER or case.plan is None:
            continue
        used = set(case.plan.indexes_used) & INDEX_012_NAMES
        if case.coords.migration == "with_012":
            assert used, f"{case.name} uses {case.indexes_used}"
        else:
            assert not used, f"{case.name} uses {case.indexes_used}"


def test_cold_cases_missed_and_warm_cases_hit(summary) -> None:  # type: ignore[no-untyped-def]
    """The model's counters prove cold rounds (ours and the guide's design) missed every time and warm rounds hit."""
    cached = [c for c in summary.cases if c.coords.cache in ("cold", "guide_cold", "warm")]
    assert {c.coords.cache for c in cached} == {"cold", "guide_cold", "warm"}
    for case in cached:
        if case.coords.cache in ("cold", "guide_cold"):
            assert case.cache_hits == 0 and case.cache_misses >= case.rounds, case.name
        else:
            assert case.cache_misses == 0 and case.cache_hits >= case.rounds, case.name


def test_every_case_carries_the_traffic_its_servers_saw(summary) -> None:  # type: ignore[no-untyped-def]
    """Every case has traffic; a call reaches PostgreSQL exactly when its state says so, Redis when it is cached."""
    for case in summary.cases:
        traffic, c = case.traffic, case.coords
        assert traffic is not None and traffic.calls >= 1, case.name
        redis_only = c.query.startswith("raw_redis")
        reaches_pg = c.cache.reaches_database and not redis_only
        assert (traffic.postgres.round_trips >= 1) is reaches_pg and (traffic.postgres.bytes > 0) is reaches_pg, c
        assert (traffic.redis.round_trips >= 1) is (c.cache.cached or redis_only), c


def test_environment_is_recorded(summary, real_run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Versions, settings, machine, packages, commit and dataset fingerprint are recorded."""
    env = summary.environment
    assert env["postgres"]["version"] and "work_mem" in env["postgres"]["settings"]
    assert env["redis"]["version"] and env["machine"]["cores"] >= 1
    assert env["packages"]["pytest-benchmark"] and "commit" in env["git"]
    (dataset,) = env["datasets"]
    assert dataset["scale"] == "tiny" and dataset["fingerprint"] and dataset["rows"]["balances"] == 1000
    assert set(env["index_sizes"]["tiny"]) == INDEX_012_NAMES


def test_environment_is_recorded_without_secrets(url_run: tuple[Path, str, subprocess.CompletedProcess[str]]) -> None:
    """A run given a DSN with a password records where it ran, with the password as *** and nowhere in clear."""
    run_dir, dsn, _ = url_run
    (summary_path,) = run_dir.glob("*/summary.json")
    env = read_summary(summary_path).environment
    recorded = json.dumps(env)
    assert SECRET not in recorded
    redacted = make_url(dsn).set(drivername="postgresql+psycopg").render_as_string(hide_password=False).replace(
        SECRET, "***")
    assert env["settings"]["dsn"] == redacted and env["services"]["postgres"] == redacted
    assert ":***@" in recorded and env["postgres"]["version"]


def test_raw_timings_are_kept(summary, real_run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """pytest-benchmark's JSON keeps every raw timing, and the summary's rounds match them."""
    doc = json.loads((real_run_dir / "benchmarks.json").read_text())
    rounds: dict[str, int] = {}
    for bench in doc["benchmarks"]:
        name = bench["name"].split("[", 1)[1].rsplit("-t", 1)[0]
        rounds[name] = rounds.get(name, 0) + len(bench["stats"]["data"])
    for case in summary.cases:
        assert rounds[case.name] == case.rounds


@pytest.fixture(scope="module")
def foreign_data(endpoints: Endpoints, redis_client: redis.Redis):  # type: ignore[no-untyped-def]
    """Somebody else's database and Redis keys, on the same servers the run will use."""
    name = f"someone_else_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(psycopg_dsn(endpoints.pg_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(psycopg_dsn(endpoints.database_url(name)), autocommit=True) as conn:
        conn.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 50) g")
    keys = {f"balance:id:{uuid.uuid4().int % 1000}-foreign": b"theirs", "balance:total": b"not ours either",
            f"other-app:{uuid.uuid4().hex}": b"x"}
    previous = {k: redis_client.get(k) for k in keys}
    if any(v is not None for v in previous.values()):
        pytest.skip("the shared Redis already holds keys with these names")
    for key, value in keys.items():
        redis_client.set(key, value)
    yield name, keys
    for key in keys:
        redis_client.delete(key)
    with psycopg.connect(psycopg_dsn(endpoints.pg_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def url_run(foreign_data, endpoints: Endpoints, bench_config: Config,  # type: ignore[no-untyped-def]
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, subprocess.CompletedProcess[str]]:
    """A whole quick run pointed at the servers by URL, with a password in the DSN, next to foreign data."""
    out = tmp_path_factory.mktemp("url-run")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_BENCH_")}
    # Trust authentication ignores the password, so the run works and we can look for it everywhere.
    dsn = make_url(endpoints.pg_url).set(password=SECRET).render_as_string(hide_password=False)
    proc = run_cli("run", "--quick", "--out", str(out), "--dsn", dsn,
                   "--redis-url", endpoints.redis_url, "--cache-dir", str(bench_config.cache_dir), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, dsn, proc


def test_a_run_by_url_leaves_foreign_databases_and_keys_alone(foreign_data, url_run,  # type: ignore[no-untyped-def]
                                                               endpoints: Endpoints, redis_client: redis.Redis) -> None:
    """Pointed at servers holding other data by URL, a whole run leaves that data as it was, and no password leaks."""
    name, keys = foreign_data
    out, _, proc = url_run
    assert SECRET not in proc.stdout + proc.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"password in {path}"
    for key, value in keys.items():
        assert redis_client.get(key) == value, key
    assert not list(redis_client.scan_iter(match="balance-bench:run-*")), "the run left its own keys behind"
    with psycopg.connect(psycopg_dsn(endpoints.database_url(name))) as conn:
        assert conn.execute("SELECT count(*), sum(id) FROM t").fetchone() == (50, 1275)
    # Only this run's copies: another process may be running a run on the same shared server right now.
    (summary_path,) = out.glob("*/summary.json")
    run_id = read_summary(summary_path).environment["settings"]["key_prefix"].rsplit("run-", 1)[1].rstrip(":")
    assert len(run_id) == 10
    with psycopg.connect(psycopg_dsn(endpoints.pg_url)) as conn:
        leftovers = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                 (f"balance\\_bench\\_run\\_{run_id}%",)).fetchall()
    assert leftovers == []


def test_harness_overhead_is_measured_against_raw_twins(summary, real_run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The raw find_by_id references carry the model's twin, timed interleaved, and the report shows the ratio."""
    twins = {c.coords.query: c.overhead for c in summary.cases if c.overhead}
    assert set(twins) == {"raw_pg_find_by_id", "raw_redis_get_decode"}
    for overhead in twins.values():
        assert overhead is not None and overhead.pairs >= 30 and overhead.raw_ms > 0
        assert overhead.ratio.trials == 3 and overhead.ratio.has_interval
    assert "Harness and port overhead" in (real_run_dir / "report.html").read_text()


def test_ctrl_c_stops_a_run_and_drops_its_database_copy(endpoints: Endpoints, bench_config: Config,
                                                       tmp_path: Path) -> None:
    """SIGINT mid-run, once the run's database copy exists, exits 130 with one line and drops that copy."""
    import signal
    import sys
    import time

    from tests.conftest import REPO

    def run_copies() -> set[str]:
        return {name for name in list_owned(endpoints) if name.startswith(f"{PREFIX}run_")}

    before = run_copies()  # other runs' copies on a shared server are not ours to judge
    proc = subprocess.Popen([sys.executable, "-m", "balance_bench.cli", "run", "--quick", "--out", str(tmp_path),
                             "--cache-dir", str(bench_config.cache_dir)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while not (ours := run_copies() - before):
            assert proc.poll() is None, "the run ended before its database copy existed"
            assert time.monotonic() < deadline, "the run made no database copy within 180 s"
            time.sleep(0.1)
        time.sleep(1.0)  # into the matrix, not just past CREATE DATABASE
        ours |= run_copies() - before  # every copy it has made by now
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "balance-bench: interrupted" in err and "Traceback" not in err
    assert ours and not ours & run_copies(), f"{sorted(ours)} left behind"


def test_trials_run_every_case_once_in_a_shuffled_recorded_order(real_run_dir: Path) -> None:
    """Each trial's items carry their trial and position, positions are a permutation, and trials differ in order."""
    doc = json.loads((real_run_dir / "benchmarks.json").read_text())
    orders: dict[int, list[tuple[int, str]]] = {}
    for bench in doc["benchmarks"]:
        info = bench["extra_info"]
        orders.setdefault(info["trial"], []).append((info["position"], bench["name"].rsplit("-t", 1)[0]))
    assert set(orders) == {1, 2, 3} and doc["balance_bench"]["design"]["order_seed"] is not None
    sequences = []
    for items in orders.values():
        positions = sorted(p for p, _ in items)
        assert positions == list(range(1, len(items) + 1))
        sequences.append([name for _, name in sorted(items)])
    assert sorted(sequences[0]) == sorted(sequences[1]) and sequences[0] != sequences[1] != sequences[2]


def test_both_migration_states_are_live_and_interleaved(real_run_dir: Path) -> None:
    """Within one trial, without-012 and with-012 cases alternate: no migration switch separates them."""
    doc = json.loads((real_run_dir / "benchmarks.json").read_text())
    trial_1 = sorted((b["extra_info"]["position"], b["extra_info"]["migration"]) for b in doc["benchmarks"]
                     if b["extra_info"]["trial"] == 1)
    switches = sum(a[1] != b[1] for a, b in itertools.pairwise(trial_1))
    assert switches >= 10, f"only {switches} switches between migration states in trial 1"
