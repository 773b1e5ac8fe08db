"""Starting, watching and stopping the Locust processes of one load run, from the CLI's side.

One process for a local run, or Locust's own master/worker mode: a master plus
N ``locust --worker`` processes on this machine, and K more that others start on
other machines. The local processes share one process group of their own (not
the terminal's foreground group), so a Ctrl-C reaches only the CLI, which then stops them
in order: SIGTERM to the master (Locust quits its workers), SIGTERM to the
workers, and SIGKILL to whatever is left of the group. On Linux each child also
gets SIGTERM should the CLI itself die (``PR_SET_PDEATHSIG``): nothing is orphaned.
Server URLs reach the children through their environment, never their command
line (which other users of the machine can read).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from balance_bench.bench.load import LOCUSTFILE
from balance_bench.bench.load.capture import DONE_FILE, ERROR_FILE
from balance_bench.config import OPTIONS
from balance_bench.errors import BenchError, redact

__all__ = ["SwarmSpec", "Swarm", "worker_command", "free_port"]

_ENV = {o.dest: o.env for o in OPTIONS}
_PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 15.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for the master's bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def worker_command(master_host: str, port: int) -> list[str]:
    """The command a worker runs: here by the CLI, or by hand on another machine (plus --dsn/--redis-url)."""
    return ["locust", "-f", str(LOCUSTFILE), "--worker", "--master-host", master_host, "--master-port", str(port)]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class SwarmSpec:
    """How to run Locust for one plan."""

    plan: Path
    out: Path  # where the driver writes captures, Locust its CSV, and each process its log
    pg_url: str
    redis_url: str
    workers: int = 1  # local load-generating processes; 1 means a single local process unless remote ones join
    remote_workers: int = 0
    bind_host: str = "127.0.0.1"
    port: int | None = None
    stop_timeout_s: float = 30.0
    expect_workers_s: float = 60.0

    @property
    def distributed(self) -> bool:
        return self.workers > 1 or self.remote_workers > 0


@dataclass
class Swarm:
    """The running Locust processes of one plan; a context manager that always stops them."""

    spec: SwarmSpec
    port: int = 0
    master: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[object] = field(default_factory=list)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[str(_ENV["dsn"])] = self.spec.pg_url
        env[str(_ENV["redis_url"])] = self.spec.redis_url
        env["PYTHONWARNINGS"] = "ignore"
        return env

    def _spawn(self, argv: list[str], log_name: str, group: int | None) -> subprocess.Popen[bytes]:
        log = (self.spec.out / log_name).open("wb")
        self._logs.append(log)
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=self._env(), cwd=self.spec.out, preexec_fn=_die_with_parent,  # noqa: PLW1509
                                process_group=0 if group is None else group)

    def start(self) -> None:
        spec = self.spec
        argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
                "--bb-plan", str(spec.plan), "--csv", str(spec.out / "locust"),
                "--stop-timeout", f"{spec.stop_timeout_s:g}", "--exit-code-on-error", "0"]
        if spec.distributed:
            self.port = spec.port or free_port("127.0.0.1" if spec.bind_host in ("127.0.0.1", "localhost") else "")
            argv += ["--master", "--expect-workers", str(spec.workers + spec.remote_workers),
                     "--expect-workers-max-wait", f"{spec.expect_workers_s:g}",
                     "--master-bind-host", spec.bind_host, "--master-bind-port", str(self.port)]
        self.master = self._spawn(argv, "locust-master.log" if spec.distributed else "locust.log", None)
        if spec.distributed:
            for i in range(spec.workers):
                command = [sys.executable, "-m", *worker_command("127.0.0.1", self.port)]  # python -m locust ...
                self.workers.append(self._spawn(command, f"locust-worker-{i}.log", self.master.pid))

    def watch(self, on_capture: Callable[[Path], None], timeout_s: float) -> None:
        """Wait for the run to finish, calling ``on_capture`` for each step capture as it lands."""
        assert self.master is not None
        seen: set[Path] = set()
        deadline = time.monotonic() + timeout_s
        while True:
            for path in sorted(self.spec.out.glob("s[0-9][0-9][0-9].json")):
                if path not in seen:
                    seen.add(path)
                    on_capture(path)
            code = self.master.poll()
            if code is not None:
                break
            if (self.spec.out / ERROR_FILE).exists():
                break  # the driver failed: Locust is quitting; stop() below makes sure
            finished = (self.spec.out / DONE_FILE).exists()  # then the master has told its workers to quit
            for i, worker in enumerate(self.workers):
                if worker.poll() is not None and not finished:
                    raise BenchError(f"Locust worker {i} exited early (status {worker.returncode}); "
                                     f"see {self.spec.out / f'locust-worker-{i}.log'}")
            if time.monotonic() > deadline:
                raise BenchError(f"the load run took longer than {timeout_s:.0f} s; stopped it "
                                 f"(see {self.spec.out})")
            time.sleep(0.2)
        for path in sorted(self.spec.out.glob("s[0-9][0-9][0-9].json")):
            if path not in seen:
                on_capture(path)
        self._check_outcome()

    def _check_outcome(self) -> None:
        error = self.spec.out / ERROR_FILE
        if error.exists():
            lines = [line for line in error.read_text(encoding="utf-8").strip().splitlines() if line.strip()]
            raise BenchError(f"the load run failed: {redact(lines[-1] if lines else 'unknown error')} "
                             f"(traceback in {error})")
        if not (self.spec.out / DONE_FILE).exists():
            code = self.master.returncode if self.master else None
            log = self.spec.out / ("locust-master.log" if self.spec.distributed else "locust.log")
            raise BenchError(f"Locust stopped before the plan was done (status {code}); see {log}: "
                             f"{redact(_last_line(log))}")

    def stop(self) -> None:
        """Stop every local Locust process: politely, then firmly. Safe to call twice."""
        procs = [p for p in (self.master, *self.workers) if p is not None]
        for proc in procs:  # master first: it tells its workers to quit
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                _wait(proc, STOP_GRACE_S if proc is self.master else 5.0)
        if self.master is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.master.pid, signal.SIGKILL)  # anything of the group still there
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for log in self._logs:
            log.close()  # type: ignore[attr-defined]
        self._logs.clear()

    @contextlib.contextmanager
    def running(self) -> Iterator[Swarm]:
        try:
            self.start()
            yield self
        finally:
            self.stop()


def _wait(proc: subprocess.Popen[bytes], seconds: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(seconds)


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "empty log"
