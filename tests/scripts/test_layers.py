"""scripts/layers.py: the import cycles it lists, the modules no layer names, the scripts importing the test suite, and
the repository as it is (no cycle, every module layered, import-linter's contracts kept)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import grimp
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "layers.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))  # it imports its neighbour typecheck.py
    spec = importlib.util.spec_from_file_location("layers_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    return graph


def test_a_loop_is_listed_once_from_its_smallest_module_and_a_chain_is_not_a_loop(script: ModuleType) -> None:
    """a -> b -> c -> a is one cycle however many of its imports lead into it; d -> a is not part of it."""
    graph = _graph(("p.b", "p.c"), ("p.c", "p.a"), ("p.a", "p.b"), ("p.d", "p.a"))
    assert script.cycles(graph) == [("p.a", "p.b", "p.c")]
    assert script.cycles(_graph(("p.a", "p.b"), ("p.b", "p.c"), ("p.d", "p.c"))) == []


def test_two_loops_through_one_module_are_both_listed_shortest_first(script: ModuleType) -> None:
    """A two-module loop and a three-module loop sharing a module are two cycles."""
    graph = _graph(("p.a", "p.b"), ("p.b", "p.a"), ("p.a", "p.c"), ("p.c", "p.d"), ("p.d", "p.a"))
    assert script.cycles(graph) == [("p.a", "p.b"), ("p.a", "p.c", "p.d")]


def test_a_module_in_no_named_layer_is_reported_and_one_inside_a_layer_is_not(script: ModuleType) -> None:
    """A layer covers its submodules; a new core module that the contract does not name is found; balance_model and
    the package itself are outside the check."""
    named = {"balance_bench.bench", "balance_bench.config"}
    modules = ["balance_bench", "balance_bench.bench.world", "balance_bench.config", "balance_bench.new_core",
               "balance_model.model"]
    assert script.unlayered(modules, named) == ["balance_bench.new_core"]


def test_every_name_of_the_layers_contract_is_read_from_pyproject(script: ModuleType, tmp_path: Path) -> None:
    """Independent (|) and non-independent (:) siblings are split into their modules."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.importlinter]\nroot_packages = ["a"]\n[[tool.importlinter.contracts]]\nid = "x"\n'
                         'name = "x"\ntype = "forbidden"\n[[tool.importlinter.contracts]]\nid = "l"\nname = "l"\n'
                         'type = "layers"\nlayers = ["a.top", "a.b | a.c", "a.d : a.e"]\n', encoding="utf-8")
    assert script.layered_names(pyproject) == {"a.top", "a.b", "a.c", "a.d", "a.e"}


def test_a_script_importing_the_test_suite_is_found_and_a_relative_or_lookalike_import_is_not(
        script: ModuleType, tmp_path: Path) -> None:
    """``import tests.x`` and ``from tests import y`` are found, in functions too; ``testsuite`` and ``.tests`` are
    not the suite."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\ndef f():\n    from tests.bench import proxy\nimport tests\n", encoding="utf-8")
    good = tmp_path / "good.py"
    good.write_text("import testsuite\nfrom . import tests\nfrom .tests import x\n", encoding="utf-8")
    assert sorted(script.suite_imports([good, bad])) == ["bad.py: tests", "bad.py: tests.bench"]


@pytest.mark.slow
def test_the_repository_keeps_its_layers_and_has_no_cycle() -> None:
    """The real check, as CI runs it: import-linter's contracts kept, no cycle, every module layered, no script
    importing the tests."""
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 import cycle(s)" in result.stdout and "BROKEN" not in result.stdout
