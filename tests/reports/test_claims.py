"""The claim verdicts: one per claim of the guide, labels taken from the per-query judgement, folds on both sides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from balance_bench.guide import INDEX_CLAIMS, LATENCY_CLAIMS
from balance_bench.network import PROFILES
from balance_bench.reports.claims import (
    DOES_NOT_HOLD,
    HOLDS,
    TONES,
    Topic,
    claim_verdicts,
    claims_frame,
    fold,
    headline,
    judge_run,
    label_counts,
    measured_text,
    precision,
    tone,
)
from balance_bench.reports.runs import read_run
from balance_bench.reports.verdicts import (
    CacheVerdict,
    ConsistencyVerdict,
    GuideCacheVerdict,
    IndexVerdict,
    MigrationVerdict,
    NetworkVerdict,
    ProjectionVerdict,
    QueryVerdicts,
)
from balance_bench.statistics import Estimate

LABELS = ("met", "better", "short", "inconclusive", "faster", "slower", "same plan", "not measured", "holds",
          "does not hold")


def _ci(value: float, low: float | None, high: float | None, trials: int = 20) -> Estimate:
    return Estimate(value, low, high, trials)


def _verdict(query: str = "find_by_id", kind: str = "balance", scale: str = "small",
             networks: tuple[NetworkVerdict, ...] = ()) -> QueryVerdicts:
    """A question with every record present (findById: short locally, faster with 012)."""
    claimed = INDEX_CLAIMS.get(query)
    return QueryVerdicts(
        query=query, guide_name=LATENCY_CLAIMS[query].guide_name if query in LATENCY_CLAIMS else None,
        scale=scale, param_kind=kind, claim=LATENCY_CLAIMS.get(query),
        cache=CacheVerdict(cold=_ci(0.31, 0.30, 0.32), warm=_ci(0.048, 0.047, 0.049), improvement=_ci(84.5, 84.2, 84.8),
                           improvement_verdict="short" if query in LATENCY_CLAIMS else None, cold_vs_guide="below",
                           warm_vs_guide="below"),
        consistency=ConsistencyVerdict((80.0, 95.0), "met"),
        guide_cache=GuideCacheVerdict(cold=_ci(0.23, 0.22, 0.24), improvement=_ci(79.3, 78.8, 79.9),
                                      improvement_verdict="short", race_free_price=_ci(1.33, 1.31, 1.35)),
        migration=MigrationVerdict(without_012=_ci(5.5, 5.4, 5.6), with_012=_ci(0.09, 0.08, 0.1),
                                   speedup=_ci(61.0, 58.0, 64.0), same_plan=False,
                                   plan_indexes=(claimed.index,) if claimed else ("balances_pkey",), effect="faster"),
        index=IndexVerdict(claimed.index, (claimed.index,), True) if claimed else None,
        projection=ProjectionVerdict(_ci(1.3, 1.2, 1.4), "faster"),
        networks=networks, text="")


def _change(v: QueryVerdicts, record: str, **fields: Any) -> QueryVerdicts:
    """``v`` with some fields of one of its records (``cache``, ``index``, ...) replaced."""
    return replace(v, **{record: replace(getattr(v, record), **fields)})


def _by_id(claims: list[Any], topic: Topic, profile: str = "local") -> dict[str, Any]:
    return {c.claim_id: c for c in claims if c.topic is topic and c.profile == profile}


def test_every_label_has_a_tone_and_an_unknown_one_is_never_good() -> None:
    """Each label a verdict can carry is coloured; a label the table does not know is neutral, not green."""
    assert set(TONES) == set(LABELS)
    assert {tone(label) for label in ("met", "better", "faster", "holds")} == {"good"}
    assert {tone(label) for label in ("short", "slower", "does not hold")} == {"bad"}
    assert tone("something new") == "neutral"


@pytest.mark.parametrize(("labels", "expected"), [
    (["faster", "faster"], HOLDS),
    (["faster", "inconclusive"], "inconclusive"),
    (["faster", "slower"], DOES_NOT_HOLD),
    (["inconclusive", "slower"], DOES_NOT_HOLD),
    ([], "not measured"),
])
def test_a_folded_claim_holds_only_when_every_part_does(labels: list[str], expected: str) -> None:
    """All good parts hold; any bad part does not hold; anything else is undecided; no parts is not measured."""
    assert fold(labels, ("faster",), ("slower",)) == expected


def test_the_cache_row_carries_the_judged_label_its_interval_and_the_network_hop() -> None:
    """The headline's cache row: the per-query label as it is, its estimate, and why a local socket falls short."""
    (row,) = [c for c in claim_verdicts([_verdict()]) if c.topic is Topic.CACHE]
    assert (row.claim_id, row.label, row.guide, row.headline) == ("cache.find_by_id.balance", "short", "90-95%", True)
    assert measured_text(row) == "84.5% [84.2, 84.8]"
    assert "includes a network hop" in row.why and "5-10 ms" in row.why
    met = [c for c in claim_verdicts([_change(_verdict(), "cache", improvement_verdict="met")])
           if c.topic is Topic.CACHE]
    assert met[0].label == "met" and "network hop" not in met[0].why


def test_an_inconclusive_row_names_the_bound_its_interval_straddles() -> None:
    """84.4-85.5 against 85-90 straddles 85; 89.5-90.4 straddles 90; one trial has no interval to straddle."""
    def why(estimate: Estimate) -> str:
        verdict = _change(_verdict("find_by_user_id_and_token_id", "pair"), "cache", improvement=estimate,
                          improvement_verdict="inconclusive")
        return next(c.why for c in claim_verdicts([verdict]) if c.topic is Topic.CACHE)

    assert "straddles the guide's 85% bound" in why(_ci(85.0, 84.4, 85.5))
    assert "straddles the guide's 90% bound" in why(_ci(90.0, 89.5, 90.4))
    assert why(_ci(87.0, None, None, trials=1)).startswith("No interval from 1 trial;")


def test_the_implied_reading_is_named_only_when_it_disagrees() -> None:
    """findById's own ms imply 80-95%: met there while short against the stated range is worth a clause."""
    disagree = next(c for c in claim_verdicts([_verdict()]) if c.topic is Topic.CACHE)
    assert "vs the 80-95% its own ms imply: met" in disagree.why
    agree = next(c for c in claim_verdicts([_change(_verdict(), "consistency", implied_verdict="short")])
                 if c.topic is Topic.CACHE)
    assert "imply" not in agree.why


def test_each_network_profile_is_a_separate_verdict_and_the_first_is_named_in_the_headline() -> None:
    """A projected verdict per profile, labelled by the network judgement; the headline names the nearest one."""
    networks = (NetworkVerdict("same-zone", cold=_ci(2.3, 2.2, 2.4), warm=_ci(0.55, 0.5, 0.6),
                               improvement=_ci(76.3, 76.2, 76.4), improvement_verdict="short"),
                NetworkVerdict("cross-zone", cold=_ci(6.3, 6.2, 6.4), warm=_ci(1.5, 1.4, 1.6),
                               improvement=_ci(91.0, 90.5, 91.5), improvement_verdict="met"),
                NetworkVerdict("broken", missing="no traffic"))
    claims = claim_verdicts([_verdict(networks=networks)])
    cache = [c for c in claims if c.topic is Topic.CACHE]
    assert [(c.profile, c.label, c.headline) for c in cache] == [
        ("local", "short", True), ("same-zone", "short", False), ("cross-zone", "met", False)]
    assert "at same-zone (projected): 76.3% [76.2, 76.4], short" in cache[0].why
    assert "cross-zone" not in cache[0].why
    assert cache[2].why.startswith("Projected, not measured")


def test_an_index_claim_holds_when_every_plan_uses_it_and_names_the_index_used_otherwise() -> None:
    """getByUser over two kinds: both plans on the claimed index hold; one on another index does not, and says so."""
    typical = _verdict("get_by_user", "typical")
    whale = _verdict("get_by_user", "whale")
    held = _by_id(claim_verdicts([typical, whale]), Topic.INDEX)["index.get_by_user"]
    assert (held.label, held.evidence, held.headline, held.param_kind) == (HOLDS, "2 of 2 plans", True, None)
    assert "idx_balances_user_created" in held.why
    wrong = _change(typical, "index", used=False, plan_indexes=("idx_balances_user_usd",))
    broken = _by_id(claim_verdicts([wrong, whale]), Topic.INDEX)["index.get_by_user"]
    assert (broken.label, broken.evidence) == (DOES_NOT_HOLD, "1 of 2 plans")
    assert "typical: the with-012 plan uses idx_balances_user_usd" in broken.why
    unseen = _by_id(claim_verdicts([_change(typical, "index", used=None)]), Topic.INDEX)["index.get_by_user"]
    assert (unseen.label, unseen.evidence) == ("not measured", "no plan")


def test_a_query_without_an_index_claim_gets_no_index_row() -> None:
    """findById has no index claim in the guide: no index verdict is invented for it."""
    assert not [c for c in claim_verdicts([_verdict()]) if c.topic is Topic.INDEX]


@pytest.mark.parametrize("label", ["faster", "inconclusive", "slower"])
def test_explicit_columns_carry_the_judged_label_and_fold_it(label: str) -> None:
    """The columns claim per query is the projection's label as judged; the fold holds only on faster, fails on
    slower (the label's interval rule is ``speedup_verdict``'s, tested with the verdicts)."""
    claims = claim_verdicts([_change(_verdict(), "projection", effect=label)])
    assert _by_id(claims, Topic.COLUMNS)["columns.find_by_id.balance"].label == label
    folded = _by_id(claims, Topic.COLUMNS)["columns"]
    assert folded.label == {"faster": HOLDS, "slower": DOES_NOT_HOLD}.get(label, "inconclusive")


def test_the_guide_cache_fold_counts_its_rows_and_states_the_price_span() -> None:
    """Six rows, one short: does not hold; the race-free price is the span of the rows' ratios."""
    rows = [_change(_verdict("find_by_user_id", kind), "guide_cache", improvement_verdict="met",
                    race_free_price=_ci(p, p - .01, p + .01)) for kind, p in (("typical", 1.05), ("whale", 1.31))]
    claims = claim_verdicts([*rows, _change(_verdict(), "guide_cache", improvement_verdict="short",
                                            race_free_price=_ci(1.2, 1.1, 1.3))])
    folded = _by_id(claims, Topic.GUIDE_CACHE)["guide_cache"]
    assert (folded.label, folded.evidence) == (DOES_NOT_HOLD, "2 of 3 met/better")
    assert folded.why.startswith("2 met, 1 short of 3 rows") and "1.05-1.31x" in folded.why
    good = _by_id(claim_verdicts(rows), Topic.GUIDE_CACHE)["guide_cache"]
    assert good.label == HOLDS


def test_the_headline_is_each_claim_once_in_order_and_topics_follow() -> None:
    """Cache rows first, then index rows, then the folds; the per-topic verdicts are not headline rows."""
    items = [_verdict(), _verdict("get_by_user", "typical"), _verdict("total_balance_by_user", "typical")]
    claims = claim_verdicts(items)
    rows = headline(claims)
    assert [c.claim_id for c in rows] == [
        "cache.find_by_id.balance", "cache.total_balance_by_user.typical", "index.get_by_user",
        "index.total_balance_by_user", "columns", "guide_cache"]
    assert claims[:len(rows)] == rows
    ids = [(c.claim_id, c.profile) for c in claims]
    assert len(ids) == len(set(ids)), "a claim is judged once per profile"


def test_with_several_scales_each_scale_is_judged_on_its_own() -> None:
    """Two scales give two headlines; a claim id repeats across scales, never within one."""
    claims = claim_verdicts([_verdict(), _verdict(scale="medium")])
    assert [c.scale for c in headline(claims)] == ["small", "small", "small", "medium", "medium", "medium"]


def test_counts_and_frame_agree_with_the_list(make_run: Callable[..., Path]) -> None:
    """A real judgement of a synthetic run: the frame has a row per claim verdict and the counts add up."""
    _, claims = judge_run(read_run(make_run()), (PROFILES["same-zone"],))
    frame = claims_frame(claims)
    assert len(frame) == len(claims) and frame["label"].tolist() == [c.label for c in claims]
    assert sum(label_counts(claims).values()) == len(claims)
    assert set(frame.loc[frame["profile"] == "same-zone", "topic"]) == {"cache"}
    assert frame["headline"].sum() == len(headline(claims)) >= 8


@pytest.mark.parametrize(("low", "high", "bound"), [
    (84.4, 85.5, "85"), (85.0, 90.5, "90"), (84.0, 85.0, "85"), (89.5, 90.4, "90"), (84.0, 91.0, "85")])
def test_the_straddled_bound_is_the_one_inside_the_interval(low: float, high: float, bound: str) -> None:
    """An interval touching the lower bound exactly and crossing the upper one straddles the upper; one ending on the
    lower bound straddles the lower; one wider than the range names the lower bound first."""
    verdict = _change(_verdict("find_by_user_id_and_token_id", "pair"), "cache",
                      improvement=_ci((low + high) / 2, low, high), improvement_verdict="inconclusive")
    why = next(c.why for c in claim_verdicts([verdict]) if c.topic is Topic.CACHE)
    assert why.startswith(f"The interval straddles the guide's {bound}% bound, ")


def test_no_interval_names_how_many_trials() -> None:
    """Two trials without an interval is said in the plural."""
    verdict = _change(_verdict(), "cache", improvement=_ci(87.0, None, None, trials=2),
                      improvement_verdict="inconclusive")
    why = next(c.why for c in claim_verdicts([verdict]) if c.topic is Topic.CACHE)
    assert why.startswith("No interval from 2 trials;")


def test_the_frame_row_is_the_verdict_field_by_field() -> None:
    """A notebook's row carries every field of its claim verdict, the estimate split into value and bounds."""
    claims = claim_verdicts([_verdict()])
    frame = claims_frame(claims)
    row = frame.iloc[0].to_dict()
    assert row == {"claim": "cache.find_by_id.balance", "topic": "cache", "title": "findById: cache improvement",
                   "scale": "small", "query": "find_by_id", "params": "balance", "profile": "local",
                   "guide": "90-95%", "estimate": 84.5, "low": 84.2, "high": 84.8, "unit": "%", "label": "short",
                   "headline": True, "why": claims[0].why}
    folded = frame.set_index("claim").loc["columns"]
    assert folded["estimate"] is None or folded["estimate"] != folded["estimate"]  # no estimate: missing
    assert (folded["query"], folded["params"], folded["unit"]) == (None, None, "")
    assert list(claims_frame([]).columns) == list(frame.columns)


def test_every_per_topic_verdict_reads_as_written() -> None:
    """The per-topic verdicts of one findById question, title, guide, figure and sentence, as a reader gets them."""
    claims = claim_verdicts([_verdict()])
    migration = _by_id(claims, Topic.MIGRATION)["migration.find_by_id.balance"]
    assert (migration.title, migration.guide, measured_text(migration), migration.unit, migration.label) == (
        "findById: 012 speedup, no cache", "no claim", "61x [58, 64]", "x", "faster")
    assert migration.why == "No cache: 5.5 ms without 012, 0.09 ms with it"
    columns = _by_id(claims, Topic.COLUMNS)["columns.find_by_id.balance"]
    assert (columns.guide, measured_text(columns)) == ("faster than balances.*", "1.3x [1.2, 1.4]")
    guide_cache = _by_id(claims, Topic.GUIDE_CACHE)["guide_cache.find_by_id.balance"]
    assert guide_cache.why == ("A miss through the guide's GET, then SET with TTL: 0.23 ms [0.22, 0.24]; our race-free "
                               "miss costs 1.33x [1.31, 1.35] the guide's miss")
    consistency = _by_id(claims, Topic.CONSISTENCY)["consistency.find_by_id.balance"]
    assert (consistency.guide, consistency.why) == (
        "80-95%", "The table states 90-95%; its 5-10 ms cold and 0.5-1 ms warm imply 80-95%")
    folded = _by_id(claims, Topic.GUIDE_CACHE)["guide_cache"]
    assert (folded.title, folded.guide, folded.unit) == (
        "The guide's cache design meets its table", "table's ranges", "")


def test_the_same_plan_both_ways_blames_drift_and_only_then() -> None:
    """012 leaving the plan alone is said in the sentence; a changed plan's sentence does not say it."""
    same_plan = _change(_verdict(), "migration", same_plan=True, effect="same plan")
    same = _by_id(claim_verdicts([same_plan]), Topic.MIGRATION)["migration.find_by_id.balance"]
    assert same.label == "same plan"
    assert same.why.endswith("; the plan is the same both ways, so the difference is drift")
    changed = _by_id(claim_verdicts([_verdict()]), Topic.MIGRATION)["migration.find_by_id.balance"]
    assert "drift" not in changed.why


def test_a_projection_without_latencies_says_only_that_it_is_projected() -> None:
    """A network verdict with an improvement but no projected latencies keeps the plain sentence."""
    bare = NetworkVerdict("same-zone", improvement=_ci(76.0, 75.0, 77.0), improvement_verdict="short")
    full = NetworkVerdict("cross-zone", cold=_ci(6.3, 6.2, 6.4), warm=_ci(1.5, 1.4, 1.6),
                          improvement=_ci(76.0, 75.0, 77.0), improvement_verdict="short")
    cache = [c for c in claim_verdicts([_verdict(networks=(bare, full))]) if c.topic is Topic.CACHE]
    assert cache[1].why == "Projected, not measured"
    assert cache[2].why == ("Projected, not measured: cold 6.3 ms, warm 1.5 ms with the profile's network added to "
                            "both sides within each trial")


@pytest.mark.parametrize("missing", ["improvement", "cold", "warm", "claim", "cache"])
def test_a_question_missing_a_side_gets_no_cache_verdict(missing: str) -> None:
    """Without a cold or warm side, an improvement, a claim or any cache record there is no cache verdict to give,
    whatever else is."""
    verdict = (replace(_verdict(), **{missing: None}) if missing in ("claim", "cache")
               else _change(_verdict(), "cache", **{missing: None}))
    claims = claim_verdicts([verdict])
    assert not [c for c in claims if c.topic is Topic.CACHE]


def test_one_kind_index_row_names_no_kinds_and_a_plan_without_index_says_so() -> None:
    """A single plan: "uses X" without a list of kinds; a plan on no index says "no index"; none captured says so."""
    single = _by_id(claim_verdicts([_verdict("find_by_address", "address")]), Topic.INDEX)["index.find_by_address"]
    assert single.why == "The with-012 plan uses idx_balances_address; 012 speedup without cache: address 61x"
    assert single.unit == "" and single.estimate is None
    bare = _change(_verdict("find_by_address", "address"), "index", used=False, plan_indexes=())
    row = _by_id(claim_verdicts([bare]), Topic.INDEX)["index.find_by_address"]
    assert row.why.startswith("address: the with-012 plan uses no index;")
    unseen = replace(_change(_verdict("find_by_address", "address"), "index", used=None), migration=None)
    assert _by_id(claim_verdicts([unseen]), Topic.INDEX)["index.find_by_address"].why == (
        "No with-012 plan was captured to check")


def test_an_open_cache_claim_says_how_far_its_bound_is_and_how_many_trials_would_decide_it() -> None:
    """84.6 [84.2, 85.4] after 20 trials is 0.4 pp under 85: the why says so with a trial count above 20, and
    ``precision`` returns the same; a decided claim and a speedup ("x") have none."""
    verdict = _change(_verdict("find_by_user_id_and_token_id", "pair"), "cache",
                      improvement=_ci(84.6, 84.2, 85.4, trials=20), improvement_verdict="inconclusive")
    row = next(c for c in claim_verdicts([verdict]) if c.topic is Topic.CACHE)
    found = precision(row)
    assert found is not None and (found.bound, found.trials) == (85.0, 20)
    assert found.distance == pytest.approx(0.4) and found.needed is not None and found.needed > 20
    assert row.why.startswith(f"The interval straddles the guide's 85% bound, 0.4 pp away: ~{found.needed} trials "
                              "would decide it (20 ran);")
    decided = next(c for c in claim_verdicts([_verdict()]) if c.topic is Topic.CACHE)
    assert precision(decided) is None
    assert precision(replace(row, unit="x")) is None and precision(replace(row, guide_range=None)) is None


def test_an_estimate_on_its_bound_is_said_to_be_beyond_any_trial_count() -> None:
    """85.0 [84.5, 85.5]: no number of trials moves an estimate off the bound it sits on."""
    verdict = _change(_verdict("find_by_user_id_and_token_id", "pair"), "cache",
                      improvement=_ci(85.0, 84.5, 85.5, trials=20), improvement_verdict="inconclusive")
    row = next(c for c in claim_verdicts([verdict]) if c.topic is Topic.CACHE)
    assert "0.0 pp away: no affordable number of trials decides it (20 ran)" in row.why
