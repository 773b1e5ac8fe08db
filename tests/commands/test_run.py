"""The run command decides the trial count: what the user asked for, else the default for a run or a smoke test."""

from __future__ import annotations

from pathlib import Path

from balance_bench.commands.run import with_trials
from balance_bench.config import Config


def test_a_run_defaults_to_twenty_trials_and_a_quick_one_to_three() -> None:
    """Twenty trials (the count measured to meet issue 10's targets within 5 minutes), three for --quick."""
    assert with_trials(Config(cache_dir=Path("/nowhere"))).trials == 20
    assert with_trials(Config(cache_dir=Path("/nowhere"), quick=True)).trials == 3


def test_trials_asked_for_are_kept_quick_or_not() -> None:
    """--trials wins over either default."""
    assert with_trials(Config(cache_dir=Path("/nowhere"), trials=7)).trials == 7
    assert with_trials(Config(cache_dir=Path("/nowhere"), quick=True, trials=7)).trials == 7
