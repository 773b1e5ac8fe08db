"""The run command decides the trial count: what the user asked for, else the default for a run or a smoke test;
piped, a run ends in a few lines: the headline table, then where the run, its report and its verdicts are."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from balance_bench.commands.run import with_trials
from balance_bench.config import Config
from tests.conftest import run_cli


def test_a_run_defaults_to_twenty_trials_and_a_quick_one_to_three() -> None:
    """Twenty trials (the count measured to meet issue 10's targets within 5 minutes), three for --quick."""
    assert with_trials(Config(cache_dir=Path("/nowhere"))).trials == 20
    assert with_trials(Config(cache_dir=Path("/nowhere"), quick=True)).trials == 3


def test_trials_asked_for_are_kept_quick_or_not() -> None:
    """--trials wins over either default."""
    assert with_trials(Config(cache_dir=Path("/nowhere"), trials=7)).trials == 7
    assert with_trials(Config(cache_dir=Path("/nowhere"), quick=True, trials=7)).trials == 7


def test_a_run_tops_up_for_a_minute_and_a_quick_or_experiments_run_not_at_all() -> None:
    """60 s by default, none for --quick or --experiments (they judge no close verdict), and --top-up wins."""
    nowhere = Path("/nowhere")
    assert with_trials(Config(cache_dir=nowhere)).top_up_s == 60.0
    assert with_trials(Config(cache_dir=nowhere, quick=True)).top_up_s == 0.0
    assert with_trials(Config(cache_dir=nowhere, experiments=("pagination",))).top_up_s == 0.0
    assert with_trials(Config(cache_dir=nowhere, quick=True, top_up_s=15.0)).top_up_s == 15.0
    assert with_trials(Config(cache_dir=nowhere, top_up_s=0.0)).top_up_s == 0.0


def test_unknown_experiments_are_refused_in_one_line_before_any_directory_or_server(tmp_path: Path) -> None:
    """`run --experiments nope`: the registry (not config) refuses it, one line and exit 2, and nothing is made."""
    out, cache = tmp_path / "runs", tmp_path / "cache"
    proc = run_cli("run", "--experiments", "nope", "--out", str(out), "--cache-dir", str(cache), timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = proc.stderr.splitlines()
    assert line.startswith("balance-bench: error: unknown experiment 'nope'; known: pagination"), line
    assert not out.exists() and not cache.exists()


HEADLINE_TITLE = "Does the guide hold here?"
MAX_RUN_OUTPUT_LINES = 40
ANSI = re.compile(r"\x1b\[")


def _path_after(prefix: str, stdout: str) -> Path:
    """The path on the one stdout line that starts with ``prefix`` (anything after " (and " dropped)."""
    (line,) = [line for line in stdout.splitlines() if line.startswith(prefix)]
    return Path(line.removeprefix(prefix).split(" (and ")[0])


@pytest.mark.slow
@pytest.mark.services
def test_a_piped_quick_run_ends_with_the_headline_and_three_paths_in_at_most_40_lines(
        real_run_output: subprocess.CompletedProcess[str]) -> None:
    """A non-TTY `run --quick` says everything in at most 40 lines: the headline table (plain, at most 100 columns),
    then the run directory, the report and verdicts.md (itself at most 40 lines), in that order."""
    out, err = real_run_output.stdout, real_run_output.stderr
    everything = out.splitlines() + err.splitlines()
    assert len(everything) <= MAX_RUN_OUTPUT_LINES, "\n".join(everything)
    assert not ANSI.search(out + err), "colour codes in a piped run's output"
    lines = out.splitlines()
    (title,) = [i for i, line in enumerate(lines) if line.strip() == HEADLINE_TITLE]
    ends = [next(i for i, line in enumerate(lines) if line.startswith(p))
            for p in ("run directory: ", "report: ", "verdicts: ")]
    assert title < ends[0] < ends[1] < ends[2] == len(lines) - 1, out
    assert all(len(line) <= 100 for line in lines[title:ends[0]]), out
    run_dir = _path_after("run directory: ", out)
    report, verdicts_md = _path_after("report: ", out), _path_after("verdicts: ", out)
    assert run_dir.is_dir() and report == run_dir / "report.html" and report.is_file()
    assert verdicts_md == run_dir / "verdicts.md" and verdicts_md.is_file()
    assert "(and verdicts.json)" in lines[ends[2]] and (run_dir / "verdicts.json").is_file()
    assert len(verdicts_md.read_text(encoding="utf-8").splitlines()) <= MAX_RUN_OUTPUT_LINES
    (stages,) = [line for line in err.splitlines() if line.startswith("stages: ")]
    assert re.fullmatch(r"stages: datasets \d+ s, matrix \d+ s \(copies \d+ s, plans \d+ s, traffic \d+ s\), "
                        r"summary \d+ s, report \d+ s; peak memory \d+ MiB", stages), stages
