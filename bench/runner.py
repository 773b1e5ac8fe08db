"""The matrix through pytest: the same cases as ``pytest bench/``, handed an already-validated Config and services.

``run_matrix`` only chooses pytest's arguments and the run directory; the
cases, trials and artifacts are the ``bench`` conftest's business. A server
lost mid-run (``outage``) becomes one BenchError line naming it, the case and
where the partial results are. pytest's own terminal output is muted for
this session: ``progress`` shows the trials and reports failures instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from balance_bench.bench.outage import outage_of
from balance_bench.bench.progress import matrix_progress
from balance_bench.bench.sides import ABRun
from balance_bench.bench.top_up import TopUp
from balance_bench.config import Config
from balance_bench.errors import BenchError
from balance_bench.fixtures.datasets import Dataset
from balance_bench.fixtures.plugin import Preset
from balance_bench.fixtures.services import Endpoints
from balance_bench.results import BENCHMARKS_FILE, top_up_file

__all__ = ["run_matrix"]

BENCH_DIR = Path(__file__).resolve().parent


def run_matrix(config: Config, endpoints: Endpoints, datasets: dict[str, Dataset], run_dir: Path,
               extra_args: list[str] | None = None, top_up: tuple[int, TopUp] | None = None,
               ab: ABRun | None = None) -> int:
    """Run the matrix into ``run_dir`` on the prepared ``datasets`` (by scale name); returns pytest's exit code.

    ``top_up`` = ``(n, TopUp)``: instead, the run's ``n``-th top-up session, into its own benchmark file.
    ``ab``: an in-run A/B instead (``sides``): each side's results in ``run_dir/a`` and ``run_dir/b``.
    """
    benchmarks = run_dir / (top_up_file(top_up[0]) if top_up else BENCHMARKS_FILE)
    argv = [
        str(BENCH_DIR),
        "-p", "balance_bench.fixtures.plugin",
        "--rootdir", str(BENCH_DIR.parent),
        "--run-dir", str(run_dir),
        "--benchmark-only",
        "--benchmark-json", str(benchmarks),
        "--benchmark-quiet",  # the per-item table would list every case once per trial; the report has it all
        "-q", "--no-header", "-p", "no:warnings",
        "--tb=short",  # the failure text MatrixProgress prints as it happens
        *(extra_args or []),
    ]
    session = _Session()
    plugins: list[object] = [Preset(config, endpoints, datasets), session, matrix_progress()]
    if top_up is not None:
        plugins.append(top_up[1])
    if ab is not None:
        plugins.append(ab)
    code = int(pytest.main(argv, plugins=plugins))
    outage = outage_of(session.config) if session.config is not None else None
    if outage is not None:
        where = (f"partial results in {run_dir}" if benchmarks.exists()
                 else "no case was measured")
        raise BenchError(f"{outage}; {where}")
    return code


class _Session:
    """Keeps pytest's config, whose stash holds the run's outage after ``pytest.main`` returns."""

    config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config
