"""The report's headline and topic tables: at most seven columns, one figure per cell, the claim's own label."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from balance_bench.network import parse_profiles
from balance_bench.reports.claim_tables import headline_rows, topic_tables
from balance_bench.reports.claims import claim_verdicts, headline, judge_run
from balance_bench.reports.runs import read_run
from tests.reports.test_claims import _change, _verdict

FIGURE = re.compile(r"-?\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?")  # a value, or a range as the guide writes one


def _figures(text: str) -> int:
    """How many figures a cell states: a value with its bracketed interval counts as one, and so does a range."""
    return len(FIGURE.findall(re.sub(r"\[[^\]]*\]", "", text)))


def test_every_table_is_narrow_and_every_cell_one_figure(make_run: Callable[..., Path]) -> None:
    """Even with four network profiles no topic table has more than seven columns or two figures in a cell."""
    items, claims = judge_run(read_run(make_run()), parse_profiles("same-zone,cross-zone,rtt=2ms,rtt=5ms"))
    tables = topic_tables(items, claims)
    assert [t.anchor for t in tables] == ["topic-cache", "topic-guide-cache", "topic-012", "topic-consistency"]
    for table in tables:
        assert len(table.headers) <= 7, table.heading
        for row in table.rows:
            assert len(row) == len(table.headers)
            numeric = [cell for cell in row[2:] if FIGURE.search(cell.text)]
            assert all(_figures(cell.text) <= 1 for cell in numeric), [c.text for c in row]


def test_the_cache_table_has_a_column_per_profile_coloured_by_each_profiles_own_label() -> None:
    """A cell's tone is its own verdict's: short locally and met at a profile give red then green in one row."""
    from balance_bench.reports.verdicts import NetworkVerdict
    from balance_bench.statistics import Estimate

    met = NetworkVerdict("same-zone", improvement=Estimate(91.0, 90.5, 91.5, 20), improvement_verdict="met")
    item = _verdict(networks=(met,))
    (table, *_) = topic_tables([item], claim_verdicts([item]))
    assert table.headers == ("query", "params", "measured here %", "same-zone %")
    (row,) = table.rows
    assert [(c.text, c.tone, c.title) for c in row[2:]] == [("84.5% [84.2, 84.8]", "bad", "short"),
                                                            ("91.0% [90.5, 91.5]", "good", "met")]


def test_the_index_column_names_the_index_used_and_is_red_when_it_is_not_the_claimed_one() -> None:
    """getByUser on idx_balances_user_usd: the cell names that index, red, and its tooltip names the claimed one."""
    right = _verdict("get_by_user", "whale")
    wrong = _change(_verdict("get_by_user", "typical"), "index", used=False, plan_indexes=("idx_balances_user_usd",))
    table = next(t for t in topic_tables([wrong, right], claim_verdicts([wrong, right])) if t.anchor == "topic-012")
    cells = [row[-1] for row in table.rows]
    assert [(c.text, c.tone) for c in cells] == [("idx_balances_user_usd", "bad"),
                                                 ("idx_balances_user_created", "good")]
    assert cells[0].title == "claimed: idx_balances_user_created"


def test_the_consistency_table_judges_one_figure_against_both_readings() -> None:
    """findById's 84.5%: short of the stated 90-95%, met against the 80-95% its own milliseconds imply."""
    item = _verdict()
    table = next(t for t in topic_tables([item], claim_verdicts([item])) if t.anchor == "topic-consistency")
    (row,) = table.rows
    assert [c.text for c in row] == ["findById", "balance", "90-95%", "80-95%", "84.5% [84.2, 84.8]", "short", "met"]
    assert [c.tone for c in row[-2:]] == ["bad", "good"]


def test_headline_rows_name_the_scale_only_when_there_are_several() -> None:
    """One scale: the claim as the guide names it, the trials behind an estimate as its tooltip (none for a
    folded count); two scales: each row says which."""
    claims = claim_verdicts([_verdict()])
    one = headline_rows(claims)
    assert (one[0].claim, one[0].guide, one[0].measured, one[0].label, one[0].tone, one[0].why) == (
        "findById: cache improvement", "90-95%", "84.5% [84.2, 84.8]", "short", "bad", claims[0].why)
    assert one[0].trials == "20 trials" and [r.trials for r in one[1:]] == ["", ""]
    two = headline_rows(claim_verdicts([_verdict(), _verdict(scale="medium")]))
    assert [r.claim for r in two][:1] == ["findById: cache improvement (small)"]
    assert len(two) == 2 * len(headline(claim_verdicts([_verdict()])))


def test_a_run_without_claims_has_no_topic_tables() -> None:
    """Nothing judged (an experiments-only run): no table is drawn rather than empty ones."""
    assert topic_tables([], []) == [] and headline_rows([]) == []


def _texts(table: object) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]  # type: ignore[attr-defined]


def test_each_topic_table_as_a_reader_sees_it() -> None:
    """Heading, caption, headers and every cell of the four tables for one findById and one getByUser question."""
    items = [_verdict(), replace(_verdict("get_by_user", "typical"), guide_name="getByUser", guide_cache=None,
                                 consistency=None)]
    cache, guide, migration, consistency = topic_tables(items, claim_verdicts(items))
    assert (cache.heading, cache.headers) == ("Cache improvement per network profile",
                                              ("query", "params", "measured here %"))
    assert cache.caption.startswith("(cold - warm) / cold with 012, within each trial;")
    assert _texts(cache) == [["findById", "balance", "84.5% [84.2, 84.8]"]]
    assert (guide.heading, guide.headers) == ("The guide's own cache design", (
        "query", "params", "guide miss ms", "our miss ms", "ours / guide", "guide's improvement"))
    assert _texts(guide) == [["findById", "balance", "0.23", "0.31", "1.33x [1.31, 1.35]", "79.3% [78.8, 79.9]"]]
    assert (migration.heading, migration.headers) == ("Migration 012 and its indexes", (
        "query", "params", "without 012 ms", "with 012 ms", "speedup", "index used"))
    assert _texts(migration) == [["findById", "balance", "5.5", "0.09", "61x [58, 64]", "—"],
                                 ["getByUser", "typical", "5.5", "0.09", "61x [58, 64]", "idx_balances_user_created"]]
    assert (consistency.heading, consistency.headers) == ("The guide's table against itself", (
        "query", "params", "stated", "implied by its ms", "measured here", "vs stated", "vs implied"))
    assert [c.title for c in consistency.rows[0][-2:]] == [
        next(c.why for c in claim_verdicts(items) if c.claim_id == "cache.find_by_id.balance"),
        next(c.why for c in claim_verdicts(items) if c.claim_id == "consistency.find_by_id.balance")]


def test_missing_figures_are_dashes_and_two_scales_are_named_in_every_table() -> None:
    """No miss of ours (nor its price) prints a dash, no 012 record no 012 row; with two scales each row names its
    scale."""
    bare = _change(_change(_verdict(), "cache", cold=None), "guide_cache", race_free_price=None)
    bare = replace(bare, migration=None)
    items = [bare, _verdict(scale="medium")]
    tables = {t.anchor: t for t in topic_tables(items, claim_verdicts(items))}
    guide_rows = _texts(tables["topic-guide-cache"])
    assert guide_rows[0][:5] == ["findById (small)", "balance", "0.23", "—", "—"]
    assert guide_rows[1][:4] == ["findById (medium)", "balance", "0.23", "0.31"]
    assert [row[0] for row in _texts(tables["topic-012"])] == ["findById (medium)"]  # small has no without-012 side
