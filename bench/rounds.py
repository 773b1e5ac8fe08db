"""How a case is timed: a pace (rounds, warm-up, trials) calibrated once per case, then pedantic mode.

Shared by the matrix (``test_matrix``) and the experiments (``test_experiments``),
so both are timed the same way: a per-round ``setup`` is never timed, warm-up
rounds precede the timed ones, and the rounds are sized from the case's own
cost so every case gets about the same share of the run.

A slow case (a sequential scan of ten million rows takes a second) would
otherwise cost the run its floor of rounds in every trial: at ``large`` that
floor alone was hours. Its calls are long enough that one of them is already a
steady figure, so a slow case times fewer rounds, warms up once, and rests in
some trials: it runs in trials 1, 1 + s, 1 + 2s, ... for a power-of-two stride s,
so the trials of any two cases nest and every ratio still pairs the two sides
in the trials both ran (``statistics.paired_values``), never fewer than
``MIN_TRIALS`` of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from balance_bench.config import Config

__all__ = ["LIMITS", "WARMUP_ROUNDS", "MIN_TRIALS", "CAP", "SLOW_CALL_S", "Pace", "budget_of", "trials_of",
           "pace_for", "calibrated", "timed"]

LIMITS = {True: (3, 20), False: (5, 300)}  # rounds per trial (low, high) of a case the budget affords: --quick, full
WARMUP_ROUNDS = 2  # untimed calls before a trial's timed ones; a slow case makes one
MIN_TRIALS = 5  # a resting slow case still runs in at least this many trials (or all, if there are fewer)
CAP = 4.0  # a slow case may cost up to this many times its budget before it rests in trials
SLOW_CALL_S = 0.25  # one calibration call this long is the case's cost: two more would add nothing but time
RESTING = "paced: a slow case rests in this trial"  # the skip reason the progress line counts apart from skips


@dataclass(frozen=True)
class Pace:
    """How one case is timed in each trial: timed rounds, untimed warm-up rounds, and which trials it runs in."""

    rounds: int
    warmup: int = WARMUP_ROUNDS
    stride: int = 1  # runs in trials 1, 1 + stride, ...: nested sets for power-of-two strides

    @property
    def slow(self) -> bool:
        """A case timed at a slow pace: its one-off passes (traffic) need a single call too."""
        return self.warmup < WARMUP_ROUNDS

    def runs_in(self, trial: int) -> bool:
        """Whether the case runs in ``trial`` (1-based)."""
        return (trial - 1) % self.stride == 0


def trials_of(config: Config) -> int:
    """Trials of this session: ``--trials`` when given; one under plain pytest."""
    return config.trials or 1


def budget_of(config: Config) -> float:
    """Seconds of timed calls each case gets over the whole run, split evenly across its trials."""
    return 0.06 if config.quick else 1.2


def pace_for(per_call: float, budget: float, trials: int, quick: bool) -> Pace:
    """The pace of a case whose call takes ``per_call`` seconds, given ``budget`` seconds over ``trials`` trials.

    A case the budget affords at least the low limit of rounds per trial gets them (up to the high limit) after
    the usual warm-up. A slower one gets what its budget affords (at least one round) after one warm-up call;
    if that still costs more than ``CAP`` budgets over all trials, it rests in trials by the smallest
    power-of-two stride that fits, keeping at least ``MIN_TRIALS`` trials.
    """
    low, high = LIMITS[quick]
    per_call = max(per_call, 1e-6)
    affordable = int(budget / trials / per_call)
    if affordable >= low:
        return Pace(min(high, affordable))
    rounds = max(1, affordable)
    stride = 1
    while (trials // (stride * 2) >= MIN_TRIALS
           and -(-trials // stride) * (rounds + 1) * per_call > CAP * budget):
        stride *= 2
    return Pace(rounds, warmup=1, stride=stride)


def _per_call(call: Callable[[], Any], setup: Callable[[], Any] | None) -> float:
    """The case's cost per call, untimed by the run: the median of three calls, or one call that is already slow."""
    samples = []
    for _ in range(3):
        if setup:
            setup()
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
        if samples[0] >= SLOW_CALL_S:
            return samples[0]
    return sorted(samples)[1]


def calibrated(key: str, calibration: dict[str, Pace], config: Config, call: Callable[[], Any],
               setup: Callable[[], Any] | None, share: float = 1.0) -> Pace:
    """The pace for about ``share`` of the case's budget, measured once per case (untimed)."""
    if key not in calibration:
        calibration[key] = pace_for(_per_call(call, setup), budget_of(config) * share, trials_of(config),
                                    config.quick)
    return calibration[key]


def timed(benchmark: Any, pace: Pace, call: Callable[[], Any], setup: Callable[[], Any] | None) -> None:
    """Time ``pace.rounds`` calls of ``call`` (each after an untimed ``setup``) into ``benchmark``."""
    try:
        if setup is None:
            benchmark.pedantic(call, rounds=pace.rounds, iterations=1, warmup_rounds=pace.warmup)
        else:
            benchmark.pedantic(call, setup=lambda: (setup(), ((), {}))[1], rounds=pace.rounds, iterations=1,
                               warmup_rounds=pace.warmup)
    except BaseException:
        # pytest-benchmark marks a failed case only on Exception; a Ctrl-C mid-case would otherwise leave a
        # case without timings that breaks its JSON (min() of nothing) and with it the run's clean exit.
        benchmark.has_error = True
        raise
