"""Verdicts: the guide's claims judged by whole intervals, from within-trial ratios, and "inconclusive" when due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.network import LOCAL, parse_profiles
from balance_bench.reports.expectations import LATENCY_CLAIMS
from balance_bench.reports.runs import Run, load_run
from balance_bench.reports.verdicts import (
    INCONCLUSIVE,
    improvement_verdict,
    judge_interval,
    migration_verdict,
    verdicts,
    verdicts_frame,
)
from balance_bench.results import ServerTraffic, Traffic
from balance_bench.statistics import Estimate
from tests.reports.conftest import trial_run

RANGE = (85.0, 90.0)


def _ci(low: float, high: float) -> Estimate:
    return Estimate((low + high) / 2, low, high, 10)


@pytest.mark.parametrize(("low", "high", "expected"), [
    (85.0, 90.0, "within"),  # touching both bounds is still inside
    (86.0, 89.0, "within"),
    (84.9, 89.0, INCONCLUSIVE),  # straddles the lower bound
    (86.0, 90.1, INCONCLUSIVE),  # straddles the upper bound
    (80.0, 84.9, "below"),
    (80.0, 85.0, INCONCLUSIVE),  # reaches the lower bound: not wholly below
    (90.1, 95.0, "above"),
    (90.0, 95.0, INCONCLUSIVE),  # reaches the upper bound: not wholly above
    (84.0, 91.0, INCONCLUSIVE),  # wider than the range
])
def test_a_verdict_needs_the_whole_interval(low: float, high: float, expected: str) -> None:
    """within/below/above only when the whole interval is; an interval touching or crossing a bound decides nothing."""
    assert judge_interval(_ci(low, high), RANGE) == expected


def test_improvement_labels_and_no_interval() -> None:
    """within is met, below short, above better; one trial (no interval) is inconclusive whatever its value."""
    assert improvement_verdict(_ci(86, 89), RANGE) == "met"
    assert improvement_verdict(_ci(70, 80), RANGE) == "short"
    assert improvement_verdict(_ci(91, 95), RANGE) == "better"
    assert improvement_verdict(Estimate(87.5, None, None, 1), RANGE) == INCONCLUSIVE


def test_single_value_claim_gets_the_stated_tolerance() -> None:
    """The guide's "~0.5ms" is read as 0.4-0.6 ms, on both sides."""
    assert judge_interval(_ci(0.41, 0.59), (0.5, 0.5)) == "within"
    assert judge_interval(_ci(0.30, 0.39), (0.5, 0.5)) == "below"
    assert judge_interval(_ci(0.61, 0.70), (0.5, 0.5)) == "above"
    assert judge_interval(_ci(0.39, 0.45), (0.5, 0.5)) == INCONCLUSIVE


@pytest.mark.parametrize(("low", "high", "same_plan", "expected"), [
    (1.01, 2.0, False, "faster"),
    (1.0, 2.0, False, INCONCLUSIVE),
    (0.5, 0.99, False, "slower"),
    (0.5, 1.0, False, INCONCLUSIVE),
    (1.5, 2.0, True, "same plan"),
    (1.5, 2.0, None, "faster"),
])
def test_012_effect_needs_an_interval_clear_of_one(low: float, high: float, same_plan: bool | None,
                                                     expected: str) -> None:
    """faster/slower only when the speedup's interval excludes 1; the same plan both ways is drift, not 012."""
    assert migration_verdict(_ci(low, high), same_plan) == expected
    assert migration_verdict(None, same_plan) == "not measured"


def _read(query: str, cache: CacheState, migration: Migration, kind: str) -> Coordinates:
    return Coordinates(Kind.READ, query, cache, migration, "tiny", "optimized", kind)


def test_improvement_and_speedup_are_paired_within_trials(tmp_path: Path) -> None:
    """Per trial: cold 1.0 / warm 0.1 -> 90%, cold 2.0 / warm 0.3 -> 85%; without/with 5x and 6x."""
    q = "find_by_user_id_and_token_id"
    run = trial_run(tmp_path, {
        _read(q, CacheState.COLD, Migration.WITH_012, "pair"): {1: 1.0, 2: 2.0},
        _read(q, CacheState.WARM, Migration.WITH_012, "pair"): {1: 0.1, 2: 0.3},
        _read(q, CacheState.NOCACHE, Migration.WITHOUT_012, "pair"): {1: 5.0, 2: 12.0},
        _read(q, CacheState.NOCACHE, Migration.WITH_012, "pair"): {1: 1.0, 2: 2.0},
    })
    (v,) = verdicts(run)
    assert v.improvement is not None and v.improvement.value == pytest.approx(87.5)
    assert v.migration_speedup is not None and v.migration_speedup.value == pytest.approx((5 * 6) ** 0.5)
    assert v.improvement_verdict == INCONCLUSIVE  # two trials scattered this much decide nothing


def test_cold_is_judged_against_the_cold_range_and_warm_against_the_warm_range(tmp_path: Path) -> None:
    """findById: cold 6-7 ms sits in the guide's cold ~5-10 ms, warm 0.7-0.8 ms in its warm ~0.5-1 ms."""
    run = trial_run(tmp_path, {
        _read("find_by_id", CacheState.COLD, Migration.WITH_012, "balance"): {1: 6.0, 2: 7.0, 3: 6.5},
        _read("find_by_id", CacheState.WARM, Migration.WITH_012, "balance"): {1: 0.7, 2: 0.8, 3: 0.75},
    })
    (v,) = verdicts(run)
    assert (v.cold_vs_guide, v.warm_vs_guide) == ("within", "within")
    swapped = trial_run(tmp_path, {
        _read("find_by_id", CacheState.COLD, Migration.WITH_012, "balance"): {1: 0.7, 2: 0.8, 3: 0.75},
        _read("find_by_id", CacheState.WARM, Migration.WITH_012, "balance"): {1: 0.07, 2: 0.08, 3: 0.075},
    })
    (w,) = verdicts(swapped)
    assert (w.cold_vs_guide, w.warm_vs_guide) == ("below", "below")


def test_every_claimed_query_is_judged_in_any_run(run_dir: Path) -> None:
    """Each query of the guide's table gets an improvement verdict at every scale the run has."""
    items = verdicts(load_run(run_dir))
    judged = {v.query for v in items if v.improvement_verdict in ("met", "better", "short", INCONCLUSIVE)}
    assert set(LATENCY_CLAIMS) <= judged


def test_local_socket_milliseconds_are_called_out_not_bent(make_run: Callable[..., Path]) -> None:
    """Sub-millisecond local times are reported as below the guide, with the reason, and unscaled."""
    run = load_run(make_run())
    v = next(v for v in verdicts(run) if v.query == "find_by_id")
    assert (v.cold_vs_guide, v.warm_vs_guide) == ("below", "below")
    assert "local socket" in v.text and "do not transfer" in v.text
    assert v.cold is not None and f"{v.cold.value:.3g} ms" in v.text


def test_migration_effect_separates_real_speedups_from_drift(make_run: Callable[..., Path]) -> None:
    """A query that gains an index is faster with 012 (interval above 1); one whose plan 012 does not change is
    "same plan"."""
    items = {(v.query, v.param_kind): v for v in verdicts(load_run(make_run()))}
    pair = items[("find_by_user_id_and_token_id", "pair")]
    assert pair.migration_effect == "faster" and pair.migration_speedup is not None
    assert pair.migration_speedup.value == pytest.approx(8.0, rel=0.15) and pair.migration_speedup.low > 1
    assert items[("find_by_id", "balance")].migration_effect == "same plan"


def test_claimed_index_used_yes_and_no(make_run: Callable[..., Path]) -> None:
    """The with-012 plan's indexes decide "index used"; a plan without the claimed index says which it used."""
    good = {v.query: v for v in verdicts(load_run(make_run()))}
    assert good["total_balance_by_user"].index_used is True
    assert good["find_by_id"].index_used is None  # the guide claims no index for it
    bad_run = make_run(plans={"total_balance_by_user": ("seq_scan_filter.json", "index_scan.json")})
    bad = {v.query: v for v in verdicts(load_run(bad_run))}
    assert bad["total_balance_by_user"].index_used is False
    assert "balances_pkey" in bad["total_balance_by_user"].text


def test_verdict_frame_has_one_row_per_verdict_with_intervals(make_run: Callable[..., Path]) -> None:
    """The table notebooks get carries every verdict, its interval bounds, and the guide's figures."""
    items = verdicts(load_run(make_run()))
    frame = verdicts_frame(items)
    assert len(frame) == len(items)
    assert {"cold ms", "guide cold", "improvement low %", "improvement high %", "improvement verdict",
            "012 speedup low", "index used", "trials"} <= set(frame.columns)


def test_same_plan_both_ways_is_drift_not_the_migration(real_run_dir: Path) -> None:
    """find_by_id uses the primary key with and without 012, so its verdict blames drift, not the migration."""
    (verdict,) = [v for v in verdicts(load_run(real_run_dir)) if v.query == "find_by_id"]
    assert verdict.same_plan is True and verdict.migration_effect == "same plan"
    assert "drift, not migration 012" in verdict.text
    pair = next(v for v in verdicts(load_run(real_run_dir)) if v.query == "find_by_address")
    assert pair.same_plan is False and pair.migration_effect != "same plan"


@pytest.mark.parametrize(("ratios", "word"), [
    ((1.2, 1.21, 1.19, 1.2), "dearer"),
    ((0.8, 0.81, 0.79, 0.8), "cheaper"),
    ((1.3, 0.8, 1.25, 0.75), "inconclusive"),
])
def test_the_guides_cache_is_judged_on_its_own_miss_and_race_freedom_has_a_price(
        tmp_path: Path, ratios: tuple[float, ...], word: str) -> None:
    """guide_cold is judged against the same warm hit; ours/guide cold per trial is the price, judged by its CI."""
    q = "find_by_id"
    guide = {t: 1.0 + 0.01 * t for t in range(1, 5)}
    run = trial_run(tmp_path, {
        _read(q, CacheState.COLD, Migration.WITH_012, "balance"): {t: guide[t] * r for t, r in enumerate(ratios, 1)},
        _read(q, CacheState.GUIDE_COLD, Migration.WITH_012, "balance"): guide,
        _read(q, CacheState.WARM, Migration.WITH_012, "balance"): {t: guide[t] * 0.08 for t in guide},
    })
    (v,) = verdicts(run)
    assert v.guide_improvement is not None and v.guide_improvement.value == pytest.approx(92.0)
    assert v.guide_improvement_verdict == "met"  # 92% in every trial, inside the guide's 90-95%
    assert v.race_free_price is not None and v.race_free_price.trials == 4
    if word != "inconclusive":
        assert v.race_free_price.value == pytest.approx(ratios[0], rel=0.02)
    assert f"({word}" in v.text and "the guide's own cache" in v.text


def test_without_guide_cold_cases_the_guides_cache_is_not_judged(tmp_path: Path) -> None:
    """A run without guide_cold cases (an older run) has no guide-cache verdict and says nothing about it."""
    run = trial_run(tmp_path, {
        _read("find_by_id", CacheState.COLD, Migration.WITH_012, "balance"): {1: 1.0, 2: 1.1},
        _read("find_by_id", CacheState.WARM, Migration.WITH_012, "balance"): {1: 0.1, 2: 0.1},
    })
    (v,) = verdicts(run)
    assert v.guide_cold is None and v.race_free_price is None and v.guide_improvement_verdict is None
    assert "guide's own cache" not in v.text


def _improvement_run(tmp_path: Path, query: str, kind: str, warm: list[float]) -> Run:
    cold = dict.fromkeys(range(1, len(warm) + 1), 1.0)
    return trial_run(tmp_path, {
        _read(query, CacheState.COLD, Migration.WITH_012, kind): cold,
        _read(query, CacheState.WARM, Migration.WITH_012, kind): dict(enumerate(warm, start=1)),
    })


def test_an_improvement_is_judged_against_the_stated_and_the_implied_range(tmp_path: Path) -> None:
    """findById's ~85% is short of the stated 90-95% but met against the 80-95% its own 5 -> 1 ms imply."""
    (v,) = verdicts(_improvement_run(tmp_path, "find_by_id", "balance", [0.15, 0.14, 0.16, 0.145, 0.155]))
    assert v.improvement_verdict == "short" and v.implied_verdict == "met"
    assert v.implied_pct == pytest.approx((80.0, 95.0))
    assert "imply 80-95%" in v.text and "against that reading: met" in v.text
    row = verdicts_frame([v]).iloc[0]
    assert row["implied improvement"] == "~80-95%" and row["implied verdict"] == "met"


def test_both_readings_can_agree_and_then_the_text_names_only_one(tmp_path: Path) -> None:
    """~70% is short either way for findById; totalBalanceByUser states what its ms imply, so no second reading."""
    (v,) = verdicts(_improvement_run(tmp_path, "find_by_id", "balance", [0.30, 0.29, 0.31, 0.295, 0.305]))
    assert (v.improvement_verdict, v.implied_verdict) == ("short", "short")
    (w,) = verdicts(_improvement_run(tmp_path, "total_balance_by_user", "typical", [0.07, 0.071, 0.069, 0.07]))
    assert w.implied_pct == pytest.approx(LATENCY_CLAIMS["total_balance_by_user"].improvement_pct)
    assert w.implied_verdict == w.improvement_verdict == "met" and "imply" not in w.text


def _with_traffic(run: Run, traffic: dict[CacheState, Traffic]) -> Run:
    cases = [replace(c, traffic=traffic.get(c.coords.cache)) for c in run.summary.cases]
    return replace(run, summary=replace(run.summary, cases=cases))


def _trips(pg: float, cache: float) -> Traffic:
    return Traffic(3, ServerTraffic(pg, 0, 0), ServerTraffic(cache, 0, 0, commands=cache))


def test_a_network_profile_rejudges_short_locally_as_met_over_the_network(tmp_path: Path) -> None:
    """findById cold 0.29-0.31 ms, warm 0.1: short locally (66%); with PostgreSQL 2 ms and Redis 0.1 ms away
    a miss (1 + 3 round trips) costs 2.6 ms and a hit (0 + 1) 0.2 ms, so 92.3%: met (the guide's 90-95%)."""
    cold, warm = {1: 0.30, 2: 0.31, 3: 0.29}, {1: 0.1, 2: 0.1, 3: 0.1}
    run = _with_traffic(trial_run(tmp_path, {
        _read("find_by_id", CacheState.COLD, Migration.WITH_012, "balance"): cold,
        _read("find_by_id", CacheState.WARM, Migration.WITH_012, "balance"): warm,
    }), {CacheState.COLD: _trips(1, 3), CacheState.WARM: _trips(0, 1)})
    (profile,) = parse_profiles("pg:rtt=2ms;redis:rtt=0.1ms")
    (v,) = verdicts(run, [profile])
    (n,) = v.networks
    by_hand = [100 * (1 - (warm[t] + 0.1) / (cold[t] + 2.0 + 0.3)) for t in (1, 2, 3)]
    assert v.improvement_verdict == "short" and n.improvement_verdict == "met"
    assert n.improvement is not None and n.improvement.value == pytest.approx(sum(by_hand) / 3)
    assert n.cold is not None and n.cold.value == pytest.approx((2.6 * 2.61 * 2.59) ** (1 / 3))
    assert (n.cold_vs_guide, n.warm_vs_guide) == ("below", "below")  # 2.6 ms < ~5-10, 0.2 ms < ~0.5-1
    assert "short locally, met at pg:rtt=2ms;redis:rtt=0.1ms" in v.text
    assert n.cell().startswith("met: 92.3%")
    frame = verdicts_frame([v])
    assert frame.loc[0, "pg:rtt=2ms;redis:rtt=0.1ms: improvement verdict"] == "met"


def test_the_local_profile_changes_nothing_and_a_run_without_traffic_is_not_projected(tmp_path: Path) -> None:
    """local re-judges exactly as measured; a run made before traffic was counted says so instead of guessing."""
    medians = {_read("find_by_id", CacheState.COLD, Migration.WITH_012, "balance"): {1: 0.30, 2: 0.31, 3: 0.29},
               _read("find_by_id", CacheState.WARM, Migration.WITH_012, "balance"): {1: 0.1, 2: 0.1, 3: 0.1}}
    counted = _with_traffic(trial_run(tmp_path, medians), {CacheState.COLD: _trips(1, 3),
                                                           CacheState.WARM: _trips(0, 1)})
    (v,) = verdicts(counted, [LOCAL])
    assert v.networks[0].improvement == v.improvement and v.networks[0].improvement_verdict == v.improvement_verdict
    (bare,) = verdicts(trial_run(tmp_path, medians), [LOCAL])
    assert bare.networks[0].improvement is None and bare.networks[0].missing is not None
    assert bare.networks[0].cell().startswith("not projected: the run recorded no traffic")


def test_a_network_round_trip_shrinks_the_012_speedup_towards_one(tmp_path: Path) -> None:
    """No cache, 0.40 ms without 012 and 0.20 with: 2x locally; with PostgreSQL 2 ms away 2.4 / 2.2 = 1.09x."""
    without, with_ = {1: 0.40, 2: 0.41, 3: 0.39}, {1: 0.20, 2: 0.20, 3: 0.20}
    run = _with_traffic(trial_run(tmp_path, {
        _read("find_by_id", CacheState.COLD, Migration.WITH_012, "balance"): {1: 0.3, 2: 0.3, 3: 0.3},
        _read("find_by_id", CacheState.WARM, Migration.WITH_012, "balance"): {1: 0.1, 2: 0.1, 3: 0.1},
        _read("find_by_id", CacheState.NOCACHE, Migration.WITHOUT_012, "balance"): without,
        _read("find_by_id", CacheState.NOCACHE, Migration.WITH_012, "balance"): with_,
    }), {CacheState.COLD: _trips(1, 3), CacheState.WARM: _trips(0, 1), CacheState.NOCACHE: _trips(1, 0)})
    (v,) = verdicts(run, parse_profiles("pg:rtt=2ms"))
    (n,) = v.networks
    by_hand = [(without[t] + 2.0) / (with_[t] + 2.0) for t in (1, 2, 3)]
    assert v.migration_speedup is not None and v.migration_speedup.value == pytest.approx(2.0, rel=0.01)
    assert n.migration_speedup is not None
    assert n.migration_speedup.value == pytest.approx((by_hand[0] * by_hand[1] * by_hand[2]) ** (1 / 3))
    assert n.migration_effect == v.migration_effect and "; 012 " in n.cell()


def test_over_a_network_the_guides_cache_saves_a_round_trip_and_race_freedom_costs_one(tmp_path: Path) -> None:
    """1 ms both ways: our miss 0.30 + 4 ms, the guide's 0.28 + 3 ms, the hit 0.10 + 1 ms. By hand, the guide's
    improvement is 1 - 1.1/3.28 = 66.5% and race-freedom costs 4.30/3.28 = 1.31x per miss."""
    trials = (1, 2, 3)
    run = _with_traffic(trial_run(tmp_path, {
        _read("find_by_id", CacheState.COLD, Migration.WITH_012, "balance"): dict.fromkeys(trials, 0.30),
        _read("find_by_id", CacheState.GUIDE_COLD, Migration.WITH_012, "balance"): dict.fromkeys(trials, 0.28),
        _read("find_by_id", CacheState.WARM, Migration.WITH_012, "balance"): dict.fromkeys(trials, 0.10),
    }), {CacheState.COLD: _trips(1, 3), CacheState.GUIDE_COLD: _trips(1, 2), CacheState.WARM: _trips(0, 1)})
    (v,) = verdicts(run, parse_profiles("rtt=1ms"))
    (n,) = v.networks
    assert n.guide_improvement is not None and n.guide_improvement.value == pytest.approx(100 * (1 - 1.1 / 3.28))
    assert n.race_free_price is not None and n.race_free_price.value == pytest.approx(4.30 / 3.28)
    assert n.guide_improvement_verdict == "short" and "race-free miss ours/guide 1.31x" in n.cell()
    (local,) = verdicts(run, [LOCAL])[0].networks
    assert local.race_free_price is not None and local.race_free_price.value == pytest.approx(0.30 / 0.28)
