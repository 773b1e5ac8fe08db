"""One coordinates type: stable ids, named states, validated on the way in from JSON."""

from __future__ import annotations

import pytest

from balance_bench.coordinates import (
    EXPLICIT_JOINED,
    FIELDS,
    LEGACY,
    OPTIMIZED,
    PROJECTIONS,
    CacheState,
    Coordinates,
    Kind,
    Migration,
)
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


def test_the_label_reads_scale_query_and_states_with_any_experiment() -> None:
    """The readable label: scale, query, then cache, migration, projection and parameter kind in brackets; an
    experiment or a variant alone is enough to add experiment/variant."""
    assert CASE.label == "tiny find_by_id [cold, with_012, optimized, balance]"
    assert CASE.with_(experiment="pagination").label == (
        "tiny find_by_id [cold, with_012, optimized, balance, pagination/]")
    assert CASE.with_(variant="keyset").label == "tiny find_by_id [cold, with_012, optimized, balance, /keyset]"


def test_an_experiment_or_a_variant_alone_extends_the_id() -> None:
    """Either of experiment and variant makes the id carry both (an empty one as an empty part)."""
    assert CASE.with_(experiment="pagination").id == "tiny-with_012-find_by_id-cold-optimized-balance-pagination-"
    assert CASE.with_(variant="keyset").id == "tiny-with_012-find_by_id-cold-optimized-balance--keyset"


def test_with_changes_only_the_named_fields_and_takes_states_or_their_names() -> None:
    """with_ keeps every other coordinate; a state may be given as the enum or as its name."""
    warm = CASE.with_(cache=CacheState.WARM, migration="without_012")
    assert warm == Coordinates(Kind.READ, "find_by_id", CacheState.WARM, Migration.WITHOUT_012, "tiny", "optimized",
                               "balance")
    assert warm.cache is CacheState.WARM and warm.migration is Migration.WITHOUT_012


def test_as_dict_is_plain_strings_and_from_dict_fills_the_optional_experiment() -> None:
    """as_dict writes each state by its name; from_dict reads a record without experiment/variant (or null) as ""."""
    assert CASE.as_dict() == {"kind": "read", "query": "find_by_id", "cache": "cold", "migration": "with_012",
                              "scale": "tiny", "projection": "optimized", "param_kind": "balance", "experiment": "",
                              "variant": ""}
    assert all(type(v) is str for v in CASE.as_dict().values())
    bare = {k: v for k, v in CASE.as_dict().items() if k not in ("experiment", "variant")}
    assert Coordinates.from_dict(bare) == CASE
    assert Coordinates.from_dict({**bare, "experiment": None, "variant": None}) == CASE
    loaded = Coordinates.from_dict(bare)
    assert (loaded.experiment, loaded.variant) == ("", "")
    assert type(loaded.kind) is Kind and type(loaded.cache) is CacheState and type(loaded.migration) is Migration


@pytest.mark.parametrize("field", ["query", "scale", "projection", "param_kind"])
@pytest.mark.parametrize("value", ["", 3, None, ["tiny"]])
def test_each_text_coordinate_must_be_a_non_empty_string(field: str, value: object) -> None:
    """Query, scale, projection and parameter kind: empty, a number, null or a list is refused naming where and what."""
    raw = {**CASE.as_dict(), field: value}
    with pytest.raises(BenchError) as info:
        Coordinates.from_dict(raw, "summary.json: cases[2]")
    assert str(info.value) == f"summary.json: cases[2].{field} is not a non-empty string"


@pytest.mark.parametrize("field", ["kind", "query", "cache", "migration", "scale", "projection", "param_kind"])
def test_each_missing_coordinate_is_named_with_where_it_was_missing(field: str) -> None:
    """A record without a coordinate is one line: where (default "coordinates") lacks which field."""
    raw = {k: v for k, v in CASE.as_dict().items() if k != field}
    with pytest.raises(BenchError) as info:
        Coordinates.from_dict(raw, "benchmarks.json: test_x")
    assert str(info.value) == f"benchmarks.json: test_x lacks {field}"
    with pytest.raises(BenchError) as info:
        Coordinates.from_dict(raw)
    assert str(info.value) == f"coordinates lacks {field}"


def test_an_unknown_state_or_projection_names_where_the_value_and_what_is_known() -> None:
    """An unknown state says where and the bad value; an unknown projection also lists the known ones."""
    with pytest.raises(BenchError) as info:
        Coordinates.from_dict({**CASE.as_dict(), "cache": "lukewarm"}, "run: cases[0]")
    assert str(info.value) == "run: cases[0]: 'lukewarm' is not a valid CacheState"
    with pytest.raises(BenchError) as info:
        Coordinates.from_dict({**CASE.as_dict(), "projection": "everything"})
    assert str(info.value) == ("coordinates: unknown projection 'everything'; "
                               "known: legacy, explicit_joined, optimized")
    with pytest.raises(BenchError) as info:
        Coordinates(Kind.READ, "q", CacheState.COLD, Migration.WITH_012, "tiny", "star", "balance")
    assert str(info.value) == "unknown projection 'star'; known: legacy, explicit_joined, optimized"


def test_the_named_states_and_projections_are_spelled_as_in_the_files() -> None:
    """The names written to summary.json and plan files, and FIELDS in column order."""
    assert [k.value for k in Kind] == ["read", "write", "reference"]
    assert [s.value for s in CacheState] == ["nocache", "cold", "guide_cold", "warm", "invalidate", "raw"]
    assert [m.value for m in Migration] == ["without_012", "with_012"]
    assert (LEGACY, EXPLICIT_JOINED, OPTIMIZED) == PROJECTIONS == ("legacy", "explicit_joined", "optimized")
    assert FIELDS == ("kind", "query", "cache", "migration", "scale", "projection", "param_kind", "experiment",
                      "variant")


def test_coordinates_order_by_their_fields_in_turn() -> None:
    """Coordinates sort field by field (kind first), so a set of cases has one stable order."""
    write = CASE.with_(kind="write")
    other_query = CASE.with_(query="a_query")
    assert sorted([write, CASE, other_query]) == [other_query, CASE, write]
