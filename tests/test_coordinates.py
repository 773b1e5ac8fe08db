"""One coordinates type: stable ids, named states, validated on the way in from JSON."""

from __future__ import annotations

import pytest

from balance_bench.coordinates import FIELDS, CacheState, Coordinates, Kind, Migration
from balance_bench.errors import BenchError

CASE = Coordinates(Kind.READ, "find_by_id", CacheState.COLD, Migration.WITH_012, "tiny", "optimized", "balance")


def test_id_reads_scale_migration_query_cache_projection_paramkind() -> None:
    """The id is the pytest parameter id and plan file stem users already know; experiments extend it."""
    assert CASE.id == "tiny-with_012-find_by_id-cold-optimized-balance"
    assert CASE.with_(experiment="pagination", variant="keyset").id.endswith("-pagination-keyset")
    assert CASE.group == "tiny find_by_id balance"


def test_cache_states_say_whether_they_are_cached_and_reach_the_database() -> None:
    """invalidate is cached because it says so; only warm stays off the database; only guide_cold is the guide's."""
    assert {s for s in CacheState if s.cached} == {CacheState.COLD, CacheState.GUIDE_COLD, CacheState.WARM,
                                                   CacheState.INVALIDATE}
    assert {s for s in CacheState if s.guide_design} == {CacheState.GUIDE_COLD}
    assert {s for s in CacheState if not s.reaches_database} == {CacheState.WARM}


def test_json_round_trip_and_field_order() -> None:
    """as_dict/from_dict round-trip, and FIELDS names every coordinate in order."""
    assert Coordinates.from_dict(CASE.as_dict()) == CASE
    assert list(CASE.as_dict()) == list(FIELDS)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("cache", "lukewarm", "lukewarm"),
    ("migration", "with_013", "with_013"),
    ("kind", "guess", "guess"),
    ("projection", "everything", "unknown projection"),
    ("scale", "", "scale is not a non-empty string"),
])
def test_unknown_states_are_refused_with_the_field(field: str, value: str, message: str) -> None:
    """A coordinate outside its named states is a BenchError naming it, never a silent new state."""
    raw = {**CASE.as_dict(), field: value}
    with pytest.raises(BenchError, match=message):
        Coordinates.from_dict(raw)


def test_a_missing_coordinate_is_named() -> None:
    """Missing fields are named in the error."""
    raw = CASE.as_dict()
    del raw["param_kind"]
    with pytest.raises(BenchError, match="lacks param_kind"):
        Coordinates.from_dict(raw)
