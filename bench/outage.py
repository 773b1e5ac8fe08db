"""pytest hooks that stop a benchmark run at the first sign that PostgreSQL or Redis went away.

Without them every later case fails its setup with its own traceback: thousands
of lines for one cause. A lost server is recognised by its first error:
psycopg's OperationalError for a broken or refused connection (SQLAlchemy's
wrapper included), redis-py's ConnectionError and TimeoutError, and the suite's
own "cannot reach" error. The balance model's cache swallows Redis errors by
design (a read falls back to the database), so a case during which a cache's
error counter rose counts as a lost Redis too: it timed the fallback, not the
cache, and its timings are left out of ``benchmarks.json``.

The first outage stops the session (``session.shouldstop``) and is kept, with the
case it happened on, for ``balance-bench run``'s one line (``outage_of``); the
reports of the errors it causes shrink to one line each instead of a traceback.
``bench/conftest.py`` imports the two hooks.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import psycopg
import pytest
import redis

from balance_bench.errors import redact
from balance_bench.fixtures.plugin import config_of, preset_of
from balance_bench.fixtures.services import Endpoints, Unreachable, psycopg_dsn
from balance_model.cache import BalanceCache

__all__ = ["POSTGRESQL", "REDIS", "Outage", "lost_service", "outage_of", "pytest_runtest_call",
           "pytest_runtest_makereport"]

POSTGRESQL, REDIS = "PostgreSQL", "Redis"
# SQLSTATEs of a server that is going or gone (class 08: connection exceptions); None: the client lost it.
_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})

_OUTAGE = pytest.StashKey["Outage"]()
_SWALLOWED = pytest.StashKey[int]()  # cache errors the model swallowed during the item's call


@dataclass(frozen=True)
class Outage:
    """The first lost server of a run: which, where (password redacted) and the case it happened on."""

    service: str
    url: str
    case: str

    def __str__(self) -> str:
        return f"lost {self.service} at {self.url} during case {self.case}"


def outage_of(config: pytest.Config) -> Outage | None:
    """The run's first lost server, or None."""
    return config.stash.get(_OUTAGE, None)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the exceptions it groups, and what caused each (``__cause__``/``__context__``), each once."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def lost_service(exc: BaseException) -> tuple[str, str | None] | None:
    """(service, its URL when the error names one) if ``exc`` means a server went away, else None."""
    for e in _chain(exc):
        if isinstance(e, Unreachable):
            return e.service, e.url
        if isinstance(e, psycopg.OperationalError) and (
                e.sqlstate is None or e.sqlstate.startswith("08") or e.sqlstate in _SHUTDOWN_STATES):
            return POSTGRESQL, None
        if isinstance(e, redis.ConnectionError | redis.TimeoutError):
            return REDIS, None
    return None


def _where(item: pytest.Item, service: str, url: str | None) -> str:
    """The lost server's URL, password redacted: the one the error named, else the run's."""
    url = url or _url(item, service)
    return redact(unquote(psycopg_dsn(url)) if service == POSTGRESQL and "://" in url else url)


def _url(item: pytest.Item, service: str) -> str:
    endpoints = getattr(item, "funcargs", {}).get("endpoints")
    if not isinstance(endpoints, Endpoints):
        preset = preset_of(item.config)
        endpoints = preset.endpoints if preset is not None else None
    if endpoints is not None:
        return psycopg_dsn(endpoints.pg_url) if service == POSTGRESQL else endpoints.redis_url
    config = config_of(item.config)
    return (config.dsn if service == POSTGRESQL else config.redis_url) or f"the embedded {service}"


def _case(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return callspec.id if callspec is not None else item.name


def _caches(item: pytest.Item) -> list[BalanceCache]:
    """The caches the item's fixtures hold, directly or as an attribute (e.g. a scale state's ``cache``)."""
    found: dict[int, BalanceCache] = {}
    for value in getattr(item, "funcargs", {}).values():
        candidates = [value, *getattr(value, "__dict__", {}).values()]
        found.update((id(c), c) for c in candidates if _is_cache(c))
    return list(found.values())


def _is_cache(value: object) -> bool:
    """A cache of the model: the checkout's, or (an in-run A/B's other side) another revision's class by name."""
    return isinstance(value, BalanceCache) or (type(value).__name__ == BalanceCache.__name__
                                               and callable(getattr(value, "stats", None)))


def _errors(caches: list[BalanceCache]) -> int:
    return sum(family.errors for cache in caches for family in cache.stats().values())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Count the Redis errors the model's caches swallowed while the case ran."""
    caches = _caches(item)
    before = _errors(caches)
    try:
        return (yield)
    finally:
        item.stash[_SWALLOWED] = _errors(caches) - before


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """On the first lost server stop the session; report each error a lost server caused in one line."""
    report: pytest.TestReport = yield
    lost: tuple[str, str | None] | None = None
    if call.excinfo is not None and report.failed:
        lost = lost_service(call.excinfo.value)
    elif call.when == "call" and item.stash.get(_SWALLOWED, 0) > 0:
        lost = (REDIS, None)
        report.outcome = "failed"
        benchmark = getattr(item, "funcargs", {}).get("benchmark")
        if benchmark is not None:
            benchmark.has_error = True  # pytest-benchmark leaves errored cases out of its JSON
    if lost is None:
        return report
    service, url = lost
    first = outage_of(item.config)
    if first is None:
        first = Outage(service, _where(item, service, url), _case(item))
        item.config.stash[_OUTAGE] = first
        item.session.shouldstop = str(first)
        report.longrepr = str(first)
    else:
        report.longrepr = f"lost {service} (the run stopped: {first})"
    return report
