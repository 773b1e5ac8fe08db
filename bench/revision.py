"""The system under test at another git revision, importable beside the checkout's own, for an in-run A/B.

``balance-bench ab --baseline-ref REV`` times the model of revision REV and the
checkout's model in the same trials. Both must live in one process, so REV's
``balance_model`` package is extracted (``git archive``, nothing checked out,
no worktree or branch left behind) into a temporary directory and imported
under another module name, ``balance_model_<side>_<commit>``: a finder on
``sys.meta_path`` serves that name from the extracted files and rewrites their
``balance_model`` imports to it, so the revision's modules import each other
and never the checkout's. The harness (``balance_bench``) stays the
checkout's: both sides are measured by the same code, only the system under
test differs. When the block ends the modules are forgotten and the directory
is removed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from balance_bench.errors import BenchError
from balance_model.cache import BalanceCache, FillMode
from balance_model.model import BalanceModel

__all__ = ["Implementation", "CHECKOUT", "PACKAGE", "revision", "repository_of", "slowed"]

PACKAGE = "balance_model"
"""The system under test's package: the one directory of a revision that is loaded."""
_IMPORT = re.compile(rf"\b{PACKAGE}\b")


@dataclass(frozen=True)
class Implementation:
    """The system under test one side runs: its model and cache classes, and where they came from."""

    name: str  # "checkout", or "git <ref> (<commit>)"
    model: type[BalanceModel]
    cache: type[BalanceCache]
    guide_fill: Any  # that revision's ``FillMode.GUIDE``: the guide's cache design, for its cold cases

    def describe(self) -> dict[str, str]:
        return {"model": self.name}


CHECKOUT = Implementation("checkout", BalanceModel, BalanceCache, FillMode.GUIDE)
"""The model of the code that is running: the default of both sides."""


def repository_of() -> Path | None:
    """The git work tree the running ``balance_model`` belongs to, or None (an installed wheel has none)."""
    here = Path(cast(str, sys.modules[PACKAGE].__file__)).resolve().parent.parent
    found = _git(here, "rev-parse", "--show-toplevel", check=False)
    return Path(found) if found else None


def _git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        if not check:
            return ""
        message = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
        raise BenchError(f"git {args[0]} in {repo}: {message}")
    return proc.stdout.strip()


class _Loader(importlib.machinery.SourceFileLoader):
    """Compiles a revision's module with its ``balance_model`` imports pointing at the alias."""

    def __init__(self, fullname: str, path: str, alias: str) -> None:
        super().__init__(fullname, path)
        self.alias = alias

    def source_to_code(self, data: Any, path: Any, *, _optimize: int = -1) -> Any:  # type: ignore[override]
        text = importlib.util.decode_source(bytes(data))
        return compile(_IMPORT.sub(self.alias, text), path, "exec", dont_inherit=True)

    def get_code(self, fullname: str) -> Any:
        # Never the checkout's bytecode cache: the rewritten source is the module.
        return self.source_to_code(self.get_data(self.get_filename(fullname)), self.get_filename(fullname))


class _Finder(importlib.abc.MetaPathFinder):
    """Serves ``alias`` and its submodules from ``root`` (the extracted ``balance_model`` directory)."""

    def __init__(self, alias: str, root: Path) -> None:
        self.alias = alias
        self.root = root

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None,
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.alias and not fullname.startswith(f"{self.alias}."):
            return None
        parts = fullname.split(".")[1:]
        base = self.root.joinpath(*parts)
        if (base / "__init__.py").is_file():
            origin, package = base / "__init__.py", True
        elif base.with_suffix(".py").is_file():
            origin, package = base.with_suffix(".py"), False
        else:
            return None
        loader = _Loader(fullname, str(origin), self.alias)
        return importlib.util.spec_from_file_location(
            fullname, origin, loader=loader, submodule_search_locations=[str(base)] if package else None)


def _attribute(module: ModuleType, name: str, where: str) -> Any:
    if not hasattr(module, name):
        raise BenchError(f"{where} has no {name}: that revision's model cannot be timed by this harness")
    return getattr(module, name)


@contextmanager
def revision(ref: str, label: str, repo: Path | None = None) -> Iterator[Implementation]:
    """The model and cache of git revision ``ref`` of ``repo`` (default: this checkout), importable for the block.

    ``label`` keeps two sides of one A/B apart even at the same commit (each gets its own modules).
    """
    repo = repo if repo is not None else repository_of()
    if repo is None:
        raise BenchError(f"--baseline-ref {ref}: the suite is not running from a git checkout; name one with --repo")
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if not commit:
        raise BenchError(f"{ref!r} is not a commit of the repository at {repo}")
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit, PACKAGE],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise BenchError(f"revision {ref} ({commit[:12]}) has no {PACKAGE}/ to load")
    alias = f"{PACKAGE}_{label}_{commit[:12]}"
    directory = Path(tempfile.mkdtemp(prefix=f"balance-bench-{label}-"))
    finder = _Finder(alias, directory / PACKAGE)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(directory, filter="data")
        sys.meta_path.insert(0, finder)
        where = f"{PACKAGE} at {ref} ({commit[:12]})"
        try:
            model = importlib.import_module(f"{alias}.model")
            cache = importlib.import_module(f"{alias}.cache")
        except ImportError as exc:
            raise BenchError(f"{where} does not import here: {exc}") from None
        fill = _attribute(cache, "FillMode", f"{where}/cache.py")
        yield Implementation(f"git {ref} ({commit[:12]})", _attribute(model, "BalanceModel", f"{where}/model.py"),
                             _attribute(cache, "BalanceCache", f"{where}/cache.py"),
                             _attribute(fill, "GUIDE", f"{where}/cache.py FillMode"))
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == alias or n.startswith(f"{alias}.")]:
            del sys.modules[name]
        shutil.rmtree(directory, ignore_errors=True)


def slowed(implementation: Implementation, query: str, pct: float) -> Implementation:
    """``implementation`` with every ``query`` read made ``pct`` percent slower: after each such read, a busy wait
    of ``pct`` percent of the read's own time. A regression of known size, so ``ab --b-slowdown`` shows that the
    gate catches one like it on this machine (the in-run counterpart of ``aa``'s detectable figure)."""
    base = implementation.model
    factor = pct / 100.0

    class Slowed(base):  # type: ignore[valid-type,misc]  # the side's own model class, chosen at run time
        def read(self, name: str, **params: Any) -> Any:
            start = time.perf_counter()
            result = super().read(name, **params)
            if name == query:
                end = time.perf_counter()
                until = end + (end - start) * factor
                while time.perf_counter() < until:
                    pass
            return result

    return Implementation(f"{implementation.name}, {query} {pct:g}% slower", Slowed, implementation.cache,
                          implementation.guide_fill)
