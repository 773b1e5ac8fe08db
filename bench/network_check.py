"""The projection against reality: the main reads timed directly and through a latency-injecting proxy.

For each of the matrix's main reads in each cache state, three paths are timed
call by call in a seeded random order (so drift favours none): directly, through
the proxy with no delay (what the proxy itself costs), and through the proxy
with ``rtt_ms`` injected (half per direction). The case's round trips are
counted by the traffic pass (``bench/traffic.py``) and the projection is the
network module's own (``balance_bench.network``, bandwidth left out: the proxy
adds none). Used by ``test_traffic.py`` and ``scripts/network_check.py``.
"""

from __future__ import annotations

import functools
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
from sqlalchemy import create_engine, make_url

from balance_bench.bench.traffic import TrafficProbe
from balance_bench.config import DEFAULT_SEED
from balance_bench.coordinates import CacheState
from balance_bench.fixtures.datasets import ensure_dataset
from balance_bench.fixtures.latency_proxy import running_proxy
from balance_bench.fixtures.services import Endpoints
from balance_bench.matrix import READS
from balance_bench.network import Link, Profile, projected_ms
from balance_bench.results import Traffic
from balance_bench.scales import get_scale
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel

MAIN_READS = (("find_by_id", "balance"), ("find_by_user_id", "typical"),
              ("find_by_user_id_and_token_id", "pair"), ("total_balance_by_user", "typical"))
STATES = (CacheState.NOCACHE, CacheState.COLD, CacheState.WARM)
PATHS = ("direct", "proxy", "delayed")


@dataclass(frozen=True)
class Row:
    """One read in one cache state: its round trips, its three medians, and the two projections."""

    query: str
    cache: CacheState
    traffic: Traffic
    medians_ms: dict[str, float]
    rtt_ms: float

    @property
    def profile(self) -> Profile:
        return Profile(f"injected {self.rtt_ms:g} ms", Link(self.rtt_ms), Link(self.rtt_ms))

    @property
    def from_direct(self) -> float:
        """The projection from the direct (unproxied) median."""
        return projected_ms(self.medians_ms["direct"], self.traffic, self.profile)

    @property
    def from_proxy(self) -> float:
        """The projection from the zero-delay proxy's median: the proxy's own cost on both sides."""
        return projected_ms(self.medians_ms["proxy"], self.traffic, self.profile)

    def error(self, projected: float) -> float:
        """Relative error of ``projected`` against the delayed measurement."""
        return (projected - self.medians_ms["delayed"]) / self.medians_ms["delayed"]


def _pg_upstream(url: str) -> str:
    parsed = make_url(url)
    host = parsed.query.get("host")
    host = host[0] if isinstance(host, tuple) else host
    port = parsed.port or 5432
    if parsed.host:
        return f"{parsed.host}:{port}"
    return f"{host or '/tmp'}/.s.PGSQL.{port}"


def _redis_upstream(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path, parse_qs(parts.query).get("db", ["0"])[0]
    return f"{parts.hostname}:{parts.port or 6379}", (parts.path.strip("/") or "0")


@contextmanager
def _paths(endpoints: Endpoints, database_url: str, rtt_ms: float) -> Iterator[dict[str, tuple[str, str]]]:
    """(database URL, Redis URL) per path: direct, through a zero-delay proxy, through a delaying one."""
    pg_up = _pg_upstream(database_url)
    redis_up, db = _redis_upstream(endpoints.redis_url)
    password = urlsplit(endpoints.redis_url).password
    auth = f":{password}@" if password else ""
    with running_proxy(0.0, pg_up, redis_up) as zero, running_proxy(rtt_ms / 2, pg_up, redis_up) as delayed:
        def via(ports: list[int]) -> tuple[str, str]:
            pg = make_url(database_url).set(host="127.0.0.1", port=ports[0], query={})
            return pg.render_as_string(hide_password=False), f"redis://{auth}127.0.0.1:{ports[1]}/{db}"
        yield {"direct": (database_url, endpoints.redis_url), "proxy": via(zero), "delayed": via(delayed)}


def run_check(endpoints: Endpoints, rtt_ms: float = 1.0, rounds: int = 40, seed: int = 13,
              only: set[tuple[str, CacheState]] | None = None) -> list[Row]:
    """Every main read x cache state (or ``only`` those), timed on the three paths; the tiny dataset, keys under a
    private prefix."""
    dataset = ensure_dataset(endpoints, get_scale("tiny"), DEFAULT_SEED)
    database_url = endpoints.database_url(dataset.database)
    prefix = f"{endpoints.redis_prefix}netcheck-{uuid.uuid4().hex[:8]}:"
    admin = redis.Redis.from_url(endpoints.redis_url)
    rows = []
    with ExitStack() as stack, _paths(endpoints, database_url, rtt_ms) as paths:
        models: dict[tuple[str, bool], BalanceModel] = {}
        for name, (pg_url, redis_url) in paths.items():
            engine = create_engine(pg_url, pool_size=2)
            stack.callback(engine.dispose)
            client = redis.Redis.from_url(redis_url)
            stack.callback(client.close)
            cache = BalanceCache(client, prefix=prefix)
            for cached in (False, True):
                models[(name, cached)] = BalanceModel(engine, cache if cached else None)
                stack.callback(models[(name, cached)].close)
        probe = TrafficProbe.open(database_url, endpoints.redis_url)
        stack.callback(probe.close)
        counted = {cached: BalanceModel(probe.engine, BalanceCache(probe.redis, prefix=prefix) if cached else None)
                   for cached in (False, True)}
        for model in counted.values():
            stack.callback(model.close)
        try:
            for query, kind in MAIN_READS:
                args = READS[query].args[kind](dataset.params)
                for state in STATES:
                    if only is not None and (query, state) not in only:
                        continue
                    key = BalanceCache(admin, prefix=prefix).key_for(query, **args)
                    setup: Callable[[], Any] | None = (lambda k=key: admin.delete(k)) if state is CacheState.COLD \
                        else None
                    model = counted[state.cached]
                    traffic = probe.measure(functools.partial(model.read, query, **args), setup)
                    rows.append(Row(query, state, traffic, _medians(models, state, query, args, setup, rounds,
                                                                      random.Random(f"{seed}:{query}:{state}")),
                                    rtt_ms))
        finally:
            keys = list(admin.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                admin.delete(*keys)
            admin.close()
    return rows


def _medians(models: dict[tuple[str, bool], BalanceModel], state: CacheState, query: str, args: dict[str, Any],
             setup: Callable[[], Any] | None, rounds: int, order: random.Random) -> dict[str, float]:
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    for path in PATHS:  # warm-up: connections, prepared statements, scripts, and the warm key
        for _ in range(3):
            if setup:
                setup()
            models[(path, state.cached)].read(query, **args)
    for _ in range(rounds):
        paths = list(PATHS)
        order.shuffle(paths)
        for path in paths:
            model = models[(path, state.cached)]
            if setup:
                setup()
            start = time.perf_counter()
            model.read(query, **args)
            times[path].append(time.perf_counter() - start)
    return {path: statistics.median(values) * 1000.0 for path, values in times.items()}


def table(rows: list[Row]) -> str:
    """The comparison as a plain-text table."""
    head = (f"{'read':30} {'cache':8} {'rt pg+redis':>11} {'direct':>8} {'proxy0':>8} {'delayed':>8} "
            f"{'proj(direct)':>12} {'err':>7} {'proj(proxy0)':>12} {'err':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        m = r.medians_ms
        trips = f"{r.traffic.postgres.round_trips:g}+{r.traffic.redis.round_trips:g}"
        lines.append(f"{r.query:30} {r.cache:8} {trips:>11} {m['direct']:8.3f} {m['proxy']:8.3f} "
                     f"{m['delayed']:8.3f} {r.from_direct:12.3f} {r.error(r.from_direct):+7.1%} "
                     f"{r.from_proxy:12.3f} {r.error(r.from_proxy):+7.1%}")
    return "\n".join(lines)
