"""An in-run A/B: the baseline and the candidate as two sides of every case, timed in the same trials.

Two runs minutes apart drift more than the trials inside one run (``aa``
measures it), so a gate between runs only sees large slowdowns. In an A/B
session every case runs twice per trial, once per side, back to back in a
seeded random order, exactly as the two migration states of a comparison run
today; the per-trial ratio candidate / baseline is then taken in the same
seconds, and its interval across trials is what the regression verdict uses
(``reports.ab``). A side is a system under test (the checkout's model or a
git revision's, ``revision``), the PostgreSQL settings its connections start
with, and the server its copies live on. Each side gets a world of its own
(its own database copies and cache keys), and its results are written as a
run directory of their own, so every existing reader (summary, counters,
report) reads them unchanged.

The session finds its ``ABRun`` among pytest's plugins, like ``TopUp``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import psycopg
import pytest

from balance_bench.bench.revision import CHECKOUT, Implementation
from balance_bench.bench.world import libpq_options
from balance_bench.coordinates import Coordinates, Kind, Side
from balance_bench.errors import BenchError, redact
from balance_bench.fixtures.datasets import Dataset
from balance_bench.fixtures.services import Endpoints, psycopg_dsn

__all__ = ["SideSetup", "ABRun", "ab_of", "parse_settings", "check_settings"]


@dataclass(frozen=True)
class SideSetup:
    """What one side runs: its model, the settings of its connections, its server and datasets there."""

    side: Side
    endpoints: Endpoints
    datasets: dict[str, Dataset]
    implementation: Implementation = CHECKOUT
    settings: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        """The side as recorded in its run's environment and in ``ab.json``."""
        return {"side": str(self.side), "role": self.side.role, **self.implementation.describe(),
                "settings": dict(self.settings), "postgres": self.endpoints.describe()["postgres"]}


@dataclass(frozen=True, eq=False)  # a pytest plugin: hashed by identity
class ABRun:
    """Both sides, and the queries the A/B times (None: every read and write of the matrix)."""

    sides: tuple[SideSetup, SideSetup]
    queries: frozenset[str] | None = None

    def selects(self, case: Coordinates) -> bool:
        """Reads and writes of the chosen queries; never a reference case (a floor of the machine, not a side's)."""
        return case.kind is not Kind.REFERENCE and (self.queries is None or case.query in self.queries)

    def setup(self, side: Side) -> SideSetup:
        return next(s for s in self.sides if s.side is side)


def ab_of(config: pytest.Config) -> ABRun | None:
    """The A/B this session runs, or None for a plain run."""
    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, ABRun)), None)


_NAME = re.compile(r"[a-z_][a-z0-9_.]*")
_VALUE = re.compile(r"[A-Za-z0-9_.:+-]+")


def parse_settings(text: str) -> dict[str, str]:
    """``name=value[,name=value]``: PostgreSQL settings a side's connections start with (libpq ``options``).

    Names and values are kept to what needs no quoting on a libpq command line; the server judges the names
    (``check_settings``).
    """
    settings: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
            raise BenchError(f"--b-settings: {part!r} is not name=value (e.g. enable_indexscan=off,work_mem=4MB)")
        settings[name] = value
    return settings


def check_settings(endpoints: Endpoints, database: str, settings: dict[str, str]) -> None:
    """Connect once with ``settings`` so a name or value the server refuses is one line before any trial runs."""
    if not settings:
        return
    try:
        with psycopg.connect(psycopg_dsn(endpoints.database_url(database)), options=libpq_options(settings),
                             connect_timeout=10):
            pass
    except psycopg.Error as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BenchError(f"--b-settings {','.join(f'{k}={v}' for k, v in settings.items())}: the server refused "
                         f"them: {redact(message)}") from None
