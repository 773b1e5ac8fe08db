"""Pagination depth: keyset and OFFSET pages are the oracle's rows at pages 1, 10, 100 and last, ties included."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from balance_bench.bench.experiments.pagination import EXPERIMENT, PAGE_SIZE, depth_pages
from balance_bench.bench.experiments.spec import CheckFailed, Estimate, exercise
from balance_bench.plans.analysis import analyse

from .conftest import Spaces, explain_target, parsed

EXTRA = 1200  # whale rows added to the tiny copy, 8 to a timestamp: 1,275 rows, 128 pages of 10
KINDS = {"page-1", "page-10", "page-100", "page-last"}


def _deepen(url: str, whale: int) -> None:
    """Give the whale EXTRA more balances whose created_at come in groups of 8 equal values."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO balances (user_id, token_id, address, amount, usd_value, created_at, updated_at)"
            " SELECT :u, 1 + g % 100, '0x' || repeat('c', 40), 1, 1,"
            "        timestamptz '2024-06-01 00:00:00+00' + (g / 8) * interval '1 minute', timestamptz '2025-01-01'"
            " FROM generate_series(1, :n) g"), {"u": whale, "n": EXTRA})
        conn.execute(text("ANALYZE balances"))
    engine.dispose()


@pytest.mark.services
@pytest.mark.parametrize("migration", EXPERIMENT.migrations)
def test_keyset_and_offset_pages_are_the_oracles_at_every_depth(spaces: Spaces, migration: str) -> None:
    """Pages 1, 10, 100 and 128 (last) of both forms equal the Python-sorted rows; plans use the index with 012."""
    with spaces(EXPERIMENT, migration) as made:
        for space in made.values():
            _deepen(space.url, space.dataset.params.whale_user_id)
        outcome = exercise(EXPERIMENT, made, explain=explain_target)  # runs the oracle check first
    assert {case.split("-get_by_user-")[1] for case in outcome.results} == KINDS
    for kind in KINDS:
        offset: Any = outcome.results[f"offset-get_by_user-{kind}"]
        keyset: Any = outcome.results[f"keyset-get_by_user-{kind}"]
        assert [b.id for b in offset] == [b.id for b in keyset.balances]
        assert len(offset) == (PAGE_SIZE if kind != "page-last" else (75 + EXTRA) % PAGE_SIZE)
    keyset_deep = analyse(parsed(outcome.plans["keyset-get_by_user-page-last"]))
    offset_deep = analyse(parsed(outcome.plans["offset-get_by_user-page-last"]))
    findings = {f.code for f in offset_deep.findings}
    if migration == "with_012":
        assert keyset_deep.indexes_used == ("idx_balances_user_created",) and not keyset_deep.seq_scan_relations
        assert "large-offset" in findings  # OFFSET reads 1,270 rows to return 5
    else:
        assert keyset_deep.seq_scan_relations == ("balances",) and not keyset_deep.indexes_used
    assert "large-offset" not in {f.code for f in keyset_deep.findings}


@pytest.mark.services
def test_a_keyset_page_that_skips_rows_fails_the_check(spaces: Spaces) -> None:
    """The check is not a formality: a cursor pointing one page too far is caught against the oracle."""
    with spaces(EXPERIMENT, "with_012") as made:
        states = {name: EXPERIMENT.prepare(space) for name, space in made.items()}
        try:
            keyset = states["keyset"]
            last = max(keyset.cursors)
            keyset.cursors[last] = keyset.model.get_by_user_keyset(keyset.user_id, PAGE_SIZE,
                                                                   keyset.cursors[last]).next
            with pytest.raises(CheckFailed, match="keyset page-last"):
                EXPERIMENT.check(states)
        finally:
            for state in states.values():
                state.close()


def test_depths_are_the_fixed_pages_that_exist_and_the_last() -> None:
    """small's whale (1,463 rows) gets pages 1, 10, 100, 147; tiny's (75) pages 1 and 8; an exact fit is the last."""
    assert depth_pages(1463) == {"page-1": 1, "page-10": 10, "page-100": 100, "page-last": 147}
    assert depth_pages(75) == {"page-1": 1, "page-last": 8}
    assert depth_pages(1000) == {"page-1": 1, "page-10": 10, "page-last": 100}
    assert depth_pages(0) == {"page-last": 1}


@pytest.mark.parametrize(("keyset", "offset", "expected"), [
    (Estimate(1.1, 1.0, 1.2), Estimate(3.0, 2.5, 3.5), ("keyset is flat in depth", "OFFSET is slower at depth")),
    (Estimate(1.5, 1.3, 1.7), Estimate(1.0, 0.9, 1.1), ("inconclusive on flatness", "OFFSET inconclusive at depth")),
    (Estimate(2.0, 1.8, 2.2), Estimate(0.9, 0.8, 0.95), ("keyset is not flat in depth", "OFFSET is not slower")),
])
def test_the_conclusion_draws_its_lines_from_the_intervals(keyset: Estimate, offset: Estimate,
                                                           expected: tuple[str, str]) -> None:
    """Flat within 1.5x and slower than 1x are stated only when the whole interval is on one side."""
    sentence = EXPERIMENT.conclude({"with_012.keyset_depth": keyset, "with_012.offset_depth": offset})
    assert all(part in sentence for part in expected), sentence
    assert f"{offset.value:.2f}x (95% CI" in sentence
