"""How a case is timed: rounds per trial calibrated once per case, then pytest-benchmark's pedantic mode.

Shared by the matrix (``test_matrix``) and the experiments (``test_experiments``),
so both are timed the same way: a per-round ``setup`` is never timed, two
warm-up rounds precede the timed ones, and the rounds are sized from the
case's own cost so every case gets about the same share of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from balance_bench.config import Config

__all__ = ["LIMITS", "WARMUP_ROUNDS", "budget_of", "trials_of", "calibrated", "timed"]

LIMITS = {True: (3, 20), False: (5, 300)}  # rounds per trial (low, high): --quick, full
WARMUP_ROUNDS = 2


def trials_of(config: Config) -> int:
    """Trials of this session: ``--trials`` when given; one under plain pytest."""
    return config.trials or 1


def budget_of(config: Config) -> float:
    """Seconds of timed calls each case gets over the whole run, split evenly across its trials."""
    return 0.06 if config.quick else 1.2


def calibrated(key: str, calibration: dict[str, int], config: Config, call: Callable[[], Any],
               setup: Callable[[], Any] | None, share: float = 1.0) -> int:
    """Rounds per trial for about ``share`` of the case's budget, measured once per case (untimed)."""
    if key not in calibration:
        samples = []
        for _ in range(3):
            if setup:
                setup()
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        per_call = max(sorted(samples)[1], 1e-6)
        low, high = LIMITS[config.quick]
        calibration[key] = max(low, min(high, int(budget_of(config) * share / trials_of(config) / per_call)))
    return calibration[key]


def timed(benchmark: Any, rounds: int, call: Callable[[], Any], setup: Callable[[], Any] | None) -> None:
    """Time ``rounds`` calls of ``call`` (each after an untimed ``setup``) into ``benchmark``."""
    try:
        if setup is None:
            benchmark.pedantic(call, rounds=rounds, iterations=1, warmup_rounds=WARMUP_ROUNDS)
        else:
            benchmark.pedantic(call, setup=lambda: (setup(), ((), {}))[1], rounds=rounds, iterations=1,
                               warmup_rounds=WARMUP_ROUNDS)
    except BaseException:
        # pytest-benchmark marks a failed case only on Exception; a Ctrl-C mid-case would otherwise leave a
        # case without timings that breaks its JSON (min() of nothing) and with it the run's clean exit.
        benchmark.has_error = True
        raise
