"""Where a case sits in the benchmark matrix: one frozen type and the named states it is made of.

Cases (``bench``), result records (``results``), comparisons and renderers
(``reports``) all speak this one type, so a coordinate is spelled in one place
and a state such as ``invalidate`` is cached because it says so, not because
some module compares against ``"nocache"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from balance_bench.errors import BenchError
from balance_model.queries import PROJECTIONS as MODEL_PROJECTIONS

__all__ = ["Kind", "CacheState", "Migration", "Side", "LEGACY", "EXPLICIT_JOINED", "OPTIMIZED", "PROJECTIONS",
           "Coordinates", "FIELDS"]


class Kind(StrEnum):
    """What a case times: a read of the model, a write with its invalidation, or a raw-client floor."""

    READ = "read"
    WRITE = "write"
    REFERENCE = "reference"


class CacheState(StrEnum):
    """The cache's state while a case is timed."""

    NOCACHE = "nocache"  # caching off: the database path alone
    COLD = "cold"  # the key deleted before every round: miss, database read, fill
    GUIDE_COLD = "guide_cold"  # as cold, through the guide's own cache design: plain GET, then SET with TTL
    WARM = "warm"  # the key filled before timing: every round a hit
    INVALIDATE = "invalidate"  # a write through the cached model, invalidation included
    RAW = "raw"  # a raw client, no model at all (reference cases)

    @property
    def cached(self) -> bool:
        """Whether the model under test has a cache in this state."""
        return self in (CacheState.COLD, CacheState.GUIDE_COLD, CacheState.WARM, CacheState.INVALIDATE)

    @property
    def guide_design(self) -> bool:
        """Whether the model's cache is the guide's as written (``FillMode.GUIDE``) rather than ours."""
        return self is CacheState.GUIDE_COLD

    @property
    def reaches_database(self) -> bool:
        """Whether a call in this state reaches PostgreSQL (a warm read does not)."""
        return self is not CacheState.WARM


class Migration(StrEnum):
    """The schema state: before migration 012 or with its five indexes."""

    WITHOUT_012 = "without_012"
    WITH_012 = "with_012"


class CacheUse(StrEnum):
    """Load mode's cache coordinate: whether the model runs with the cache at all during a step.

    The matrix's ``CacheState`` says which state one timed call finds the cache in (a miss, a hit ...); under load
    the cache is in every state at once, so a step only says whether it is used. ``off`` is the matrix's
    ``nocache``: the database path alone.
    """

    OFF = "off"
    ON = "on"


class Side(StrEnum):
    """One side of an in-run A/B (``balance-bench ab``): the baseline and the candidate, timed in the same trials.

    Each side's results are a run directory of their own, named by the side's value under the A/B directory.
    """

    A = "a"  # the baseline
    B = "b"  # the candidate

    @property
    def role(self) -> str:
        """The side's role in words."""
        return "baseline" if self is Side.A else "candidate"


class _UnknownProjection(BenchError, ValueError):
    """A projection outside ``PROJECTIONS``: a BenchError, and a ValueError so ``from_dict`` says where it was read."""


PROJECTIONS: tuple[str, ...] = MODEL_PROJECTIONS
"""The row reads' projections, the model's own names (``balance_model.queries``), named once here for the harness."""
LEGACY, EXPLICIT_JOINED, OPTIMIZED = PROJECTIONS
# LEGACY: the guide's "Before" (balances.* + joined user and token columns); OPTIMIZED: its "After" (explicit
# columns, no joins); EXPLICIT_JOINED: the After's columns over the Before's joins. LEGACY / EXPLICIT_JOINED is
# what narrowing the columns buys, EXPLICIT_JOINED / OPTIMIZED what dropping the joins buys.


@dataclass(frozen=True, order=True)
class Coordinates:
    """One point of the matrix. ``experiment``/``variant`` are empty for the guide's own matrix."""

    kind: Kind
    query: str
    cache: CacheState
    migration: Migration
    scale: str
    projection: str
    param_kind: str
    experiment: str = ""
    variant: str = ""

    def __post_init__(self) -> None:
        if self.projection not in PROJECTIONS:
            raise _UnknownProjection(f"unknown projection {self.projection!r}; known: {', '.join(PROJECTIONS)}")

    @property
    def id(self) -> str:
        """The case's stable name: pytest parameter id, plan file stem and summary ``name``."""
        parts = [self.scale, self.migration, self.query, self.cache, self.projection, self.param_kind]
        if self.experiment or self.variant:
            parts += [self.experiment, self.variant]
        return "-".join(parts)

    @property
    def group(self) -> str:
        """pytest-benchmark's group: every cache and migration state of one question side by side."""
        return f"{self.scale} {self.query} {self.param_kind}"

    @property
    def label(self) -> str:
        """The coordinates as one readable string."""
        extra = f", {self.experiment}/{self.variant}" if self.experiment or self.variant else ""
        return (f"{self.scale} {self.query} [{self.cache}, {self.migration}, {self.projection}, "
                f"{self.param_kind}{extra}]")

    def with_(self, **changes: Any) -> Coordinates:
        """These coordinates with some fields changed (e.g. the other migration state)."""
        return Coordinates.from_dict({**self.as_dict(), **{k: str(v) for k, v in changes.items()}})

    def as_dict(self) -> dict[str, str]:
        """Plain strings, for JSON and DataFrames."""
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "coordinates") -> Coordinates:
        """Validated coordinates from their JSON form; a BenchError names the first bad field."""
        try:
            return cls(
                kind=Kind(raw["kind"]),
                query=_text(raw, "query", where),
                cache=CacheState(raw["cache"]),
                migration=Migration(raw["migration"]),
                scale=_text(raw, "scale", where),
                projection=_text(raw, "projection", where),
                param_kind=_text(raw, "param_kind", where),
                experiment=str(raw.get("experiment") or ""),
                variant=str(raw.get("variant") or ""),
            )
        except KeyError as exc:
            raise BenchError(f"{where} lacks {exc.args[0]}") from None
        except ValueError as exc:
            raise BenchError(f"{where}: {exc}") from None


def _text(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw[name]
    if not isinstance(value, str) or not value:
        raise BenchError(f"{where}.{name} is not a non-empty string")
    return value


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Coordinates))
"""The coordinate names, in order: the columns every tidy DataFrame of cases carries."""
