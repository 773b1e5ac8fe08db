"""The package list, derived: every folder with an ``__init__.py`` under a ``[tool.setuptools.package-dir]`` folder.

Everything else about the build is in pyproject.toml. Its package-dir names each importable top-level
package and the folder it comes from (bench/, fixtures/ and reports/ install as ``balance_bench.bench``,
``balance_bench.fixtures`` and ``balance_bench.reports``); setuptools cannot find packages under such a
mapped name by itself (``packages.find`` names them after their folders), so the list a wheel contains
is derived here instead of being written out by hand, where a new subpackage was once left out of it.
scripts/typecheck.py and scripts/mutation.py read the same package-dir.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def package_dirs(root: Path = HERE) -> dict[str, str]:
    """pyproject.toml's ``[tool.setuptools.package-dir]``: import name -> folder (relative to the repository)."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data["tool"]["setuptools"]["package-dir"])


def packages(root: Path = HERE) -> list[str]:
    """Each mapped package and every package folder under it, by import name."""
    dirs = package_dirs(root)
    found = set(dirs)
    for name, folder in dirs.items():
        found.update(f"{name}.{sub}" for sub in find_packages(str(root / folder)))
    return sorted(found)


if __name__ == "__main__":  # setuptools runs this file as __main__; importing it only reads the layout
    setup(packages=packages())
