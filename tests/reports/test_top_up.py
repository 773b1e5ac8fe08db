"""Top-up planning: which cache verdicts get more trials, of which cases, how many, and what that costs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.reports.claims import ClaimVerdict, Topic
from balance_bench.reports.runs import Run
from balance_bench.reports.top_up import (
    HALF_WIDTH_PP,
    ITEM_S,
    MIN_TRIALS,
    SESSION_S,
    open_claims,
    plan_top_up,
    trial_seconds,
)
from balance_bench.statistics import Estimate
from tests.reports.conftest import trial_run


def _claim(query: str = "find_by_id", kind: str = "balance", estimate: Estimate | None = None,
           label: str = "inconclusive", topic: Topic = Topic.CACHE, profile: str = "local",
           unit: str = "%") -> ClaimVerdict:
    return ClaimVerdict(claim_id=f"{topic.value}.{query}.{kind}", topic=topic, title=query, scale="tiny",
                        query=query, param_kind=kind, profile=profile, guide="90-95%", guide_range=(90.0, 95.0),
                        estimate=estimate or Estimate(89.8, 89.0, 90.6, 20), unit=unit, label=label, why="")


def _coords(query: str, state: CacheState, kind: str) -> Coordinates:
    return Coordinates(Kind.READ, query, state, Migration.WITH_012, "tiny", OPTIMIZED, kind)


def _run(ms: dict[tuple[str, str], float], trials: int = 20) -> Run:
    """Every cold, guide-cold and warm case of these (query, kind)s, one round per trial at ``ms``."""
    medians = {_coords(q, state, k): dict.fromkeys(range(1, trials + 1), value)
               for (q, k), value in ms.items() for state in (CacheState.COLD, CacheState.GUIDE_COLD, CacheState.WARM)}
    return trial_run(Path("/nowhere"), medians)


def test_open_claims_are_the_undecided_and_the_wide_local_cache_verdicts_fewest_trials_first() -> None:
    """An interval straddling 90 and one decided but wider than ±2 pp want trials; a decided narrow one, a
    projected profile, a speedup ("x") and another topic do not; the one wanting fewer trials comes first."""
    straddling = _claim("find_by_id", estimate=Estimate(89.8, 89.0, 90.6, 20))
    wide = _claim("total_balance", estimate=Estimate(80.0, 77.9, 82.1, 20), label="short")
    narrow = _claim("find_by_user_id", "typical", Estimate(80.0, 78.1, 81.9, 20), label="short")
    projected = _claim(estimate=Estimate(89.8, 89.0, 90.6, 20), profile="same-zone")
    speedup = _claim("get_by_user", unit="x")
    migration = _claim("find_by_address", topic=Topic.MIGRATION)
    found = open_claims([narrow, projected, speedup, migration, straddling, wide])
    assert [o.claim.claim_id for o in found] == ["cache.total_balance.balance", "cache.find_by_id.balance"]
    assert found[0].wanted < found[1].wanted and all(o.wanted > 20 for o in found)
    assert HALF_WIDTH_PP == 2.0  # the wide one is 2.1 either side, the narrow one 1.9


def test_an_estimate_on_its_bound_is_not_topped_up() -> None:
    """90.0 [89.5, 90.5]: no number of trials decides it, so no trial is spent on it."""
    assert open_claims([_claim(estimate=Estimate(90.0, 89.5, 90.5, 20))]) == []


def test_a_cache_claim_tops_up_cold_and_warm_and_a_guide_cache_claim_the_guides_cold_and_warm() -> None:
    """The two sides of each within-trial improvement, with 012, optimized columns, the claim's parameters."""
    cache, guide = open_claims([_claim("find_by_user_id", "whale"),
                                _claim("find_by_user_id", "whale", topic=Topic.GUIDE_CACHE)])
    assert cache.cases == (_coords("find_by_user_id", CacheState.COLD, "whale"),
                           _coords("find_by_user_id", CacheState.WARM, "whale"))
    assert guide.cases == (_coords("find_by_user_id", CacheState.GUIDE_COLD, "whale"),
                           _coords("find_by_user_id", CacheState.WARM, "whale"))


def test_a_trials_cost_counts_warmups_a_cold_rounds_setup_and_each_item() -> None:
    """One round per trial at 2 ms: cold (1 + 2 warm-ups) x 2 calls, warm 3 calls, plus an item's overhead each;
    a case the run does not have costs nothing."""
    run = _run({("find_by_id", "balance"): 2.0})
    cold, warm = _coords("find_by_id", CacheState.COLD, "balance"), _coords("find_by_id", CacheState.WARM, "balance")
    assert trial_seconds(run, [cold]) == pytest.approx(6 * 0.002 + ITEM_S)
    assert trial_seconds(run, [cold, warm]) == pytest.approx(9 * 0.002 + 2 * ITEM_S)
    assert trial_seconds(run, [_coords("total_balance", CacheState.WARM, "system")]) == 0.0


def _wanting(query: str, wanted_estimate: Estimate) -> ClaimVerdict:
    return _claim(query, estimate=wanted_estimate)


def test_the_plan_serves_every_claim_it_takes_and_stops_at_the_first_it_cannot() -> None:
    """Two open claims at 100 ms a call: a budget for both gives both their trials, numbered after the run's; a
    budget one trial short of the second takes the first alone, whole."""
    run = _run({("find_by_id", "balance"): 100.0, ("find_by_user_id", "balance"): 100.0})
    first, second = (_wanting("find_by_id", Estimate(89.6, 88.6, 90.6, 20)),
                     _wanting("find_by_user_id", Estimate(89.8, 89.0, 90.6, 20)))
    opened = open_claims([first, second])
    need = {o.claim.query: o.wanted - 20 for o in opened}
    assert need["find_by_id"] < need["find_by_user_id"]
    per_case = (0.3 + 0.6) / 2 + ITEM_S  # warm 3 calls, cold 6 calls, at 0.1 s: per case on average
    both = SESSION_S + need["find_by_user_id"] * 4 * per_case
    plan = plan_top_up(run, [first, second], both + 1e-6, next_trial=21)
    assert plan is not None and (plan.first, plan.trials, len(plan.claims), len(plan.cases)) == (
        21, need["find_by_user_id"], 2, 4)
    assert plan.seconds == pytest.approx(both)
    short = plan_top_up(run, [first, second], both - 4 * per_case, next_trial=21)
    assert short is not None and [o.claim.query for o in short.claims] == ["find_by_id"]
    assert short.trials == need["find_by_id"] and len(short.cases) == 2


def test_the_first_claim_alone_gets_what_the_budget_affords_down_to_the_minimum() -> None:
    """Too little for its whole need: it gets the affordable trials; below MIN_TRIALS, no top-up at all."""
    run = _run({("find_by_id", "balance"): 100.0})
    claim = _wanting("find_by_id", Estimate(89.8, 89.0, 90.6, 20))
    per_trial = 0.9 + 2 * ITEM_S
    plan = plan_top_up(run, [claim], SESSION_S + MIN_TRIALS * per_trial + 1e-6, next_trial=31)
    assert plan is not None and (plan.first, plan.trials) == (31, MIN_TRIALS)
    assert [o.claim for o in plan.claims] == [claim] and plan.cases == open_claims([claim])[0].cases
    assert plan.seconds == pytest.approx(SESSION_S + MIN_TRIALS * per_trial)
    assert plan_top_up(run, [claim], SESSION_S + MIN_TRIALS * per_trial - 1e-6, next_trial=31) is None


def test_a_claim_needing_a_trial_or_two_gets_the_minimum() -> None:
    """Fewer than MIN_TRIALS missing: MIN_TRIALS run all the same (a session for one trial is not worth it)."""
    run = _run({("find_by_id", "balance"): 1.0})
    nearly = _wanting("find_by_id", Estimate(89.0, 88.0, 90.1, 20))  # 0.1 pp short of deciding: ~1 more trial
    (opened,) = open_claims([nearly])
    assert opened.wanted - 20 < MIN_TRIALS
    plan = plan_top_up(run, [nearly], 60.0, next_trial=21)
    assert plan is not None and plan.trials == MIN_TRIALS


def test_nothing_open_plans_nothing() -> None:
    """Every verdict decided and narrow: no top-up, whatever the budget."""
    run = _run({("find_by_id", "balance"): 1.0})
    assert plan_top_up(run, [_claim(estimate=Estimate(92.0, 91.0, 93.0, 20), label="met")], 600.0, 21) is None


def test_the_trials_are_said_with_the_top_ups_when_there_were_any() -> None:
    """"20 trials" alone; with two top-ups of 8 and 3 trials over at most 4 cases, their sum and that count;
    one of everything in the singular."""
    from balance_bench.reports.top_up import trials_phrase
    from balance_bench.results import Design, TopUpRecord

    assert trials_phrase(Design(20, 1, 1.2)) == "20 trials"
    assert trials_phrase(Design(20, 1, 1.2, top_ups=(TopUpRecord(21, 8, 4), TopUpRecord(29, 3, 2)))) == (
        "20 trials + 11 top-up trials of 4 cases")
    assert trials_phrase(Design(1, 1, 1.2, top_ups=(TopUpRecord(2, 1, 1),))) == "1 trial + 1 top-up trial of 1 case"


def test_no_interval_no_estimate_a_folded_claim_and_exactly_two_points_wide_are_not_open() -> None:
    """One trial has no spread to project, a folded row has no cases of its own, and ±2.0 pp is not wider than
    the ±2 pp a run accepts (2.1 is: see above)."""
    assert open_claims([_claim(estimate=Estimate(87.0, None, None, 1))]) == []
    assert open_claims([replace(_claim(), estimate=None)]) == []
    assert open_claims([replace(_claim(), param_kind=None)]) == []
    assert open_claims([_claim(estimate=Estimate(80.0, 78.0, 82.0, 20), label="short")]) == []


def test_a_trials_cost_skips_a_missing_case_and_divides_rounds_by_the_trials_that_ran() -> None:
    """A case the run lacks before one it has costs nothing and stops nothing; three rounds in one trial are three
    rounds a trial."""
    single = trial_run(Path("/nowhere"), {_coords("find_by_id", CacheState.WARM, "balance"): {1: 10.0}})
    single = replace(single, summary=replace(single.summary, cases=[replace(single.summary.cases[0], rounds=3)]))
    missing = _coords("find_by_user_id", CacheState.WARM, "whale")
    assert trial_seconds(single, [missing, _coords("find_by_id", CacheState.WARM, "balance")]) == pytest.approx(
        (3 + 2) * 0.010 + ITEM_S)


def test_open_claims_whose_cases_the_run_lacks_are_passed_over() -> None:
    """A claim without cases in the run has nothing to time (no division by zero): alone it plans nothing, and
    wanting fewer trials than another it does not stop that one from being planned."""
    run = _run({("find_by_user_id", "balance"): 1.0})
    absent = _claim("find_by_id", estimate=Estimate(89.6, 88.6, 90.6, 20))
    present = _claim("find_by_user_id", estimate=Estimate(89.8, 89.0, 90.6, 20))
    assert [o.claim for o in open_claims([absent, present])] == [absent, present]
    assert plan_top_up(run, [absent], 600.0, 21) is None
    plan = plan_top_up(run, [absent, present], 600.0, 21)
    assert plan is not None and [o.claim for o in plan.claims] == [present]
