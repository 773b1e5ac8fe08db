"""CPU placement: which CPU each --cpu setting picks, and that a run's own servers are pinned and given back."""

from __future__ import annotations

import dataclasses
import os

import psutil
import pytest

from balance_bench.bench.placement import choose_cpu, place
from balance_bench.config import CPU_AUTO, CPU_NONE, Config
from balance_bench.fixtures.services import Endpoints


def test_auto_takes_the_last_cpu_and_needs_two() -> None:
    """auto: the highest allowed CPU when there are several, nothing on one CPU; none: nothing; a number: it."""
    assert choose_cpu(CPU_AUTO, {0, 1, 3}) == 3
    assert choose_cpu(CPU_AUTO, {2}) is None
    assert choose_cpu(CPU_NONE, {0, 1}) is None
    assert choose_cpu(1, {0, 1}) == 1


def test_external_servers_are_never_moved(bench_config: Config, endpoints: Endpoints) -> None:
    """With a server given by URL nothing is pinned, and the record says why."""
    external = dataclasses.replace(endpoints, pg_embedded=False)
    placement = place(bench_config, external)
    assert placement.cpu is None and "external" in placement.reason and placement.pinned == 0


@pytest.mark.services
def test_embedded_servers_and_the_client_share_one_cpu_until_released(bench_config: Config,
                                                                      endpoints: Endpoints) -> None:
    """auto pins this process and every embedded server process to one CPU, and release gives their masks back;
    on the external servers of CI's second pass the same call moves nothing."""
    before = os.sched_getaffinity(0)
    placement = place(dataclasses.replace(bench_config, cpu=CPU_AUTO), endpoints)
    if not (endpoints.pg_embedded and endpoints.redis_embedded):
        assert placement.cpu is None and placement.pinned == 0 and os.sched_getaffinity(0) == before
        return
    assert len(before) >= 2, "this test needs a machine with two CPUs"
    servers = [psutil.Process(pid) for pid in endpoints.server_pids]
    placement.release()
    assert servers, "the embedded servers' pids are known"
    masks = {p.pid: p.cpu_affinity() for p in servers}
    placement = place(dataclasses.replace(bench_config, cpu=CPU_AUTO), endpoints)
    try:
        assert placement.cpu == max(before)
        assert os.sched_getaffinity(0) == {placement.cpu}
        assert all(p.cpu_affinity() == [placement.cpu] for p in servers)
        assert placement.pinned >= len(servers) + 1
    finally:
        placement.release()
    assert os.sched_getaffinity(0) == before
    assert {p.pid: p.cpu_affinity() for p in servers} == masks
