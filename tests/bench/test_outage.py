"""A server lost mid-run stops the run at its first error with one line naming it; other failures do not stop it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError as SQLAlchemyOperationalError

from balance_bench.bench.outage import POSTGRESQL, REDIS, lost_service
from balance_bench.fixtures.services import Endpoints, check_redis, embedded_postgres_dir, psycopg_dsn
from tests.conftest import REPO, Private

pytest_plugins = ("pytester",)

SECRET = "hunter2"
CLOSED_PG = f"postgresql+psycopg://bob:{SECRET}@127.0.0.1:1/postgres"
CLOSED_REDIS = f"redis://:{SECRET}@127.0.0.1:1/0"


def _raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("no exception")


def test_refused_and_dropped_connections_are_lost_servers(tmp_path: Path) -> None:
    """Refused PostgreSQL (psycopg or SQLAlchemy) and Redis connections, and "cannot reach" errors, are lost servers."""
    refused = _raised(lambda: psycopg.connect(psycopg_dsn(CLOSED_PG), connect_timeout=3))
    assert lost_service(refused) == (POSTGRESQL, None)
    wrapped = _raised(lambda: create_engine(CLOSED_PG).connect())
    assert isinstance(wrapped, SQLAlchemyOperationalError) and lost_service(wrapped) == (POSTGRESQL, None)
    no_socket = _raised(lambda: redis.Redis(unix_socket_path=str(tmp_path / "none.sock")).ping())
    assert lost_service(no_socket) == (REDIS, None)
    assert lost_service(_raised(lambda: check_redis(CLOSED_REDIS))) == (REDIS, CLOSED_REDIS)
    assert lost_service(_raised(lambda: int("x"))) is None


@pytest.mark.services
def test_a_terminated_session_is_lost_but_a_cancelled_query_is_not(endpoints: Endpoints,
                                                                    redis_client: redis.Redis) -> None:
    """An administrator's termination is a lost PostgreSQL; a statement timeout or a Redis error reply is not."""
    dsn = psycopg_dsn(endpoints.pg_url)
    with psycopg.connect(dsn, autocommit=True) as victim, psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (victim.info.backend_pid,))
        time.sleep(0.2)
        assert lost_service(_raised(lambda: victim.execute("SELECT 1"))) == (POSTGRESQL, None)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 10")
        cancelled = _raised(lambda: conn.execute("SELECT pg_sleep(1)"))
    assert isinstance(cancelled, psycopg.OperationalError) and lost_service(cancelled) is None
    assert lost_service(_raised(lambda: redis_client.eval("return redis.error_reply('boom')", 0))) is None


CONFTEST = f"""
import pytest
from balance_bench.bench.outage import pytest_runtest_call, pytest_runtest_makereport  # noqa: F401
from balance_bench.fixtures.services import Endpoints

@pytest.fixture
def endpoints():
    return Endpoints("{CLOSED_PG}", "{CLOSED_REDIS}", "", pg_embedded=False, redis_embedded=False)
"""

LOST_REDIS = """
import pytest, redis

def test_a_plain_failure():
    assert 1 == 2

@pytest.mark.parametrize("case", ["first", "second"])
def test_lost(endpoints, case):
    redis.Redis.from_url(endpoints.redis_url, socket_connect_timeout=1).ping()
"""


def test_first_lost_server_stops_the_session_in_one_line(pytester: pytest.Pytester) -> None:
    """An ordinary failure lets the session go on; the first lost Redis stops it, named with its password redacted."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(LOST_REDIS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "Interrupted: lost Redis at redis://:***@127.0.0.1:1/0 during case first" in out
    assert "test_lost[second]" not in out and SECRET not in out
    assert "assert 1 == 2" in out, "an ordinary failure keeps its traceback"


SWALLOWED = """
import pytest, redis
from balance_model.cache import BalanceCache
from balance_model.codec import RecordCodec
from balance_model.records import Balance

class State:
    def __init__(self, url):
        self.cache = BalanceCache(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1), "{prefix}")

    def read(self):
        return self.cache.read_through("find_by_id", {{"id": 1}}, lambda: None, RecordCodec(Balance))

@pytest.fixture
def live():
    return State("{live}")

@pytest.fixture
def dead():
    return State("{dead}")

def test_on_a_live_redis(endpoints, live):
    assert live.read() is None

def test_on_a_dead_redis(endpoints, dead):
    assert dead.read() is None

def test_after(endpoints, live):
    assert live.read() is None
"""


@pytest.mark.services
def test_errors_the_cache_swallowed_count_as_a_lost_redis(pytester: pytest.Pytester, endpoints: Endpoints,
                                                          key_prefix: str, tmp_path: Path) -> None:
    """A case passes on a live Redis; on a dead one, whose errors the cache swallows, it fails as a lost Redis."""
    pytester.makeconftest(CONFTEST)
    dead = f"unix://{tmp_path / 'none.sock'}"
    pytester.makepyfile(SWALLOWED.format(live=endpoints.redis_url, dead=dead, prefix=key_prefix))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1, failed=1)
    # The error was swallowed, so the run's Redis (the endpoints') is the one named.
    expected = "Interrupted: lost Redis at redis://:***@127.0.0.1:1/0 during case test_on_a_dead_redis"
    assert expected in result.stdout.str()


@pytest.mark.slow
def test_postgres_stopped_mid_run_is_one_line_exit_2_and_partial_results(private: Private) -> None:
    """Stopping the embedded PostgreSQL mid-run: one error line naming it and the case, exit 2, partial results kept."""
    out = private.tmp / "outage-runs"
    proc = subprocess.Popen([sys.executable, "-m", "balance_bench.cli", "run", "--quick", "--cache-dir",
                             str(private.cache_dir), "--out", str(out)], cwd=REPO, env=private.env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while len(list(out.glob("*/plans/*.json"))) < 3:  # under way: cases have run
            assert proc.poll() is None and time.monotonic() < deadline, "the run never got under way"
            time.sleep(0.2)
        postmaster = int((embedded_postgres_dir(private.cache_dir) / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGINT)  # fast shutdown: sessions are cut
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("balance-bench:")]
    assert len(lines) == 1, stderr
    match = re.fullmatch(r"balance-bench: error: lost PostgreSQL at postgresql://postgres:\*\*\*@/postgres\?host=\S+ "
                         r"during case (tiny-\S+); partial results in (\S+)", lines[0])
    assert match, lines[0]
    assert "Traceback" not in stdout + stderr
    assert len((stdout + stderr).splitlines()) < 100
    measured = json.loads((Path(match[2]) / "benchmarks.json").read_text())["benchmarks"]
    assert measured and all(b["name"].startswith("test_") for b in measured)
    assert private.servers() == [], "the run left a server behind"
