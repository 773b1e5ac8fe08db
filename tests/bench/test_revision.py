"""Another git revision's model beside the checkout's: its own code, its own modules, gone after the block."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import balance_bench.bench.revision as revision_module
from balance_bench.bench.revision import CHECKOUT, PACKAGE, Implementation, revision, slowed
from balance_bench.errors import BenchError
from tests.conftest import REPO

MARKER = '\nREVISION_MARKER = "the second commit"\n'


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A repository with the checkout's model (first), the same plus a marker (second), and a model whose
    BalanceModel is gone (broken)."""
    path = tmp_path_factory.mktemp("repo")
    _git(path, "init", "-q")
    shutil.copytree(REPO / PACKAGE, path / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    _git(path, "add", ".")
    _git(path, "commit", "-q", "-m", "first")
    _git(path, "tag", "first")
    model = path / PACKAGE / "model.py"
    model.write_text(model.read_text() + MARKER)
    _git(path, "commit", "-q", "-am", "second")
    _git(path, "tag", "second")
    model.write_text(model.read_text().replace("class BalanceModel", "class RenamedModel"))
    _git(path, "commit", "-q", "-am", "broken")
    _git(path, "tag", "broken")
    yield path


def test_a_revision_runs_its_own_code_under_its_own_module_names(repo: Path) -> None:
    """The second commit's marker is in the loaded model and not in the checkout's; the revision's modules import
    each other (its cache's codec is its own), never the checkout's."""
    commit = _git(repo, "rev-parse", "second")
    with revision("second", "b", repo) as impl:
        alias = f"{PACKAGE}_b_{commit[:12]}"
        assert impl.model.__module__ == f"{alias}.model"
        assert sys.modules[f"{alias}.model"].REVISION_MARKER == "the second commit"
        assert sys.modules[f"{alias}.cache"].Codec.__module__ == f"{alias}.codec"
        assert impl.cache is not CHECKOUT.cache and impl.guide_fill.value == "guide"
        assert impl.name == f"git second ({commit[:12]})"
        assert not hasattr(sys.modules[f"{PACKAGE}.model"], "REVISION_MARKER")


def test_after_the_block_nothing_of_the_revision_remains(repo: Path) -> None:
    """Its modules are forgotten, its finder is off sys.meta_path and its extracted files are removed."""
    finders = list(sys.meta_path)
    with revision("first", "a", repo) as impl:
        folder = Path(sys.modules[impl.model.__module__].__file__ or "").parent.parent
        alias = impl.model.__module__.rsplit(".", 1)[0]
        assert folder.is_dir()
    assert not [name for name in sys.modules if name.startswith(alias)]
    assert sys.meta_path == finders
    assert not folder.exists()


def test_two_sides_at_one_commit_get_separate_modules(repo: Path) -> None:
    with revision("first", "a", repo) as a, revision("first", "b", repo) as b:
        assert a.model is not b.model and a.model.__module__ != b.model.__module__


@pytest.mark.parametrize(("ref", "expected"), [
    ("no-such-ref", "'no-such-ref' is not a commit of the repository"),
    ("broken", "has no BalanceModel"),
])
def test_a_ref_that_is_no_commit_or_has_no_usable_model_is_one_line(repo: Path, ref: str, expected: str) -> None:
    with pytest.raises(BenchError, match=expected), revision(ref, "a", repo):
        pass
    assert not [name for name in sys.modules if name.startswith(f"{PACKAGE}_a_")]


def test_a_revision_without_the_model_package_is_refused(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("no model here\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "empty")
    with pytest.raises(BenchError, match=f"has no {PACKAGE}/ to load"), revision("HEAD", "a", tmp_path):
        pass


class _Clock:
    """A clock that ticks once per reading; a read of the fake model takes 100 ticks."""

    def __init__(self) -> None:
        self.now = 0.0
        self.readings = 0

    def perf_counter(self) -> float:
        self.now += 1.0
        self.readings += 1
        return self.now


def test_a_slowed_read_waits_its_share_of_its_own_time_and_other_reads_do_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """20% of a 101-tick read is about 20 more ticks of busy wait; a read of another query waits none."""
    clock = _Clock()
    monkeypatch.setattr(revision_module, "time", clock)

    class Model:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def read(self, name: str, **params: Any) -> str:
            clock.now += 100.0
            return f"{name} {params}"

    base = Implementation("fake", Model, CHECKOUT.cache, CHECKOUT.guide_fill)  # type: ignore[arg-type]
    model = slowed(base, "find_by_id", 20.0).model(None)  # type: ignore[call-arg]
    before = clock.readings
    assert model.read("find_by_id", id=1) == "find_by_id {'id': 1}"
    waited = clock.readings - before - 2  # the start and end readings
    assert 19 <= waited <= 22
    before = clock.readings
    model.read("find_by_address", address="x")
    assert clock.readings - before == 1  # the start reading only: no wait
    assert slowed(base, "find_by_id", 20.0).name == "fake, find_by_id 20% slower"
