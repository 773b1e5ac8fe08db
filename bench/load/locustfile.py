"""Locust's side of ``balance-bench load``: the model's users, the step driver, and what each process records.

Run only by Locust (``locust -f`` this file), which has already monkey-patched the
standard library with gevent: psycopg picks its wait function when first
imported, and only after the patch does it wait cooperatively (3.1.14 on); the
import-time check below refuses to run otherwise, so users never silently
serialise on the database.

Roles. The single process of a local run, or the master of a distributed one,
reads the plan (``--bb-plan``) and drives the steps from its load shape: for
each step it announces the step to every process (``bb_phase``: spawn, measure,
drain), sets the user count, reads PostgreSQL's and Redis's counters at the
window's edges, then asks each process for its records (``bb_flush`` /
``bb_data``) and writes the step's capture. Workers, here or on other machines,
need only their server URLs (``--dsn``/``--redis-url`` or the suite's
environment variables): the plan reaches them through the master's messages.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import socket
import time
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import gevent
import gevent.monkey
import psycopg
import psycopg.waiting
import redis
from locust import LoadTestShape, User, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from psycopg_pool import ConnectionPool
from sqlalchemy import Engine, create_engine

from balance_bench.bench.load.capture import DONE_FILE, ERROR_FILE, Collector, Recorder, StepBuffer, version_us
from balance_bench.bench.load.mix import WRITES, KeyRow, arguments
from balance_bench.bench.load.plan import LoadPlan, StepSpec, conninfo
from balance_bench.bench.load.probes import database_counters, redis_counters, statement_counters
from balance_bench.config import OPTIONS
from balance_bench.coordinates import CacheUse
from balance_model.cache import BalanceCache
from balance_model.connections import ConnectionSource, PooledConnections
from balance_model.errors import BalanceError, InsufficientFunds
from balance_model.model import BalanceModel
from balance_model.records import Balance

log = logging.getLogger("balance_bench.load")

ENV = {o.dest: o.env for o in OPTIONS}
OVERLAP_SLEEP_S = 0.2
FLUSH_TIMEOUT_S = 30.0
SPAWN_RATE = 1000.0  # users started or stopped per second: a step's users all start (and stop) at once
LIST_READS = frozenset({"find_by_user_id", "get_by_user", "find_by_address", "find_by_token_id"})


def _require_green_psycopg() -> str:
    """psycopg's wait function, refusing the C one: under gevent it would block every user in the process."""
    if not gevent.monkey.is_module_patched("select"):
        raise RuntimeError("this locustfile runs only under Locust (gevent has not patched the standard library)")
    if psycopg.waiting.wait is getattr(psycopg.waiting, "wait_c", None):
        raise RuntimeError("psycopg was imported before gevent patched the standard library; its waits would "
                           "serialise every user of this process")
    return str(getattr(psycopg.waiting.wait, "__name__", psycopg.waiting.wait))


WAIT_FUNCTION = _require_green_psycopg()


class Process:
    """This Locust process: its role, its server URLs, the current step, and its records."""

    def __init__(self) -> None:
        self.environment: Environment | None = None
        self.role = "local"
        self.pg_server: str | None = None
        self.redis_url: str | None = None
        self.plan: LoadPlan | None = None  # master or local only
        self.context: dict[str, Any] = {}  # seed, mix, keys: from the spawn message
        self.step: StepSpec | None = None
        self.phase = "idle"
        self.procs = 1
        self.slots = 0
        self.recorder = Recorder()
        self.pool: ConnectionPool[Any] | None = None
        self.driver: Driver | None = None  # master or local only
        self.info: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid(),
                                     "psycopg_wait": WAIT_FUNCTION}

    @property
    def index(self) -> int:
        runner = self.environment.runner if self.environment else None
        return int(getattr(runner, "worker_index", 0) or 0) if isinstance(runner, WorkerRunner) else 0

    def server_urls(self) -> tuple[str, str]:
        if not self.pg_server or not self.redis_url:
            raise RuntimeError(f"no server URLs: give --dsn and --redis-url, or set ${ENV['dsn']} and "
                               f"${ENV['redis_url']} for this Locust process")
        return self.pg_server, self.redis_url

    # ---- messages from the driver ----

    def on_phase(self, data: dict[str, Any]) -> None:
        if data["phase"] == "spawn":
            self.context = data["context"]
            self.procs = int(data["procs"])
            self.step = StepSpec.from_dict(data["step"])
            self.slots = 0
            self._close_pool()
            if "overlap_s" not in self.info:
                self.info.update(overlap_check(conninfo(self.server_urls()[0], self.step.database)))
            if self.step.pool is not None:
                self.pool = ConnectionPool(conninfo(self.server_urls()[0], self.step.database),
                                           min_size=self.step.pool, max_size=self.step.pool,
                                           kwargs={"autocommit": True}, open=True, name=self.step.label)
                self.pool.wait(timeout=60)
        self.phase = data["phase"]

    def flush(self, step: int) -> dict[str, Any]:
        return {"step": step, "payload": self.recorder.take(step, dict(self.info))}

    def _close_pool(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def close(self) -> None:
        self._close_pool()


PROCESS = Process()


def overlap_check(dsn: str) -> dict[str, Any]:
    """Two greenlets each sleep ``OVERLAP_SLEEP_S`` in PostgreSQL: cooperative waits take about one sleep, not two."""
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(2)]
    try:
        started = time.perf_counter()
        gevent.joinall([gevent.spawn(c.execute, "SELECT pg_sleep(%s)", (OVERLAP_SLEEP_S,)) for c in conns],
                       raise_error=True)
        elapsed = time.perf_counter() - started
    finally:
        for conn in conns:
            conn.close()
    return {"overlap_s": round(elapsed, 4), "cooperative": elapsed < 1.5 * OVERLAP_SLEEP_S}


# ---------------------------------------------------------------------------------------------- users


class Session:
    """One user's model for one step: its own connection (or the process's pool), its own Redis client."""

    def __init__(self, process: Process) -> None:
        step = process.step
        if step is None:
            raise RuntimeError("a user started before its step was announced")
        self.process = process
        self.step = step
        self.slot = process.slots
        process.slots += 1
        context = process.context
        self.keys: list[KeyRow] = [(int(i), int(u), int(t), str(a)) for i, u, t, a in context["keys"]]
        self.key_ids = frozenset(k[0] for k in self.keys)
        self.rng = random.Random(f"{context['seed']}:{step.index}:{process.index}:{self.slot}")
        self.operations = [op for op, _ in context["mix"]]
        self.weights = [w for _, w in context["mix"]]
        # One writer per balance: writer w of W writes only the key rows i with i % W == w, so each balance's
        # versions only grow and the staleness check can compare them.
        per_process = math.ceil(step.users / process.procs)
        writers, writer = per_process * process.procs, self.slot * process.procs + process.index
        self.owned = [row for i, row in enumerate(self.keys) if i % writers == writer] if writer < writers else []
        pg_server, redis_url = process.server_urls()
        self.redis: redis.Redis | None = None
        cache = None
        if step.cache is CacheUse.ON:
            self.redis = redis.Redis.from_url(redis_url, socket_timeout=10)
            cache = BalanceCache(self.redis, prefix=step.key_prefix)
        self.engine: Engine | None = None
        source: Engine | ConnectionSource
        if step.pool is None:
            self.engine = source = create_engine(
                conninfo(pg_server, step.database).replace("postgresql://", "postgresql+psycopg://", 1),
                pool_size=1, max_overflow=0)
            self.engine.connect().close()  # connect now: setup is never timed
        else:
            assert process.pool is not None
            source = PooledConnections(process.pool)
        self.model = BalanceModel(source, cache, max_idle_connections=1)
        self.cache = cache
        self.measuring = False

    def buffer(self) -> StepBuffer:
        return self.process.recorder.buffer(self.step.index)

    def _measuring_now(self) -> bool:
        process = self.process
        now = process.phase == "measure" and process.step is not None and process.step.index == self.step.index
        if now != self.measuring:
            self.measuring = now
            if now and self.cache is not None:
                self.cache.reset_stats()
            elif not now:
                self._flush_cache()
        return now

    def _flush_cache(self) -> None:
        if self.cache is not None:
            self.buffer().add_cache({f: (s.hits, s.misses, s.errors, s.rejected_fills)
                                     for f, s in self.cache.stats().items()})
            self.cache.reset_stats()

    def call(self) -> None:
        """One operation of the mix: timed, reported to Locust, recorded for the checks."""
        measuring = self._measuring_now()
        operation = self.rng.choices(self.operations, self.weights)[0]
        buffer = self.buffer()
        kind = self.step.label if measuring else ("warmup" if self.process.phase == "spawn" else "drain")
        if operation in WRITES and not self.owned:
            return  # more users here than the plan's share: this one only reads (never happens with even dispatch)
        started_wall = time.time()
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            if operation in WRITES:
                self._write(operation, buffer)
            else:
                self._read(operation, buffer, started_wall)
        except Exception as exc:
            error = exc
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        if measuring:
            if error is None:
                buffer.sample(operation, elapsed_ms)
            else:
                buffer.failure(operation, error)
        events.request.fire(request_type=kind, name=operation, response_time=elapsed_ms,  # type: ignore[no-untyped-call]
                            response_length=0, exception=error, context={})

    def _read(self, operation: str, buffer: StepBuffer, started_wall: float) -> None:
        row = self.keys[self.rng.randrange(len(self.keys))]
        result = self.model.read(operation, **arguments(operation, row))
        if isinstance(result, Balance):
            if result.id in self.key_ids:
                buffer.log("reads", result.id, version_us(result), started_wall)
        elif operation in LIST_READS:
            for balance in result:
                if balance.id in self.key_ids:
                    buffer.log("reads", balance.id, version_us(balance), started_wall)

    def _write(self, operation: str, buffer: StepBuffer) -> None:
        row = self.owned[self.rng.randrange(len(self.owned))]
        amount = Decimal(self.rng.randint(1, 1000)).scaleb(-6)
        ledger = buffer.ledger
        try:
            balance = (self.model.credit if operation == "credit" else self.model.debit)(row[0], amount)
        except InsufficientFunds:
            ledger.rejected_n += 1
            return
        except BalanceError:
            raise  # refused before any change (not found, invalid amount): a failure, nothing committed
        except BaseException:
            ledger.ambiguous_n += 1  # sent, then interrupted: the outcome is unknown
            raise
        if operation == "credit":
            ledger.credits += amount
            ledger.credit_n += 1
        else:
            ledger.debits += amount
            ledger.debit_n += 1
        buffer.log("writes", balance.id, version_us(balance), time.time())

    def close(self) -> None:
        if self.measuring:
            self._flush_cache()
            self.measuring = False
        self.model.close()
        if self.engine is not None:
            self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


class BalanceUser(User):
    """A client of the balance model: back-to-back calls of the step's mix, like a pgbench client."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.session: Session | None = None
        try:
            self.session = Session(PROCESS)
        except Exception as exc:
            if PROCESS.step is not None:
                buffer = PROCESS.recorder.buffer(PROCESS.step.index)
                buffer.setup_errors += 1
                buffer.failure("setup", exc)
            raise

    @task
    def call(self) -> None:
        if self.session is not None:
            self.session.call()

    def on_stop(self) -> None:
        if getattr(self, "session", None) is not None:
            assert self.session is not None
            self.session.close()


# ---------------------------------------------------------------------------------------------- driver


class Driver:
    """Runs the plan's steps on the master (or the single process) and writes each step's capture."""

    def __init__(self, environment: Environment, plan: LoadPlan) -> None:
        self.environment = environment
        self.plan = plan
        self.out = Path(plan.out_dir)
        self.collector = Collector()
        self.want = 0
        self.done = False
        self.started = False
        self._pg: dict[str, psycopg.Connection[Any]] = {}
        self._redis: redis.Redis | None = None

    @property
    def runner(self) -> Any:
        return self.environment.runner

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        self.runner.send_message(kind, data)

    def _workers(self) -> int:
        return int(self.runner.worker_count) if isinstance(self.runner, MasterRunner) else 1

    def start(self) -> None:
        self.started = True
        gevent.spawn(self._run)

    def _run(self) -> None:
        try:
            for step in self.plan.steps:
                self._step(step)
            if isinstance(self.runner, MasterRunner):
                gevent.sleep(4)  # one more stats report from every worker, for Locust's own CSV
            (self.out / DONE_FILE).write_text('{"done": true}', encoding="utf-8")
        except Exception:
            (self.out / ERROR_FILE).write_text(traceback.format_exc(), encoding="utf-8")
            log.exception("load driver failed")
        finally:
            self._close()
            self.want = 0
            self.done = True

    def _wait_users(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.runner.user_count != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Locust did not reach {count} users in {timeout:.0f} s "
                                   f"(now {self.runner.user_count})")
            gevent.sleep(0.05)

    def _step(self, step: StepSpec) -> None:
        plan = self.plan
        context = {"seed": plan.seed, "mix": plan.mix, "keys": plan.keys}
        procs = self._workers()
        self._send("bb_phase", {"phase": "spawn", "step": step.__dict__, "procs": procs, "context": context})
        self.want = step.users
        self._wait_users(step.users, 60 + step.users / 10)
        gevent.sleep(plan.warmup_s)
        before = self._snapshot(step)
        self._send("bb_phase", {"phase": "measure"})
        start_wall, started = time.time(), time.perf_counter()
        gevent.sleep(plan.duration_s)
        self._send("bb_phase", {"phase": "drain"})
        seconds, end_wall = time.perf_counter() - started, time.time()
        after = self._snapshot(step)
        users_at_end = int(self.runner.user_count)
        self.want = 0
        self._wait_users(0, plan.stop_timeout_s + 30)
        self._send("bb_flush", {"step": step.index})
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while len(self.collector.workers(step.index)) < procs and time.monotonic() < deadline:
            gevent.sleep(0.05)
        meta = {"step": step.__dict__, "window": {"start": start_wall, "end": end_wall, "seconds": seconds},
                "users": {"planned": step.users, "at_end": users_at_end}, "processes_expected": procs,
                "postgres": {"before": before["postgres"], "after": after["postgres"],
                             "statements_before": before["statements"], "statements_after": after["statements"]},
                "redis": {"before": before["redis"], "after": after["redis"]}}
        self.collector.write(step.index, self.out, step.label, meta)

    def _snapshot(self, step: StepSpec) -> dict[str, Any]:
        pg_server, redis_url = PROCESS.server_urls()
        conn = self._pg.get(step.database)
        if conn is None:
            conn = self._pg[step.database] = psycopg.connect(conninfo(pg_server, step.database), autocommit=True)
        if self._redis is None:
            self._redis = redis.Redis.from_url(redis_url, socket_timeout=10)
        return {"postgres": database_counters(conn, step.database),
                "statements": statement_counters(conn) if self.plan.statements else None,
                "redis": redis_counters(self._redis)}

    def _close(self) -> None:
        for conn in self._pg.values():
            with contextlib.suppress(psycopg.Error):
                conn.close()
        if self._redis is not None:
            self._redis.close()

    def absorb(self, worker: str, data: dict[str, Any]) -> None:
        self.collector.absorb(worker, int(data["step"]), data["payload"])


class StepShape(LoadTestShape):
    """Hands Locust the driver's user count each second; None once every step is done (headless: quit)."""

    def tick(self) -> tuple[int, float] | None:
        driver = PROCESS.driver
        if driver is None:
            return None
        if not driver.started:
            driver.start()
        if driver.done:
            return None
        return driver.want, SPAWN_RATE


# ---------------------------------------------------------------------------------------------- wiring


def _arguments(parser: Any) -> None:
    parser.add_argument("--bb-plan", default=None, include_in_web_ui=False,
                        help="balance-bench: the load plan file (master or single process)")
    parser.add_argument("--dsn", default=None, include_in_web_ui=False, is_secret=True,
                        help=f"balance-bench: PostgreSQL server URL for this process (default ${ENV['dsn']})")
    parser.add_argument("--redis-url", default=None, include_in_web_ui=False, is_secret=True,
                        help=f"balance-bench: Redis URL for this process (default ${ENV['redis_url']})")


def _on_phase(environment: Environment, msg: Any, **_: Any) -> None:
    PROCESS.on_phase(msg.data)


def _on_flush(environment: Environment, msg: Any, **_: Any) -> None:
    environment.runner.send_message("bb_data", PROCESS.flush(int(msg.data["step"])))  # type: ignore[union-attr]


def _on_data(environment: Environment, msg: Any, **_: Any) -> None:
    runner = environment.runner
    worker = f"w{runner.get_worker_index(msg.node_id)}" if isinstance(runner, MasterRunner) else "w0"  # type: ignore[no-untyped-call]
    if PROCESS.driver is not None:
        PROCESS.driver.absorb(worker, msg.data)


def _init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    PROCESS.environment = environment
    # Read now: a master's options later overwrite a worker's custom ones, and these must stay the worker's own.
    PROCESS.pg_server = getattr(options, "dsn", None) or os.environ.get(str(ENV["dsn"]))
    PROCESS.redis_url = getattr(options, "redis_url", None) or os.environ.get(str(ENV["redis_url"]))
    runner = environment.runner
    if runner is None:
        return
    if isinstance(runner, MasterRunner):
        PROCESS.role = "master"
    elif isinstance(runner, WorkerRunner):
        PROCESS.role = "worker"
    if not isinstance(runner, MasterRunner):
        runner.register_message("bb_phase", _on_phase)
        runner.register_message("bb_flush", _on_flush)
    if not isinstance(runner, WorkerRunner):
        plan_file = getattr(options, "bb_plan", None)
        if not plan_file:
            raise RuntimeError("the master (or single) process needs --bb-plan PLAN_FILE")
        plan = LoadPlan.from_json(Path(plan_file).read_text(encoding="utf-8"), plan_file)
        PROCESS.driver = Driver(environment, plan)
        runner.register_message("bb_data", _on_data)


def _quitting(environment: Environment, **_: Any) -> None:
    PROCESS.close()


# Locust's event hooks are untyped; registering by call keeps the handlers themselves typed.
events.init_command_line_parser.add_listener(_arguments)  # type: ignore[no-untyped-call]
events.init.add_listener(_init)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_quitting)  # type: ignore[no-untyped-call]


__all__ = ["BalanceUser", "StepShape"]
