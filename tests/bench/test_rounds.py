"""Rounds per trial follow the case's share of the budget, from the case's own measured cost."""

from __future__ import annotations

import time
from pathlib import Path

from balance_bench.bench.rounds import calibrated
from balance_bench.config import Config


def test_half_a_share_calibrates_about_half_the_rounds_and_each_case_once() -> None:
    """A 10 ms call with one trial and a 1.2 s budget: about 120 rounds whole, about 60 at half share; a case
    already calibrated keeps its rounds whatever share it is asked for later."""
    config = Config(cache_dir=Path("/nowhere"), trials=1)
    calibration: dict[str, int] = {}
    call = lambda: time.sleep(0.01)  # noqa: E731
    whole = calibrated("whole", calibration, config, call, None)
    half = calibrated("half", calibration, config, call, None, 0.5)
    assert 100 <= whole <= 120 and 50 <= half <= 60
    assert abs(whole - 2 * half) <= 4
    assert calibrated("half", calibration, config, call, None, 1.0) == half
