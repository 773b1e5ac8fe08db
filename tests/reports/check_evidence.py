"""Synthetic evidence of a check that finds nothing, for the judgement's known-answer tests (no servers).

Every read and write case of the tiny matrix, each with what the cache design says per call (written out here, not
taken from ``reports.findings.DESIGN``), each claimed read with 012 on its claimed index, every warm call a hit and
every write's keys filled and then gone. A test breaks one thing at a time with ``changed``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.evidence import CaseEvidence, Evidence, InvalidationEvidence, KeyEvidence
from balance_bench.guide import INDEX_CLAIMS
from balance_bench.matrix import read_cases, write_cases
from balance_bench.results import ServerTraffic, Traffic
from balance_model.cache import FAMILIES

SCALE = "tiny"
CALLS = 5
FINGERPRINT = "0123456789abcdef0123456789abcdef"
DATASET = {"scale": SCALE, "seed": 42, "fingerprint": FINGERPRINT, "rows": {"balances": 1000}}
SERVERS = {"postgres": "18.6", "redis": "7.2.4"}
PER_CALL = {CacheState.NOCACHE: (1, 0, 0), CacheState.COLD: (1, 3, 3), CacheState.GUIDE_COLD: (1, 2, 2),
            CacheState.WARM: (0, 1, 1), CacheState.INVALIDATE: (1, 1, 1)}
"""(PostgreSQL round trips, Redis commands, Redis round trips) per call, as balance_model/cache.py documents them."""


def node(node_type: str, *, relation: str | None = "balances", index: str | None = None, rows: float = 1.0,
         removed: float | None = None, blocks: int = 3, children: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """One plan node as EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) prints it."""
    data: dict[str, Any] = {"Node Type": node_type, "Actual Rows": rows, "Actual Loops": 1, "Plan Rows": rows,
                            "Actual Startup Time": 0.01, "Actual Total Time": 0.02, "Total Cost": 8.3,
                            "Shared Hit Blocks": blocks, "Shared Read Blocks": 0, "Temp Read Blocks": 0,
                            "Temp Written Blocks": 0}
    if relation is not None:
        data["Relation Name"] = relation
    if index is not None:
        data["Index Name"] = index
    if removed is not None:
        data["Rows Removed by Filter"] = removed
    if children:
        data["Plans"] = list(children)
    return data


def plan(root: dict[str, Any]) -> list[dict[str, Any]]:
    """EXPLAIN's JSON around one root node."""
    return [{"Plan": root, "Planning Time": 0.05, "Execution Time": 0.1}]


def traffic(pg: float, commands: float, trips: float) -> Traffic:
    """A call's traffic with these counts (bytes in proportion)."""
    return Traffic(3, ServerTraffic(pg, 60.0 * pg, 200.0 * pg),
                   ServerTraffic(trips, 40.0 * commands, 10.0 * commands, commands=commands))


def _plan_of(case: Coordinates) -> Any | None:
    if not case.cache.reaches_database:
        return None
    if case.kind is Kind.WRITE:
        return plan(node("ModifyTable", blocks=40))
    claim = INDEX_CLAIMS.get(case.query)
    if case.migration is Migration.WITH_012 and claim is not None:
        return plan(node("Index Scan", index=claim.index))
    return plan(node("Index Scan", index="balances_pkey"))


def _case(case: Coordinates) -> CaseEvidence:
    pg, commands, trips = PER_CALL[case.cache]
    hits, misses = {CacheState.WARM: (CALLS, 0), CacheState.COLD: (0, CALLS),
                    CacheState.GUIDE_COLD: (0, CALLS)}.get(case.cache, (None, None))
    return CaseEvidence(case, _plan_of(case), traffic(pg, commands, trips), CALLS, hits, misses)


def _invalidation(case: Coordinates) -> InvalidationEvidence:
    families = [f for f in FAMILIES if case.query != "create" or f.name != "by_id"]
    return InvalidationEvidence(case, tuple(KeyEvidence(f.name, filled=True, left=False) for f in families))


def clean_evidence() -> Evidence:
    """A check of the tiny matrix in which every claim holds."""
    writes = list(write_cases((SCALE,)))
    return Evidence(SCALE, dict(DATASET), dict(SERVERS), {"server_version": SERVERS["postgres"]},
                    tuple(_case(c) for c in [*read_cases((SCALE,)), *writes]),
                    tuple(_invalidation(c) for c in writes))


def read(query: str, cache: CacheState = CacheState.NOCACHE, migration: Migration = Migration.WITH_012,
         param_kind: str | None = None, projection: str = OPTIMIZED) -> Coordinates:
    """A read case of the tiny matrix (its first parameter kind unless named)."""
    return next(c for c in read_cases((SCALE,)) if c.query == query and c.cache is cache and c.migration is migration
                and c.projection == projection and (param_kind is None or c.param_kind == param_kind))


def write(query: str, migration: Migration = Migration.WITH_012) -> Coordinates:
    """A write case of the tiny matrix."""
    return next(c for c in write_cases((SCALE,)) if c.query == query and c.migration is migration)


def changed(evidence: Evidence, coords: Coordinates, **changes: Any) -> Evidence:
    """``evidence`` with one case's (or, for ``keys``, one write's invalidation's) fields replaced."""
    if "keys" in changes:
        invalidations = tuple(dataclasses.replace(w, **changes) if w.coords == coords else w
                              for w in evidence.invalidations)
        return dataclasses.replace(evidence, invalidations=invalidations)
    cases = tuple(dataclasses.replace(c, **changes) if c.coords == coords else c for c in evidence.cases)
    return dataclasses.replace(evidence, cases=cases)
