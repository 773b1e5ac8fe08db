"""A case's pace follows its share of the budget, from its own measured cost; slow cases time fewer calls."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from balance_bench.bench.rounds import CAP, MIN_TRIALS, SLOW_CALL_S, WARMUP_ROUNDS, Pace, calibrated, pace_for
from balance_bench.config import Config


def test_half_a_share_calibrates_about_half_the_rounds_and_each_case_once() -> None:
    """A 10 ms call with one trial and a 1.2 s budget: about 120 rounds whole, about 60 at half share; a case
    already calibrated keeps its pace whatever share it is asked for later."""
    config = Config(cache_dir=Path("/nowhere"), trials=1)
    calibration: dict[str, Pace] = {}
    call = lambda: time.sleep(0.01)  # noqa: E731
    whole = calibrated("whole", calibration, config, call, None)
    half = calibrated("half", calibration, config, call, None, 0.5)
    assert 100 <= whole.rounds <= 120 and 50 <= half.rounds <= 60
    assert abs(whole.rounds - 2 * half.rounds) <= 4
    assert calibrated("half", calibration, config, call, None, 1.0) == half
    assert whole.warmup == WARMUP_ROUNDS and whole.stride == 1


def test_a_case_the_budget_affords_keeps_the_full_pace_down_to_the_low_limit() -> None:
    """0.06 s a trial: a 12 ms call affords exactly 5 rounds (the low limit) and keeps two warm-ups and every
    trial; a 13 ms call affords 4 and is slow: 4 rounds after one warm-up."""
    assert pace_for(0.012, 1.2, 20, quick=False) == Pace(5, WARMUP_ROUNDS, 1)
    assert pace_for(0.013, 1.2, 20, quick=False) == Pace(4, 1, 1)
    assert pace_for(1e-5, 1.2, 20, quick=False).rounds == 300  # the high limit


def test_a_slow_case_rests_in_trials_only_beyond_its_cap() -> None:
    """20 trials at 1 round + 1 warm-up cost 40 calls: a call of 0.12 s (4.8 s, exactly CAP budgets of 1.2 s)
    runs in every trial; one of 0.121 s rests in every second trial; 0.25 s (20 calls = 5 s) in three of four."""
    assert pytest.approx(4.8) == CAP * 1.2
    assert pace_for(0.12, 1.2, 20, quick=False) == Pace(1, 1, 1)
    assert pace_for(0.121, 1.2, 20, quick=False) == Pace(1, 1, 2)
    assert pace_for(0.25, 1.2, 20, quick=False) == Pace(1, 1, 4)


def test_a_slow_case_keeps_at_least_min_trials() -> None:
    """However slow, a case keeps MIN_TRIALS of 20 trials (stride 4), all of 6 trials (stride 2 would leave 3),
    and every trial when there are fewer than MIN_TRIALS."""
    assert MIN_TRIALS == 5
    assert pace_for(100.0, 1.2, 20, quick=False).stride == 4
    assert pace_for(100.0, 1.2, 10, quick=False).stride == 2
    assert pace_for(100.0, 1.2, 6, quick=False).stride == 1
    assert pace_for(100.0, 1.2, 3, quick=False).stride == 1


def test_strides_nest_so_every_pair_of_cases_shares_the_slower_ones_trials() -> None:
    """Trials 1, 5, 9, ... of stride 4 are all trials of stride 2 and stride 1: a ratio pairs them all."""
    trials = range(1, 21)
    by_stride = {s: {t for t in trials if Pace(1, 1, s).runs_in(t)} for s in (1, 2, 4)}
    assert by_stride[4] == {1, 5, 9, 13, 17}
    assert by_stride[4] < by_stride[2] < by_stride[1] == set(trials)


def test_one_slow_calibration_call_is_enough() -> None:
    """A call of at least SLOW_CALL_S is measured once; a fast one three times."""
    calls: list[float] = []

    def slow() -> None:
        calls.append(1.0)
        time.sleep(SLOW_CALL_S)

    calibrated("slow", {}, Config(cache_dir=Path("/nowhere"), trials=20), slow, None)
    assert len(calls) == 1
    calibrated("fast", {}, Config(cache_dir=Path("/nowhere"), trials=20), lambda: calls.append(0.0), None)
    assert len(calls) == 4
