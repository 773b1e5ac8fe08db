"""The wheel holds every module and data file of the package folders, and its `balance-bench` runs installed.

An editable install finds any module in the checkout, so only a built wheel shows one left out of it (as
``balance_bench.commands`` once was: ``balance-bench --help`` failed with ModuleNotFoundError after
``pip install .``). scripts/check_wheel.py builds and installs it, as .ci/run does.
"""

from __future__ import annotations

import importlib.util
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

import pytest

from tests.prerequisites import missing

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "check_wheel.py"
LAYOUT = {"balance_bench": "balance_bench", "balance_model": "balance_model", "balance_bench.bench": "bench",
          "balance_bench.fixtures": "fixtures", "balance_bench.reports": "reports"}
"""The user's folders and the names they install under (pyproject.toml's package-dir may map more)."""


@pytest.fixture(scope="module")
def check_wheel() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_wheel_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _require_build_tools() -> None:
    """setuptools>=69 and wheel (pyproject.toml's build requirements, in the dev extra) in this venv."""
    try:
        major = int(version("setuptools").split(".")[0])
        version("wheel")
    except PackageNotFoundError as exc:
        missing(f"building the wheel needs {exc.name} in this venv (pip install -e '.[dev]')")
    if major < 69:
        missing(f"building the wheel needs setuptools>=69, not {version('setuptools')} (pip install -e '.[dev]')")


@pytest.mark.slow
def test_the_wheel_has_every_module_and_data_file_and_runs_installed(check_wheel: ModuleType,
                                                                      tmp_path: Path) -> None:
    """Every file of balance_bench/, balance_model/, bench/, fixtures/ and reports/ is in the wheel under its
    installed name (a schema added to reports/schemas/ too), nothing installs as a top-level bench, fixtures or
    reports, and the wheel installed (not editable) in a fresh venv answers `balance-bench --help` elsewhere."""
    _require_build_tools()
    dirs = {**check_wheel.package_dirs(REPO), **LAYOUT}
    source = check_wheel.copy_sources(tmp_path / "src", REPO)
    probe = source / dirs["balance_bench.reports"] / "schemas" / "zz-packaging-probe.schema.json"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text("{}\n", encoding="utf-8")
    wheel = check_wheel.build_wheel(source, tmp_path / "dist")

    expected = check_wheel.expected_files(source, dirs)
    for name in ("balance_bench/cli.py", "balance_bench/commands/__init__.py", "balance_bench/commands/run.py",
                 "balance_bench/bench/experiments/__init__.py", "balance_bench/bench/load/__init__.py",
                 "balance_bench/fixtures/alembic/env.py", "balance_bench/fixtures/alembic/script.py.mako",
                 "balance_bench/reports/templates/report.html.j2", "balance_bench/reports/schemas/" + probe.name,
                 "balance_model/migrations/m012_balance_indexes.py"):
        assert name in expected, name  # the walk below is not vacuous
    files = check_wheel.wheel_files(wheel)
    absent = sorted(expected - files)
    assert not absent, (f"{wheel.name} lacks files of the package folders (a folder of modules without an "
                        f"__init__.py, or data no package-data glob in pyproject.toml names?): {absent}")
    top_level = {name.split("/")[0] for name in files if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"balance_bench", "balance_model"}, top_level

    venv = check_wheel.fresh_venv(tmp_path / "venv")
    check_wheel.install(wheel, venv)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "tmp").mkdir(parents=True)
    env = check_wheel.user_env(elsewhere / "tmp")
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import balance_bench.cli as m; print(m.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=False)
    assert where.returncode == 0 and Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    proc = subprocess.run([str(venv / "bin" / "balance-bench"), "--help"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "usage: balance-bench" in proc.stdout
