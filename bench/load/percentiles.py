"""Latency statistics from raw samples: per-process arrays merged by concatenation, never by averaging percentiles.

Why raw samples rather than an HDR histogram: a step's samples fit in memory
(8 bytes per request), concatenating them is exact, and so are the percentiles
of the union, with no bucket resolution to state; the same arrays also draw the
report's distributions. Percentiles interpolate linearly between order
statistics (numpy's default, Hyndman and Fan's type 7).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["PERCENTILES", "merge", "latency_stats"]

PERCENTILES: tuple[int, ...] = (50, 95, 99)


def merge(parts: Iterable[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    """The union of every process's samples (order is irrelevant to every statistic below)."""
    arrays = [np.asarray(p, dtype=np.float64) for p in parts]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def latency_stats(parts: Iterable[np.ndarray[Any, Any]]) -> dict[str, float | int | None]:
    """Count, mean, p50/p95/p99 and max (ms) of the merged samples; None figures when there are none."""
    samples = merge(parts)
    if samples.size == 0:
        return {"count": 0, "mean_ms": None, "max_ms": None, **{f"p{q}_ms": None for q in PERCENTILES}}
    values = np.percentile(samples, PERCENTILES)
    return {"count": int(samples.size), "mean_ms": float(samples.mean()), "max_ms": float(samples.max()),
            **{f"p{q}_ms": float(v) for q, v in zip(PERCENTILES, values, strict=True)}}
