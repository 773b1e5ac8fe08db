"""The analyst notebooks: they run top to bottom against a real run, and are committed clean and current."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.prerequisites import missing

try:
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
except ImportError as exc:  # the dev extra brings them
    missing(f"the notebook tests need nbformat and nbclient ({exc.name} is missing: pip install -e '.[dev]')")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ("explore_results.ipynb", "plan_analysis.ipynb")
CELL_TIMEOUT = 120  # seconds; a whole notebook takes a few


def _kernel_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """This environment without the user's BALANCE_BENCH_* settings, plus ``settings``.

    ``python3`` is the venv's own kernelspec (argv ``python -m ipykernel_launcher``); jupyter_client
    replaces a bare ``python`` with this interpreter, and PATH starts with its folder besides, so the
    kernel imports the same balance_bench as the tests. TMPDIR keeps the notebook's exports in tmp_path.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_BENCH_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["TMPDIR"] = str(tmp_path)
    env.update(settings)
    return env


def _execute(name: str, env: dict[str, str]) -> nbformat.NotebookNode:
    """Run the committed notebook in a fresh kernel, from notebooks/ as Jupyter would; raise on any cell error."""
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    try:
        client.execute(env=env)
    except NoSuchKernel:
        missing("the notebook tests need a python3 Jupyter kernel (pip install ipykernel, in the dev extra)")
    return nb


def _printed(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOKS_DIR / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("name, with_baseline", [
    ("explore_results.ipynb", True),
    ("explore_results.ipynb", False),
    ("plan_analysis.ipynb", False),
], ids=["explore-with-baseline", "explore-alone", "plan-analysis"])
def test_notebook_runs_top_to_bottom(name: str, with_baseline: bool, real_run_dir: Path, tmp_path: Path) -> None:
    """Each notebook executes unattended against a real quick run, in a kernel on this interpreter."""
    run_dir = tmp_path / "runs" / real_run_dir.name  # alone in its folder, so no baseline is found by default
    shutil.copytree(real_run_dir, run_dir)
    settings = {"BALANCE_BENCH_RUN_DIR": str(run_dir)}
    if with_baseline:
        settings["BALANCE_BENCH_BASELINE_DIR"] = str(real_run_dir)
    printed = _printed(_execute(name, _kernel_env(tmp_path, **settings)))
    assert f"python: {sys.executable}\n" in printed
    assert f"run:    {run_dir}\n" in printed
    if name == "explore_results.ipynb":
        assert ("cases in both runs" in printed) is with_baseline
        assert ("No baseline run" in printed) is not with_baseline


def test_committed_notebooks_carry_no_outputs() -> None:
    """Committed notebooks have no outputs, execution counts or editor metadata, only a python3 kernelspec."""
    problems = []
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.outputs:
                problems.append(f"{name} cell {cell.id}: has outputs")
            if cell.cell_type == "code" and cell.execution_count is not None:
                problems.append(f"{name} cell {cell.id}: has an execution count")
            if set(cell.metadata) - {"tags"}:
                problems.append(f"{name} cell {cell.id}: metadata {sorted(set(cell.metadata) - {'tags'})}")
        if dict(nb.metadata) != {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}:
            problems.append(f"{name}: notebook metadata {sorted(nb.metadata)} (only a python3 kernelspec belongs)")
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        if first_code.metadata.get("tags") != ["parameters"]:
            problems.append(f"{name}: the first code cell is not tagged `parameters`")
    assert not problems, "strip the notebooks (`python notebooks/build_notebooks.py`):\n" + "\n".join(problems)


def test_committed_notebooks_match_their_generator() -> None:
    """The committed notebooks are what notebooks/build_notebooks.py writes (edit the script, not the .ipynb)."""
    builder = _builder()
    assert sorted(builder.NOTEBOOKS) == sorted(NAMES)
    for name, build in builder.NOTEBOOKS.items():
        committed = (NOTEBOOKS_DIR / name).read_text(encoding="utf-8")
        assert committed == builder.render(build()), f"{name} is stale: run `python notebooks/build_notebooks.py`"
