"""Correctness under load: money is conserved, and no read returned a value older than its invalidation.

Conservation: the sum of every ``amount`` after the run equals the sum before
plus the credits minus the debits that committed, in exact Decimal arithmetic.
Writes whose outcome is unknown (interrupted after being sent) make the check
inconclusive rather than passed.

Staleness: each balance in the key pool has one writer, so its versions
(``updated_at`` in microseconds) only grow. A write's invalidation is complete
when the model's call returns (wall-clock ``t``). A read that started after that
moment must return that write's version or a later one; returning an older one
is a stale read. The check compares every logged read with the highest version
written to its balance strictly before the read began. Wall clocks are compared
across processes: exact on one machine; with workers on several machines the
clocks must be synchronised (NTP), and a violation within their skew may be false.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from balance_bench.bench.load.capture import Ledger

__all__ = ["ConservationOutcome", "StalenessOutcome", "conservation", "staleness", "PASSED", "FAILED",
           "INCONCLUSIVE"]

PASSED, FAILED, INCONCLUSIVE = "passed", "failed", "inconclusive"


@dataclass(frozen=True)
class ConservationOutcome:
    """Sums before and after, the committed credits and debits, and the verdict."""

    sum_before: Decimal
    sum_after: Decimal
    ledger: Ledger

    @property
    def expected_after(self) -> Decimal:
        return self.sum_before + self.ledger.credits - self.ledger.debits

    @property
    def difference(self) -> Decimal:
        """``sum_after - expected_after``: zero when every committed write is accounted for."""
        return self.sum_after - self.expected_after

    @property
    def status(self) -> str:
        if self.difference != 0:
            return FAILED
        return INCONCLUSIVE if self.ledger.ambiguous_n else PASSED


def conservation(sum_before: Decimal, sum_after: Decimal, ledger: Ledger) -> ConservationOutcome:
    """Judge one database copy's money: before + credits - debits must equal after, exactly."""
    return ConservationOutcome(sum_before, sum_after, ledger)


@dataclass(frozen=True)
class StalenessOutcome:
    """How many reads could be checked, how many were stale, and a few examples."""

    reads: int
    writes: int
    checked: int  # reads of a balance written before the read began: those that could be stale
    violations: int
    examples: list[dict[str, Any]]

    @property
    def status(self) -> str:
        return FAILED if self.violations else PASSED


def staleness(reads: dict[str, np.ndarray[Any, Any]], writes: dict[str, np.ndarray[Any, Any]],
              max_examples: int = 5) -> StalenessOutcome:
    """Compare each read (``id``, ``version``, ``t`` = start) with the writes (``t`` = invalidation done) before it."""
    r = pd.DataFrame({k: reads[k] for k in ("id", "version", "t")})
    w = pd.DataFrame({k: writes[k] for k in ("id", "version", "t")})
    if r.empty or w.empty:
        return StalenessOutcome(len(r), len(w), 0, 0, [])
    w = w.sort_values(["id", "t"], kind="stable")
    w["watermark"] = w.groupby("id")["version"].cummax()
    r = r.sort_values("t", kind="stable").reset_index(drop=True)
    merged = pd.merge_asof(r, w[["t", "id", "watermark"]].sort_values("t", kind="stable"), on="t", by="id",
                           direction="backward", allow_exact_matches=False)
    checked = merged["watermark"].notna()
    stale = checked & (merged["version"] < merged["watermark"])
    examples = [{"id": int(row["id"]), "read_version_us": int(row["version"]),
                 "newest_before_us": int(row["watermark"]), "read_started": float(row["t"])}
                for row in merged[stale].head(max_examples).to_dict("records")]
    return StalenessOutcome(len(r), len(w), int(checked.sum()), int(stale.sum()), examples)
