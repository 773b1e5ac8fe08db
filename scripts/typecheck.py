"""Run mypy (strict, configured in pyproject.toml) on every module under its import name.

The user-facing folders bench/, fixtures/ and reports/ install as balance_bench.bench,
balance_bench.fixtures and balance_bench.reports (setuptools package-dir); the editable
install resolves them with an import hook mypy cannot follow. So this script builds a
link tree in build/typecheck that mirrors the installed layout and checks that.

Usage: python scripts/typecheck.py [extra mypy arguments]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREE = REPO / "build" / "typecheck"
MAPPED = {"bench": "bench", "fixtures": "fixtures", "reports": "reports"}


def link_tree() -> Path:
    """build/typecheck/{balance_bench (with bench, fixtures, reports inside), balance_model} as symlinks."""
    shutil.rmtree(TREE, ignore_errors=True)
    package = TREE / "balance_bench"
    package.mkdir(parents=True)
    for entry in (REPO / "balance_bench").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name, folder in MAPPED.items():
        (package / name).symlink_to(REPO / folder)
    (TREE / "balance_model").symlink_to(REPO / "balance_model")
    return TREE


def main() -> int:
    tree = link_tree()
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
               "-p", "balance_bench", "-p", "balance_model", *sys.argv[1:]]
    return subprocess.run(command, cwd=tree, env={**os.environ, "MYPYPATH": str(tree)}, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
