"""The guide's structural claims as ``balance-bench check`` asserts them: each broken one a finding about one case.

From one check's evidence (``balance_bench.evidence``, gathered by ``bench.inspection``), with no timing at all:

* ``index``: with 012, each read the guide claims an index for (``expectations.INDEX_CLAIMS``) has that index in
  its plan. Judged on the guide's "After" (the ``optimized`` projection, no cache), as the report's index verdict
  is; the cache states of one read share that plan, so one finding names the database path once;
* ``traffic``: per call, PostgreSQL round trips, Redis commands and Redis round trips are what the cache design
  says for the case's cache state (``DESIGN``); a warm read's PostgreSQL figure is ``warm``'s to judge;
* ``warm``: a warm read never reaches PostgreSQL: no round trip, and the cache counted every call a hit;
* ``invalidation``: every write removes the key of each of the guide's key families for the balance it wrote.
  The keys its reads filled that are still in Redis after the write are one finding; the keys their reads did not
  fill are another, since the write's invalidation of them could not be tested;
* ``seq-scan``: with 012, no Seq Scan in a claimed read's plan (as judged for ``index``) reads more than
  ``max_seq_scan_rows`` rows (returned plus filtered out).

``DESIGN`` is written down from the cache as ``balance_model/cache.py`` documents it, not counted by running the
cache, so it is an oracle for the traffic ``bench.traffic`` counts. Per call:

==============================  ========  ===============  =============================================
state                           PG trips  Redis commands   what
==============================  ========  ===============  =============================================
nocache, or an uncached read    1         0                the statement
cold (our fill tokens)          1         3 in 3 trips     GET (a miss), the fill-token script, the
                                                           compare-and-set fill
guide_cold (the guide's fill)   1         2 in 2 trips     GET (a miss), SET with the TTL
warm                            0         1 in 1 trip      GET (a hit)
invalidate (a write)            1         1 in 1 trip      the statement, then one DEL of the keys and
                                                           their fill tokens
==============================  ========  ===============  =============================================

Findings are compared by value (assertion, case, message), so their messages hold nothing that changes between two
checks of one commit on one dataset: no key prefix, no row id, no time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.evidence import CaseEvidence, Evidence, InvalidationEvidence
from balance_bench.guide import INDEX_CLAIMS
from balance_bench.plans.analysis import SEQ_SCAN_TYPES, PlanAnalysis, analyse
from balance_bench.plans.parser import plan_from_json
from balance_bench.reports.counter_gate import COUNTERS, count_text
from balance_model.cache import FAMILIES, KeyFamily

__all__ = ["INDEX", "TRAFFIC", "WARM", "INVALIDATION", "SEQ_SCAN", "ASSERTIONS", "MAX_SEQ_SCAN_ROWS", "DesignTraffic",
           "DESIGN", "design_traffic", "Finding", "find"]

INDEX, TRAFFIC, WARM, INVALIDATION, SEQ_SCAN = "index", "traffic", "warm", "invalidation", "seq-scan"
ASSERTIONS: Mapping[str, str] = MappingProxyType({
    INDEX: "with 012, each claimed read uses its index",
    TRAFFIC: "round trips and Redis commands per call are the cache design's",
    WARM: "a warm read never reaches PostgreSQL",
    INVALIDATION: "every write invalidates its keys",
    SEQ_SCAN: "no large Seq Scan on a claimed read with 012",
})
"""Each assertion's name, and the claim it checks in words."""
MAX_SEQ_SCAN_ROWS = 1_000
"""Default of ``--max-seq-scan-rows``: a claimed read's Seq Scan may read this many rows, no more (tiny's whole
table is 1,000 rows; an index earns its keep beyond that)."""


@dataclass(frozen=True)
class DesignTraffic:
    """What the cache design says one call of a case costs, and the calls it is made of."""

    pg_round_trips: int
    redis_commands: int
    redis_round_trips: int
    made_of: str


_STATEMENT = DesignTraffic(1, 0, 0, "the statement alone")
DESIGN: Mapping[CacheState, DesignTraffic] = MappingProxyType({
    CacheState.NOCACHE: _STATEMENT,
    CacheState.COLD: DesignTraffic(1, 3, 3, "GET (a miss), the fill-token script, the statement, the "
                                            "compare-and-set fill"),
    CacheState.GUIDE_COLD: DesignTraffic(1, 2, 2, "GET (a miss), the statement, SET with the TTL"),
    CacheState.WARM: DesignTraffic(0, 1, 1, "GET (a hit)"),
    CacheState.INVALIDATE: DesignTraffic(1, 1, 1, "the statement, then one DEL of the keys and their fill tokens"),
})
"""Per call, by cache state, from ``balance_model/cache.py``'s documented design (see the table above)."""
_CACHED_READS = frozenset(family.query for family in FAMILIES)
_FAMILY = {family.name: family for family in FAMILIES}


def design_traffic(coords: Coordinates) -> DesignTraffic:
    """What the design says one call of this case costs; a read the guide does not cache is its statement alone."""
    if coords.kind is Kind.READ and coords.query not in _CACHED_READS:
        return _STATEMENT
    return DESIGN[coords.cache]


@dataclass(frozen=True)
class Finding:
    """One broken claim: which assertion (``ASSERTIONS``), the case it concerns, and what was seen instead."""

    assertion: str
    coords: Coordinates
    message: str

    @property
    def line(self) -> str:
        """``index: tiny get_by_user [nocache, with_012, optimized, typical]: its plan uses ...``."""
        return f"{self.assertion}: {self.coords.label}: {self.message}"


def _claimed(coords: Coordinates) -> bool:
    """Whether this case is a claimed read's database path with 012, where the index and Seq Scan claims are judged."""
    return (coords.kind is Kind.READ and coords.migration is Migration.WITH_012 and coords.projection == OPTIMIZED
            and coords.cache is CacheState.NOCACHE and coords.query in INDEX_CLAIMS)


def _plan_findings(case: CaseEvidence, analysis: PlanAnalysis, max_rows: int) -> Iterator[Finding]:
    claim = INDEX_CLAIMS[case.coords.query]
    if claim.index not in analysis.indexes_used:
        uses = ", ".join(analysis.indexes_used) or "no index"
        yield Finding(INDEX, case.coords, f"its plan uses {uses}; the guide claims {claim.index} ({claim.basis})")
    for node in analysis.nodes:
        read = (node.actual_rows or 0.0) + (node.rows_removed_by_filter or 0.0)
        if node.node_type in SEQ_SCAN_TYPES and read > max_rows:
            yield Finding(SEQ_SCAN, case.coords, f"{node.node_type} on {node.relation} read {count_text(read)} rows, "
                                                 f"more than {max_rows:,}")


def _traffic_findings(case: CaseEvidence) -> Iterator[Finding]:
    design = design_traffic(case.coords)
    pg, cache = case.traffic.postgres, case.traffic.redis
    counted = {"pg_round_trips": (pg.round_trips, design.pg_round_trips),
               "redis_commands": (cache.commands, design.redis_commands),
               "redis_round_trips": (cache.round_trips, design.redis_round_trips)}
    if case.coords.cache is CacheState.WARM:
        del counted["pg_round_trips"]  # the warm assertion's to judge
    wrong = [f"{COUNTERS[name]} {count_text(seen)} per call, the design says {expected}"
             for name, (seen, expected) in counted.items() if seen != expected]
    if wrong:
        yield Finding(TRAFFIC, case.coords, f"{'; '.join(wrong)} ({case.coords.cache}: {design.made_of})")


def _warm_findings(case: CaseEvidence) -> Iterator[Finding]:
    trips = case.traffic.postgres.round_trips
    hits = case.cache_hits or 0
    if trips or hits != case.calls or case.cache_misses:
        yield Finding(WARM, case.coords, f"{count_text(trips)} PostgreSQL round trip{'' if trips == 1 else 's'} per "
                                         f"call; {hits} of {case.calls} calls were cache hits")


def _keys_text(families: list[KeyFamily]) -> str:
    return ", ".join(f"{family.pattern} ({family.query})" for family in families)


def _invalidation_findings(write: InvalidationEvidence) -> Iterator[Finding]:
    families = [(_FAMILY[key.family], key) for key in write.keys]
    left = [family for family, key in families if key.filled and key.left]
    unfilled = [family for family, key in families if not key.filled]
    if left:
        yield Finding(INVALIDATION, write.coords, f"{_keys_text(left)} still in Redis after the {write.coords.query}")
    if unfilled:
        them = "it" if len(unfilled) == 1 else "them"
        yield Finding(INVALIDATION, write.coords, f"not filled by a read: {_keys_text(unfilled)}, so the "
                                                  f"{write.coords.query}'s invalidation of {them} could not be tested")


def find(evidence: Evidence, max_seq_scan_rows: int = MAX_SEQ_SCAN_ROWS) -> list[Finding]:
    """Every finding of one check: per case in the evidence's order (its plan, then its traffic), then each write's
    invalidation."""
    found: list[Finding] = []
    for case in evidence.cases:
        if case.plan is not None and _claimed(case.coords):
            analysis = analyse(plan_from_json(case.plan, case.coords.id))  # its own findings unused: no query
            found += _plan_findings(case, analysis, max_seq_scan_rows)
        found += _traffic_findings(case)
        if case.coords.cache is CacheState.WARM:
            found += _warm_findings(case)
    for write in evidence.invalidations:
        found += _invalidation_findings(write)
    return found
