"""Where the timed client and the servers it started run: one CPU, so a round trip never crosses cores.

On small virtual machines a loopback round trip to a server on *another* vCPU
costs two to three times one on the same vCPU, and which of the two a case gets
depends on where the scheduler happened to put the processes during its block:
per-trial medians of one case then jump between two levels (0.05 vs 0.11 ms for
a warm ``find_by_id`` on this 2-core machine), and the ratios the verdicts state
jump with them. Pinning the client, the embedded postmaster with every backend
it has forked (later backends inherit the mask) and the embedded redis-server to
one CPU removes that mode switch. Request and reply are strictly sequential, so
nothing that could run in parallel is serialised.

Only processes the suite started are moved (never an external server), and
their masks are restored on ``release``. With external servers nothing is
pinned: half a placement would measure a different path than either choice.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import psutil

from balance_bench.config import CPU_AUTO, CPU_NONE, Config
from balance_bench.fixtures.services import Endpoints

__all__ = ["Placement", "place", "choose_cpu"]

log = logging.getLogger(__name__)


@dataclass
class Placement:
    """The CPU everything timed runs on (None: unpinned, with the reason), and how to undo it."""

    cpu: int | None
    reason: str
    pinned: int = 0  # processes moved (the client included)
    _restore: list[tuple[psutil.Process, list[int]]] = field(default_factory=list, repr=False)
    _client_mask: set[int] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        """For the run's environment record."""
        return {"cpu": self.cpu, "reason": self.reason, "processes_pinned": self.pinned}

    def release(self) -> None:
        """Give every moved process its old CPU mask back (the servers may outlive this run)."""
        for proc, mask in self._restore:
            with contextlib.suppress(psutil.Error, OSError):  # gone already: nothing to restore
                proc.cpu_affinity(mask)
        self._restore.clear()
        if self._client_mask is not None:
            os.sched_setaffinity(0, self._client_mask)
            self._client_mask = None


def choose_cpu(setting: str | int, allowed: set[int]) -> int | None:
    """The CPU ``setting`` asks for among ``allowed``: the last one for auto, none for none or a single CPU."""
    if setting == CPU_NONE:
        return None
    if setting == CPU_AUTO:
        return max(allowed) if len(allowed) > 1 else None
    return int(setting)


def _server_processes(endpoints: Endpoints) -> list[psutil.Process]:
    found: list[psutil.Process] = []
    for pid in endpoints.server_pids:
        try:
            root = psutil.Process(pid)
            found.extend([root, *root.children(recursive=True)])
        except psutil.Error:
            continue
    return found


def place(config: Config, endpoints: Endpoints) -> Placement:
    """Pin this process and the embedded servers' processes per ``config.cpu``; the record of what was done."""
    if config.cpu == CPU_NONE:
        return Placement(None, "not pinned (--cpu none)")
    if not (endpoints.pg_embedded and endpoints.redis_embedded):
        return Placement(None, "not pinned: external servers are not the suite's to move")
    allowed = os.sched_getaffinity(0)
    cpu = choose_cpu(config.cpu, allowed)
    if cpu is None:
        return Placement(None, "not pinned: one CPU only")
    placement = Placement(cpu, f"client and embedded servers on CPU {cpu}")
    for proc in _server_processes(endpoints):
        try:
            old = proc.cpu_affinity()
            proc.cpu_affinity([cpu])
        except (psutil.Error, OSError) as exc:
            log.info("could not pin pid %s: %s", proc.pid, exc)
            continue
        placement._restore.append((proc, old))
        placement.pinned += 1
    placement._client_mask = allowed
    os.sched_setaffinity(0, {cpu})
    placement.pinned += 1
    return placement
