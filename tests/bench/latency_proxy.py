"""A small TCP proxy that delays every burst of bytes by a fixed time per direction: a network, on loopback.

The kernel's netem is not available here, so this stands in for it. Each
direction of each connection has a reader thread that stamps every chunk it
receives with ``now + delay`` and a writer thread that forwards it at that time
(sleeping, then spinning the last fraction of a millisecond, since a plain sleep
overshoots by tens of microseconds). Chunks keep their order and overlap in
flight, as on a link with latency. A zero delay takes the same path, so it
measures what the proxy itself costs.

On a loaded machine a sleeping thread wakes late (the run queue is long), which
would add to every injected delay; so the proxy asks for the lowest real-time
priority (SCHED_FIFO 1, root only), under which a timer wakes it on time and
little spinning is needed, and falls back to a higher nice priority, then to
nothing. It runs as a process of its own (no GIL shared with the client it delays):
``python tests/bench/latency_proxy.py DELAY_MS UPSTREAM [UPSTREAM ...]``, where an
upstream is ``host:port`` or a unix socket path; it prints one listening port
per upstream on one line and serves until its stdin closes. ``running_proxy``
starts and stops it.
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

SPIN_S = 0.0003  # the last 0.3 ms before a deadline are spun, not slept (0.05 ms with real-time priority)
REALTIME_SPIN_S = 0.00005


def _prioritise() -> float:
    """Real-time priority if allowed, else a better nice value; the spin this priority needs."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        return REALTIME_SPIN_S
    except (OSError, AttributeError):
        with suppress(OSError):
            os.nice(-10)
        return SPIN_S


def _connect(upstream: str) -> socket.socket:
    if upstream.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(upstream)
        return sock
    host, port = upstream.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _pump(source: socket.socket, target: socket.socket, delay_s: float, spin_s: float) -> None:
    chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def forward() -> None:
        while True:
            deadline, data = chunks.get()
            if not data:
                break
            remaining = deadline - time.perf_counter()
            if remaining > spin_s:
                time.sleep(remaining - spin_s)
            while time.perf_counter() < deadline:
                pass
            try:
                target.sendall(data)
            except OSError:
                break
        with suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=forward, daemon=True)
    writer.start()
    while True:
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        chunks.put((time.perf_counter() + delay_s, data))
        if not data:
            break
    writer.join()


def _serve(listener: socket.socket, upstream: str, delay_s: float, spin_s: float) -> None:
    while True:
        client, _ = listener.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = _connect(upstream)
        for source, target in ((client, server), (server, client)):
            threading.Thread(target=_pump, args=(source, target, delay_s, spin_s), daemon=True).start()


def main(argv: list[str]) -> None:
    delay_s = float(argv[0]) / 1000.0
    spin_s = _prioritise()  # before any thread starts: they inherit it
    ports = []
    for upstream in argv[1:]:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        ports.append(listener.getsockname()[1])
        threading.Thread(target=_serve, args=(listener, upstream, delay_s, spin_s), daemon=True).start()
    print(" ".join(map(str, ports)), flush=True)
    sys.stdin.read()  # until whoever started us closes our stdin (or dies)


@contextmanager
def running_proxy(one_way_delay_ms: float, *upstreams: str) -> Iterator[list[int]]:
    """A proxy process delaying each direction by ``one_way_delay_ms``; its loopback port per upstream."""
    proc = subprocess.Popen([sys.executable, __file__, str(one_way_delay_ms), *upstreams], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip():
            raise RuntimeError(f"the latency proxy did not start (exit {proc.poll()})")
        yield [int(port) for port in line.split()]
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
