"""The mutation-testing gate: survivors are matched to documented equivalents, and the score counts the rest."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutation.py"


@pytest.fixture(scope="module")
def mutation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


DIFF = """--- balance_bench/reports/analyse.py
+++ balance_bench/reports/analyse.py
@@ -1,3 +1,3 @@
 def _rows(value):
-    return f"{value:,.0f}" if value  |  x else "-"
+    return f"{value:,.0f}" if value  |  x else "XX-XX"
"""


def test_a_documented_survivor_is_equivalent_and_the_rest_count_against_the_score(mutation: ModuleType,
                                                                                  tmp_path: Path) -> None:
    """A row written by table_row reads back (pipes included) and excuses that survivor only; stale rows show."""
    change = mutation.change_of(DIFF)
    assert change == 'return f"{value:,.0f}" if value | x else "-" -> return f"{value:,.0f}" if value | x else "XX-XX"'
    survivor = mutation.Mutant("pkg.mod.x__rows__mutmut_7", "survived", change)
    renumbered = mutation.Mutant("pkg.mod.x__rows__mutmut_9", "survived", change)
    other = mutation.Mutant("pkg.mod.x__rows__mutmut_8", "no tests", "a -> b")
    killed = [mutation.Mutant(f"pkg.mod.x_f__mutmut_{i}", status) for i, status in
              enumerate(["killed"] * 6 + ["timeout"])]
    table = tmp_path / "equivalent.md"
    table.write_text("| mutant | change | why |\n|---|---|---|\n" + mutation.table_row(survivor, "same | output") + "\n"
                     + "| `pkg.mod.x_gone__mutmut_1` | `old -> new` | was removed |\n", encoding="utf-8")
    (row, gone) = mutation.load_equivalents(table)
    assert (row.name, row.change, row.reason) == (survivor.name, change, "same | output")
    modules, stale = mutation.score([*killed, renumbered, other], [row, gone])
    tally = modules["pkg.mod"]
    assert (tally.total, tally.killed, tally.equivalent, tally.survived) == (9, 7, 1, [other])
    assert tally.score == pytest.approx(100 * 7 / 8)
    assert stale == [gone]


def test_a_module_is_staged_where_it_is_installed(mutation: ModuleType) -> None:
    """Folders mapped by package-dir land under their import name; the core packages stay where they are."""
    dirs = mutation.load_settings().package_dirs
    assert mutation.staged_path("reports/verdicts.py", dirs) == "balance_bench/reports/verdicts.py"
    assert mutation.staged_path("balance_bench/plans/analysis.py", dirs) == "balance_bench/plans/analysis.py"
    assert mutation.staged_path("fixtures/databases.py", dirs) == "balance_bench/fixtures/databases.py"
    assert mutation.staged_path("balance_bench/errors.py", dirs) == "balance_bench/errors.py"
    assert mutation.staged_path("balance_model/cache.py", dirs) == "balance_model/cache.py"
    assert all((SCRIPT.parents[1] / folder).is_dir() for folder in dirs.values()), dirs
    with pytest.raises(SystemExit):
        mutation.staged_path("scripts/mutation.py", dirs)


def test_every_scope_names_existing_modules_and_tests(mutation: ModuleType) -> None:
    """A typo in pyproject.toml's scopes would make mutmut mutate or run nothing: every path exists."""
    settings = mutation.load_settings()
    repo = SCRIPT.parents[1]
    assert any(scope.ci for scope in settings.scopes.values())
    for scope in settings.scopes.values():
        assert scope.modules and scope.tests, scope.name
        for path in (*scope.modules, *scope.tests):
            assert (repo / path).exists(), f"{scope.name}: {path}"
    assert 0 < settings.minimum_score <= 100 and settings.equivalents.exists()


def test_a_sample_pattern_picks_the_mutants_numbered_by_its_digit(mutation: ModuleType) -> None:
    """The pattern mutmut is given matches ...3, ...13, ...23 of any (narrowed) function, nothing else."""
    import fnmatch

    names = [f"balance_bench.plans.analysis.x__spilled__mutmut_{n}" for n in (3, 13, 23, 30, 31, 4)]
    (every,) = mutation.mutant_patterns((), 3)
    assert [n for n in names if fnmatch.fnmatchcase(n, every)] == names[:3]
    (narrowed,) = mutation.mutant_patterns(("balance_bench.plans.analysis.x__spilled__mutmut_*",), 3)
    assert [n for n in names if fnmatch.fnmatchcase(n, narrowed)] == names[:3]
    assert not fnmatch.fnmatchcase("balance_bench.plans.analysis.x_other__mutmut_3", narrowed)
    assert mutation.mutant_patterns(("a.*", "b.*"), None) == ["a.*", "b.*"] and mutation.mutant_patterns((), None) == []
    for wrong in (-1, 10):
        with pytest.raises(SystemExit):
            mutation.mutant_patterns((), wrong)


def test_the_sample_digit_comes_from_the_commit_under_test(mutation: ModuleType, tmp_path: Path) -> None:
    """Inside a checkout the digit is HEAD's hash (as git prints it) modulo 10; outside a checkout, 1."""
    import subprocess

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=SCRIPT.parents[1], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert mutation.commit_digit() == int(head, 16) % 10
    assert mutation.commit_digit(tmp_path) == 1


def test_ci_modes_read_from_pyproject(mutation: ModuleType) -> None:
    """true runs a scope whole in CI, "sample" a tenth, false or nothing keeps it out; anything else is refused."""
    assert [mutation._ci_mode(v) for v in (True, "sample", False, None)] == ["all", "sample", "", ""]
    with pytest.raises(SystemExit):
        mutation._ci_mode("yes")
    scopes = mutation.load_settings().scopes
    assert scopes["judge"].ci == "all" and {scopes[n].ci for n in ("records", "analyser", "parser")} == {"sample"}
    assert not any(scopes[n].ci for n in ("ownership", "doctor", "cache"))


def test_a_sampled_module_reports_no_stale_equivalents(mutation: ModuleType, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Rows of unsampled mutants are not stale in a sampled run, and still are in a whole one."""
    table = tmp_path / "equivalent.md"
    table.write_text("| `pkg.mod.x_f__mutmut_1` | `a -> b` | same |\n", encoding="utf-8")
    settings = mutation.Settings(90.0, table, {}, {})
    killed = [mutation.Mutant("pkg.mod.x_f__mutmut_3", "killed")]
    mutation.report(killed, settings, frozenset({"pkg.mod"}))
    assert "matches no surviving mutant" not in capsys.readouterr().out
    mutation.report(killed, settings)
    assert "matches no surviving mutant" in capsys.readouterr().out


def test_a_scopes_mutant_patterns_name_functions_of_its_own_modules(mutation: ModuleType) -> None:
    """A pattern outside the scope's modules would select nothing (mutmut then stops): each names one of them."""
    settings = mutation.load_settings()
    narrowed = [scope for scope in settings.scopes.values() if scope.mutants]
    assert narrowed, "the ownership scope narrows datasets.py to its fingerprint and reuse checks"
    for scope in narrowed:
        modules = {mutation._import_name(path, settings) for path in scope.modules}
        for pattern in scope.mutants:
            assert pattern.rsplit(".", 1)[0] in modules, (scope.name, pattern)
