"""The analyst notebooks: they run top to bottom against a real run, and are committed clean and current."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from balance_bench.results import VERDICTS_FILE
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
HEADLINE_MAX_COLUMNS = 7  # the explore notebook's first table must stay readable


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


class _Tables(HTMLParser):
    """The tables pandas writes as HTML (``DataFrame._repr_html_``): per table, its column names and its rows.

    A row is ``(index cells, data cells)``: pandas writes the index as ``<th>`` and the values as ``<td>``. The
    column names are the last header cells of the first header row (a named index adds a second header row).
    """

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[tuple[list[str], list[str]]]]] = []
        self._section = ""
        self._row: list[tuple[str, str]] | None = None
        self._cell: list[str] | None = None
        self._header_rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._header_rows = []
            self.tables.append(([], []))
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._row is not None and self._cell is not None:
            self._row.append((tag, "".join(self._cell).strip()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._section == "thead":
                self._header_rows.append([text for _, text in self._row])
            else:
                rows = self.tables[-1][1]
                rows.append(([t for k, t in self._row if k == "th"], [t for k, t in self._row if k == "td"]))
            self._row = None
        elif tag == "table":
            columns, rows = self.tables[-1]
            width = len(rows[0][1]) if rows else 0
            columns.extend(self._header_rows[0][-width:] if self._header_rows and width else [])


def _first_table(nb: nbformat.NotebookNode) -> tuple[list[str], list[dict[str, str]]]:
    """The first DataFrame the executed notebook shows, as its column names and one dict per row (``index``: the
    row's index cells joined by ``/``)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            html = output.get("data", {}).get("text/html")
            if html and "dataframe" in html:
                parser = _Tables()
                parser.feed(html)
                columns, rows = parser.tables[0]
                return columns, [{"index": "/".join(index), **dict(zip(columns, cells, strict=True))}
                                 for index, cells in rows]
    raise AssertionError("the notebook shows no DataFrame")


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOKS_DIR / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy_alone(real_run_dir: Path, tmp_path: Path) -> Path:
    """A copy of the real run, alone in its folder, so no baseline is found by default."""
    run_dir = tmp_path / "runs" / real_run_dir.name
    shutil.copytree(real_run_dir, run_dir)
    return run_dir


def _assert_ran(nb: nbformat.NotebookNode, name: str, run_dir: Path, with_baseline: bool) -> None:
    printed = _printed(nb)
    assert f"python: {sys.executable}\n" in printed
    assert f"run:    {run_dir}\n" in printed
    if name == "explore_results.ipynb":
        assert ("cases in both runs" in printed) is with_baseline
        assert ("No baseline run" in printed) is not with_baseline


@pytest.fixture(scope="module")
def explore_alone(real_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, nbformat.NotebookNode]:
    """The explore notebook executed once against a copy of the real run with no baseline: the run's folder, and
    the executed notebook (two tests read it, so it runs once)."""
    tmp_path = tmp_path_factory.mktemp("explore-alone")
    run_dir = _copy_alone(real_run_dir, tmp_path)
    return run_dir, _execute("explore_results.ipynb", _kernel_env(tmp_path, BALANCE_BENCH_RUN_DIR=str(run_dir)))


@pytest.mark.slow
@pytest.mark.parametrize("name, with_baseline", [
    ("explore_results.ipynb", True),
    ("plan_analysis.ipynb", False),
], ids=["explore-with-baseline", "plan-analysis"])
def test_notebook_runs_top_to_bottom(name: str, with_baseline: bool, real_run_dir: Path, tmp_path: Path) -> None:
    """Each notebook executes unattended against a real quick run, in a kernel on this interpreter."""
    run_dir = _copy_alone(real_run_dir, tmp_path)
    settings = {"BALANCE_BENCH_RUN_DIR": str(run_dir)}
    if with_baseline:
        settings["BALANCE_BENCH_BASELINE_DIR"] = str(real_run_dir)
    _assert_ran(_execute(name, _kernel_env(tmp_path, **settings)), name, run_dir, with_baseline)


@pytest.mark.slow
def test_explore_runs_top_to_bottom_without_a_baseline(explore_alone: tuple[Path, nbformat.NotebookNode]) -> None:
    """Without a baseline the explore notebook says so and skips the comparison."""
    run_dir, nb = explore_alone
    _assert_ran(nb, "explore_results.ipynb", run_dir, with_baseline=False)


@pytest.mark.slow
def test_explore_leads_with_the_headline_of_verdicts_json(explore_alone: tuple[Path, nbformat.NotebookNode]) -> None:
    """The explore notebook's first table is the report's headline, at most 7 columns wide, from the same judging
    step as the run's verdicts.json: the same claims, in order, with the same labels and the same sentences."""
    run_dir, nb = explore_alone
    columns, rows = _first_table(nb)
    assert "label" in columns, f"the first table is not a verdict table: {columns}"
    assert len(columns) <= HEADLINE_MAX_COLUMNS, f"{len(columns)} columns: {columns}"
    document = json.loads((run_dir / VERDICTS_FILE).read_text(encoding="utf-8"))
    written = [(v["coordinates"]["scale"], v["title"], v["label"], v["why"])
               for v in document["verdicts"] if v["headline"]]
    shown = [(row["index"], row["title"], row["label"], row["why"]) for row in rows]
    assert written, "the run's verdicts.json has no headline row"
    assert shown == written


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
