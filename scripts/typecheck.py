"""Run mypy (strict, configured in pyproject.toml) on every module under its import name.

The user-facing folders bench/, fixtures/ and reports/ install as balance_bench.bench,
balance_bench.fixtures and balance_bench.reports (setuptools package-dir); the editable
install resolves them with an import hook mypy cannot follow. So this script builds a
link tree in build/typecheck that mirrors the installed layout and checks that. The
layout is read from pyproject.toml's [tool.setuptools.package-dir], as setup.py reads it.

Usage: python scripts/typecheck.py [extra mypy arguments]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREE = REPO / "build" / "typecheck"


def package_dirs() -> dict[str, str]:
    """Import name -> repository folder, from pyproject.toml's [tool.setuptools.package-dir]."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data["tool"]["setuptools"]["package-dir"])


def link_tree(dirs: dict[str, str], tree: Path = TREE) -> Path:
    """``tree`` (build/typecheck) laid out as installed: each package a link to its folder, or, when mapped packages
    go inside it (balance_bench: bench, fixtures, reports), a real folder of links to its folder's entries. Each
    user of a tree has its own (CI runs this and scripts/layers.py at once)."""
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    for name, folder in sorted(dirs.items()):  # a package before the packages mapped into it
        target = tree.joinpath(*name.split("."))
        if any(other.startswith(f"{name}.") for other in dirs):
            target.mkdir(parents=True, exist_ok=True)
            for entry in (REPO / folder).iterdir():
                if entry.name != "__pycache__":
                    (target / entry.name).symlink_to(entry)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(REPO / folder)
    return tree


def main() -> int:
    dirs = package_dirs()
    tree = link_tree(dirs)
    top_level = sorted({name.split(".")[0] for name in dirs})
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
               *(arg for name in top_level for arg in ("-p", name)), *sys.argv[1:]]
    return subprocess.run(command, cwd=tree, env={**os.environ, "MYPYPATH": str(tree)}, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
