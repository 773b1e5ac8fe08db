"""Check the import layering: import-linter's contracts (pyproject.toml), then every import cycle, printed.

The layers are written down once, as import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``), and
docs/architecture.md draws them. import-linter finds a module's imports wherever they are written, inside functions
too, so a function-level import cannot hide a dependency on a layer above. A contract does not see a cycle inside one
layer, so this script also lists every cycle among the package's modules: it must print none.

The folders bench/, fixtures/ and reports/ install as ``balance_bench.bench`` and so on; the editable install
resolves them with an import hook the analysis cannot follow, so this runs on a link tree like the one
``scripts/typecheck.py`` builds (the installed layout, read from pyproject.toml's package-dir), in build/layers.

It also fails on a module of ``balance_bench`` that no layer names, and on a script importing the test suite.

Usage: python scripts/layers.py [--cycles-only]. Exit status 1 when anything above is found.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ is not a package
import grimp
from typecheck import REPO, link_tree, package_dirs


def top_level(dirs: dict[str, str]) -> list[str]:
    return sorted({name.split(".")[0] for name in dirs})


def cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Every distinct import cycle: for each direct import a -> b, the shortest chain back from b to a, if any.

    A cycle is reported once, rotated to start at its smallest module, so two imports of one loop do not list it
    twice.
    """
    found: set[tuple[str, ...]] = set()
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is None:
                continue
            loop = (module, *back[:-1])
            start = loop.index(min(loop))
            found.add(loop[start:] + loop[:start])
    return sorted(found, key=lambda c: (len(c), c))


def layered_names(pyproject: Path = REPO / "pyproject.toml") -> set[str]:
    """Every module the layers contract names (its layers split at ``|`` and ``:``)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    (contract,) = (c for c in data["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return {name.strip() for layer in contract["layers"] for name in re.split(r"[|:]", layer)}


def unlayered(modules: Iterable[str], named: set[str]) -> list[str]:
    """The package's modules in no layer: a contract checks only the layers it names, so a new core module that is
    not listed would escape it. Each module must be a named layer or inside one."""
    def covered(module: str) -> bool:
        parts = module.split(".")
        return any(".".join(parts[:i]) in named for i in range(1, len(parts) + 1))
    return sorted(m for m in modules if m.startswith("balance_bench.") and not covered(m))


def suite_imports(paths: Iterable[Path]) -> list[str]:
    """``file: module`` for each import of the test suite (``tests``) in these files: scripts are run by users and
    CI, and a test module is no library (import-linter sees only the packages, so the scripts are read here)."""
    found = []
    for path in sorted(paths):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{path.name}: {n}" for n in names if n == "tests" or n.startswith("tests.")]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles-only", action="store_true", help="list the cycles, skip import-linter's contracts")
    args = parser.parse_args(argv)
    dirs = package_dirs()
    tree = link_tree(dirs, REPO / "build" / "layers")
    status = 0
    if not args.cycles_only:
        lint = Path(sys.executable).with_name("lint-imports")
        status = subprocess.run([str(lint), "--config", str(REPO / "pyproject.toml"), "--no-cache"], cwd=tree,
                                env={**os.environ, "PYTHONPATH": str(tree)}, check=False).returncode
    sys.path.insert(0, str(tree))
    graph = grimp.build_graph(*top_level(dirs), cache_dir=None)
    loops = cycles(graph)
    for loop in loops:
        print("import cycle: " + " -> ".join((*loop, loop[0])))
    print(f"{len(loops)} import cycle(s) among {len(graph.modules)} modules (imports inside functions included)")
    stray = unlayered(graph.modules, layered_names())
    for module in stray:
        print(f"in no layer: {module} (name it in pyproject.toml's layers contract)")
    scripts = suite_imports((REPO / "scripts").glob("*.py"))
    for line in scripts:
        print(f"a script imports the test suite: {line}")
    return 1 if loops or status or stray or scripts else 0


if __name__ == "__main__":
    sys.exit(main())
