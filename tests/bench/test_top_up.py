"""A top-up session on real servers: only its cases, in trials after the run's, into its own file, merged by trial."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from balance_bench.bench.summary import summarise
from balance_bench.bench.top_up import TopUp
from balance_bench.config import Config
from balance_bench.fixtures.services import Endpoints
from balance_bench.results import BENCHMARKS_FILE, PLANS_DIR, read_summary, top_up_file
from tests.conftest import REPO

pytestmark = [pytest.mark.services, pytest.mark.slow]

CHOSEN = ("tiny-with_012-find_by_user_id-cold-optimized-whale", "tiny-with_012-find_by_user_id-warm-optimized-whale")

_SESSION = """
import sys
from pathlib import Path
from balance_bench.bench.runner import run_matrix
from balance_bench.bench.top_up import TopUp
from balance_bench.config import Config
from balance_bench.fixtures.datasets import ensure_dataset
from balance_bench.fixtures.services import running_services
from balance_bench.scales import get_scale

run_dir, dsn, redis_url, prefix, cache_dir, cases = sys.argv[1:]
tiny = get_scale("tiny")
config = Config(dsn=dsn, redis_url=redis_url, redis_prefix=prefix, scales=(tiny,), quick=True, trials=3,
                cache_dir=Path(cache_dir))
with running_services(config) as endpoints:
    datasets = {"tiny": ensure_dataset(endpoints, tiny, config.seed)}
    sys.exit(run_matrix(config, endpoints, datasets, Path(run_dir),
                        top_up=(1, TopUp(frozenset(cases.split(",")), 4, 3))))
"""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_top_up_adds_trials_to_its_cases_only_and_leaves_the_runs_files_alone(
        real_run_dir: Path, tmp_path: Path, endpoints: Endpoints, bench_config: Config) -> None:
    """Trials 4-6 of cold and warm (whale) join the quick run's 1-3 of those two cases and no other; the run's
    benchmarks.json and plan files are byte for byte as they were, and the design records the top-up."""
    run = tmp_path / "run"
    shutil.copytree(real_run_dir, run)
    before = {p.name: _digest(p) for p in [run / BENCHMARKS_FILE, *(run / PLANS_DIR).iterdir()]}
    prefix = endpoints.redis_prefix or "balance-bench-test:"
    proc = subprocess.run([sys.executable, "-c", _SESSION, str(run), endpoints.pg_url, endpoints.redis_url, prefix,
                           str(bench_config.cache_dir), ",".join(CHOSEN)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (run / top_up_file(1)).is_file()
    assert {p.name: _digest(p) for p in [run / BENCHMARKS_FILE, *(run / PLANS_DIR).iterdir()]} == before
    summary = read_summary(summarise(run))
    trials = {c.coords.id: sorted(c.trial_medians_ms) for c in summary.cases}
    assert all(trials[case] == [1, 2, 3, 4, 5, 6] for case in CHOSEN)
    assert all(t == [1, 2, 3] for case, t in trials.items() if case not in CHOSEN)
    assert [(t.first_trial, t.trials, t.cases) for t in summary.design.top_ups] == [(4, 3, 2)]
    assert TopUp(frozenset(CHOSEN), 4, 3).describe()["cases"] == sorted(CHOSEN)
