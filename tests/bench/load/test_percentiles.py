"""Percentiles merge exactly across Locust processes: the merged figures equal those of the union, by an oracle."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_bench.bench.load.capture import Collector, StepBuffer, read_capture
from balance_bench.bench.load.percentiles import latency_stats


def oracle_percentile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (type 7), by hand on a sorted list."""
    ordered = sorted(values)
    h = (len(ordered) - 1) * q / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


def number(value: float | int | None) -> float:
    assert value is not None
    return float(value)


samples = st.lists(st.floats(min_value=0.001, max_value=5000, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(values=samples, cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=4))
def test_merged_percentiles_equal_those_of_the_union(values: list[float], cuts: list[int]) -> None:
    """However the samples are split among processes, p50/p95/p99, mean, max and count are the union's."""
    bounds = sorted({0, len(values), *(c % (len(values) + 1) for c in cuts)})
    parts = [np.array(values[a:b]) for a, b in itertools.pairwise(bounds)]
    stats = latency_stats(parts)
    assert stats["count"] == len(values)
    for q in (50, 95, 99):
        assert math.isclose(number(stats[f"p{q}_ms"]), oracle_percentile(values, q), rel_tol=1e-12, abs_tol=1e-12)
    assert stats["max_ms"] == max(values)
    assert math.isclose(number(stats["mean_ms"]), math.fsum(values) / len(values), rel_tol=1e-9)


def test_averaging_per_process_percentiles_would_be_wrong() -> None:
    """The oracle can tell: one fast and one slow process; the mean of their p99s is not the union's p99."""
    fast, slow = [1.0] * 99 + [2.0], [10.0] * 10
    merged = number(latency_stats([np.array(fast), np.array(slow)])["p99_ms"])
    assert math.isclose(merged, oracle_percentile(fast + slow, 99))
    assert not math.isclose(merged, (oracle_percentile(fast, 99) + oracle_percentile(slow, 99)) / 2)


def test_no_samples_gives_no_figures() -> None:
    """A step where an operation never ran has a count of 0 and no percentiles, not zeros."""
    assert latency_stats([]) == {"count": 0, "mean_ms": None, "max_ms": None, "p50_ms": None, "p95_ms": None,
                                 "p99_ms": None}


def test_capture_keeps_each_process_samples_apart_and_exact(tmp_path: Path) -> None:
    """Through the master's capture file, each process's samples come back bit for bit, and merge like the union."""
    rng = np.random.default_rng(7)
    collector = Collector()
    by_worker = {}
    for worker in ("w0", "w1", "w2"):
        buffer = StepBuffer()
        values = rng.lognormal(0, 1, size=int(rng.integers(1, 500))).tolist()
        for v in values:
            buffer.sample("find_by_id", v)
        by_worker[worker] = values
        collector.absorb(worker, 3, buffer.payload({"pid": 1}))
    collector.write(3, tmp_path, "s003", {"step": {}})
    capture = read_capture(tmp_path / "s003.json")
    parts = capture.samples("find_by_id")
    assert {w: p.tolist() for w, p in parts.items()} == by_worker
    union = [v for values in by_worker.values() for v in values]
    assert math.isclose(number(latency_stats(parts.values())["p99_ms"]), oracle_percentile(union, 99), rel_tol=1e-12)
