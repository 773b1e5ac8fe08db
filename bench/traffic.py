"""Exact traffic of one call: PostgreSQL round trips and bytes, Redis commands, round trips and bytes.

Counted from the real traffic in an untimed pass (like plan capture), never
from a table written by hand, so a model that gains a round trip shows it:

* PostgreSQL: libpq's own protocol trace (``PGconn.trace``) of every connection
  of a dedicated *traffic engine*, switched on around the call only. Each traced
  message is a type byte plus its length field's bytes on the wire; a round trip
  is a run of messages the client sent followed by the server's answer (a change
  of direction from ``F`` to ``B``). Over TLS the wire carries a little more.
* Redis: a redis-py client whose pool's connections wrap their socket and count
  what ``sendall`` wrote and ``recv`` read, with the commands packed. A round trip
  is a send followed by data read back: a pipeline or an ``EVALSHA`` is one, an
  ``EVALSHA`` answered ``NOSCRIPT`` (then ``SCRIPT LOAD``, ``EVALSHA``) three.
  Commands are counted as redis-py sends them (``send_command``, and each
  command of a pipeline's ``pack_commands``).

The traffic model and cache (``Copy.model(..., traffic=True)``) are twins of the
timed ones on their own connections, so the timed engine and client stay
untouched; ``measure`` warms them first (prepared statements, loaded scripts)
and reports the steady state, per call, averaged over a few calls.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis
from psycopg import pq
from sqlalchemy import Engine, create_engine, event

from balance_bench.errors import BenchError
from balance_bench.results import ServerTraffic, Traffic

__all__ = ["PgTrace", "RedisMeter", "counting_redis", "traffic_engine", "TrafficProbe", "measure", "pg_traffic"]

CALLS = 3
"""Calls measured per case (after the warm-up); deterministic calls give the same traffic each time."""
WARMUP = 2


def pg_traffic(trace: str) -> tuple[int, int, int]:
    """``(round trips, bytes sent, bytes received)`` in a libpq trace (timestamps suppressed or not)."""
    round_trips = sent = received = 0
    last = ""
    for line in trace.splitlines():
        fields = line.split("\t")
        if fields and fields[0] not in ("F", "B"):
            fields = fields[1:]  # a leading timestamp
        if len(fields) < 3 or fields[0] not in ("F", "B") or not fields[1].isdigit():
            continue
        direction, length = fields[0], int(fields[1]) + 1  # the type byte, then the length field's count
        if direction == "F":
            sent += length
        else:
            received += length
            if last == "F":
                round_trips += 1
        last = direction
    return round_trips, sent, received


@dataclass
class PgTrace:
    """The psycopg connections an engine opened, traced on demand into one temporary file."""

    connections: list[psycopg.Connection[Any]] = field(default_factory=list)

    def register(self, dbapi_connection: psycopg.Connection[Any], record: Any) -> None:
        self.connections.append(dbapi_connection)

    def live(self) -> list[psycopg.Connection[Any]]:
        return [c for c in self.connections if not c.closed]

    def traced(self, call: Callable[[], Any]) -> tuple[int, int, int]:
        """Run ``call`` with every open connection traced; its round trips and bytes."""
        before = len(self.connections)
        conns = self.live()
        with tempfile.TemporaryFile() as sink:
            for conn in conns:
                conn.pgconn.trace(sink.fileno())  # libpq keeps a small stdio stream per call: a few KiB per case
                with contextlib.suppress(psycopg.NotSupportedError):  # libpq < 14: timestamps, which are skipped
                    conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                call()
            finally:
                for conn in conns:
                    if not conn.closed:
                        conn.pgconn.untrace()  # flushes what libpq buffered
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
        if len(self.connections) != before:
            raise BenchError("the model opened a PostgreSQL connection during the traffic pass; its traffic "
                             "was not traced (warm the model up first)")
        return pg_traffic(text)


def traffic_engine(url: str) -> tuple[Engine, PgTrace]:
    """An engine whose connections can be traced, and the trace that knows them."""
    engine = create_engine(url, pool_size=2)
    trace = PgTrace()
    event.listen(engine, "connect", trace.register)
    return engine, trace


class RedisMeter:
    """Commands, round trips and bytes of every connection of one counting client (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.commands = self.round_trips = self.sent = self.received = 0
            self._last: dict[int, str] = {}

    def count(self, connection: int, sent: int = 0, received: int = 0, commands: int = 0) -> None:
        with self._lock:
            self.commands += commands
            if sent:
                self.sent += sent
                self._last[connection] = "sent"
            if received:
                self.received += received
                if self._last.get(connection) == "sent":
                    self.round_trips += 1
                self._last[connection] = "received"


class _CountingSocket:
    """A socket whose sends and receives tell a meter how many bytes moved; everything else is the socket's."""

    def __init__(self, sock: Any, meter: RedisMeter) -> None:
        self._sock, self._meter = sock, meter

    def sendall(self, data: Any, *args: Any) -> None:
        self._sock.sendall(data, *args)
        self._meter.count(id(self), sent=len(memoryview(data).cast("B")))

    def send(self, data: Any, *args: Any) -> int:
        n = int(self._sock.send(data, *args))
        self._meter.count(id(self), sent=n)
        return n

    def recv(self, size: int, *args: Any) -> bytes:
        data = bytes(self._sock.recv(size, *args))
        self._meter.count(id(self), received=len(data))
        return data

    def recv_into(self, buffer: Any, *args: Any) -> int:
        n = int(self._sock.recv_into(buffer, *args))
        self._meter.count(id(self), received=n)
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _counting_class(base: type[redis.connection.AbstractConnection], meter: RedisMeter) -> type:
    class Counting(base):  # type: ignore[valid-type,misc]
        def _connect(self) -> Any:
            return _CountingSocket(super()._connect(), meter)

        def send_command(self, *args: Any, **kwargs: Any) -> Any:
            meter.count(id(self), commands=1)
            return super().send_command(*args, **kwargs)

        def pack_commands(self, commands: Any) -> Any:
            commands = list(commands)
            meter.count(id(self), commands=len(commands))
            return super().pack_commands(commands)

    Counting.__name__ = f"Counting{base.__name__}"
    return Counting


def counting_redis(url: str) -> tuple[redis.Redis, RedisMeter]:
    """A redis-py client on ``url`` (TCP, TLS or unix socket) whose every connection counts into the meter."""
    meter = RedisMeter()
    template = redis.ConnectionPool.from_url(url)
    pool = redis.ConnectionPool(connection_class=_counting_class(template.connection_class, meter),
                                **template.connection_kwargs)
    template.disconnect()
    return redis.Redis.from_pool(pool), meter  # the client owns its pool: close() disconnects it


@dataclass
class TrafficProbe:
    """What a traffic pass counts with: a traceable engine, and a counting Redis client."""

    engine: Engine
    trace: PgTrace
    redis: redis.Redis
    meter: RedisMeter

    @classmethod
    def open(cls, database_url: str, redis_url: str) -> TrafficProbe:
        engine, trace = traffic_engine(database_url)
        client, meter = counting_redis(redis_url)
        return cls(engine, trace, client, meter)

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()

    def measure(self, call: Callable[[], Any], setup: Callable[[], Any] | None = None, calls: int = CALLS,
                warmup: int = WARMUP) -> Traffic:
        """Per-call traffic of ``call`` (``setup`` before each, not counted), after ``warmup`` calls."""
        return measure(self, call, setup, calls, warmup)


def measure(probe: TrafficProbe, call: Callable[[], Any], setup: Callable[[], Any] | None = None,
            calls: int = CALLS, warmup: int = WARMUP) -> Traffic:
    """Per-call traffic of ``call`` through ``probe``'s engine and client, averaged over ``calls`` calls."""
    for _ in range(warmup):
        if setup:
            setup()
        call()
    pg = [0, 0, 0]
    cache = [0, 0, 0, 0]
    for _ in range(calls):
        if setup:
            setup()
        probe.meter.reset()
        trips, sent, received = probe.trace.traced(call)
        pg = [pg[0] + trips, pg[1] + sent, pg[2] + received]
        m = probe.meter
        cache = [cache[0] + m.commands, cache[1] + m.round_trips, cache[2] + m.sent, cache[3] + m.received]
    return Traffic(
        calls=calls,
        postgres=ServerTraffic(round_trips=pg[0] / calls, bytes_sent=pg[1] / calls, bytes_received=pg[2] / calls),
        redis=ServerTraffic(round_trips=cache[1] / calls, bytes_sent=cache[2] / calls,
                            bytes_received=cache[3] / calls, commands=cache[0] / calls),
    )
