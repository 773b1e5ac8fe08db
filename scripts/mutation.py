"""Mutation testing of the modules that judge: mutmut over a scope from pyproject.toml, scored with the equivalents.

Scopes live in ``[tool.balance-bench.mutation.scopes.NAME]`` (modules to mutate, the tests that may kill
them); adding a module to mutation testing is one line there. ``--ci`` runs the scopes marked
``ci = true`` whole and those marked ``ci = "sample"`` on a tenth of their mutants (pure modules, no
servers), and exits 1 when the score is below ``minimum-score``.

The sample is every mutant whose number ends in one digit (``*__mutmut_*D``), the digit taken from
the commit being tested: reproducible for one commit, a different tenth for the next, every function
with a mutant of that number checked. A tenth of a scope whose survivors are all killed or documented
scores 100%; a change that lets one in ten mutants survive is caught with a probability that grows
with the sample (a hundred sampled mutants miss a 5% survivor rate about once in 170 commits).

mutmut names mutants after file paths, while the suite imports bench/, fixtures/ and reports/ as
``balance_bench.bench``/``.fixtures``/``.reports`` (setuptools package-dir). So mutmut runs in a staged
copy laid out as installed (``build/mutation/SCOPE/``), where paths and import names agree; the
working tree is never mutated. Scopes whose tests need servers get them once for the whole run:
the URLs given (``--dsn``/``--redis-url`` or their environment variables), else embedded ones
started here, so no mutant pays for a server start.

Score = killed / (mutants - documented equivalents); a timeout counts as killed, a survivor or a
mutant no selected test reaches does not. Equivalent mutants are listed in ``equivalents`` (a
Markdown table: mutant, change, reason), matched by function and change so renumbering does not
orphan an entry; a listed mutant that is killed, or whose change no longer matches, is reported.

    python scripts/mutation.py                 # every scope (services ones start or use servers)
    python scripts/mutation.py judge           # one scope
    python scripts/mutation.py judge --module reports/time_gate.py  # one module of it
    python scripts/mutation.py ownership      # a scope narrowed by its `mutants` patterns to some functions
    python scripts/mutation.py --ci            # the CI gate (the sampled scopes' digit from git HEAD)
    python scripts/mutation.py parser --sample 7   # the mutants of a scope numbered ...7
    python scripts/mutation.py --list          # scopes, modules and the score required
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGING = REPO / "build" / "mutation"
KILLED = frozenset({"killed", "timeout", "caught by type check", "segfault"})
"""mutmut statuses where a test run failed on the mutant."""
NOT_CHECKED = "not checked"
"""mutmut's status of a mutant outside the names a run was given (a sample's unsampled mutants)."""
CI_ALL, CI_SAMPLE = "all", "sample"
_RESULT = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+?)\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_MANGLED = re.compile(r"^(?P<module>.+?)\.x[_ǁ]")


def _module_of(mutant_name: str) -> str:
    """The module of a mutmut mutant name (``pkg.mod.x_func__mutmut_3``, ``pkg.mod.xǁClassǁmethod__mutmut_1``)."""
    match = _MANGLED.match(mutant_name)
    return match["module"] if match else mutant_name.rpartition(".")[0]


@dataclass(frozen=True)
class Scope:
    """Modules mutated together, and the tests mutmut may run against them."""

    name: str
    modules: tuple[str, ...]  # repository paths, e.g. balance_bench/plans/analysis.py
    tests: tuple[str, ...]
    pytest_args: tuple[str, ...] = ()
    ci: str = ""  # "all": CI runs it whole; "sample": CI runs a tenth of it; "": not in CI
    services: bool = False
    mutants: tuple[str, ...] = ()  # mutmut name patterns: only these functions' mutants (default: every one)


@dataclass(frozen=True)
class Settings:
    """``[tool.balance-bench.mutation]``: the scopes, the score CI requires, mutmut's own settings."""

    minimum_score: float
    equivalents: Path
    mutmut: dict[str, object]
    scopes: dict[str, Scope]
    package_dirs: dict[str, str] = field(default_factory=dict)  # import name -> repository folder


def _ci_mode(value: object) -> str:
    """A scope's ``ci`` setting: true (whole), "sample" (a tenth), false/absent (not in CI)."""
    if value is True:
        return CI_ALL
    if value in (False, None):
        return ""
    if value == CI_SAMPLE:
        return CI_SAMPLE
    raise SystemExit(f"pyproject.toml: a scope's ci is true, false or \"sample\", not {value!r}")


def mutant_patterns(narrowed: Sequence[str], sample: int | None) -> list[str]:
    """mutmut's name patterns: the scope's own (none: every mutant), each cut to the mutants numbered ...``sample``."""
    if sample is None:
        return list(narrowed)
    if not 0 <= sample <= 9:
        raise SystemExit(f"--sample takes a digit 0-9, not {sample}")
    return [f"{pattern}{sample}" for pattern in narrowed or ["*__mutmut_*"]]


def commit_digit(repo: Path = REPO) -> int:
    """The sample digit of the commit under test: its hash modulo 10 (1 when there is no git checkout)."""
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=False)
    return int(proc.stdout.strip(), 16) % 10 if proc.returncode == 0 and proc.stdout.strip() else 1


def load_settings(pyproject: Path = REPO / "pyproject.toml") -> Settings:
    """Read the scopes and the package layout from pyproject.toml."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    section = data["tool"]["balance-bench"]["mutation"]
    scopes = {
        name: Scope(name, tuple(s["modules"]), tuple(s["tests"]), tuple(s.get("pytest-args", ())),
                    _ci_mode(s.get("ci", False)), bool(s.get("services", False)), tuple(s.get("mutants", ())))
        for name, s in section["scopes"].items()
    }
    # The layout setup.py derives the wheel's packages from: each package folder under these is installed too.
    package_dirs: dict[str, str] = dict(data["tool"]["setuptools"]["package-dir"])
    return Settings(float(section["minimum-score"]), REPO / section["equivalents"], dict(section.get("mutmut", {})),
                    scopes, package_dirs)


# ---- staging ------------------------------------------------------------------------------------------------


def staged_path(module: str, package_dirs: dict[str, str]) -> str:
    """``balance_bench/plans/analysis.py`` -> ``balance_bench/reports/analyse.py``: where the module sits as installed.

    The deepest mapped folder that holds the module decides (``bench/load/plan.py`` is under ``bench``).
    """
    for package, source in sorted(package_dirs.items(), key=lambda item: -len(item[1])):
        if module.startswith(f"{source}/"):
            return f"{package.replace('.', '/')}/{module.removeprefix(f'{source}/')}"
    raise SystemExit(f"{module} is not under a folder of [tool.setuptools.package-dir] in pyproject.toml")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def stage(scope: Scope, settings: Settings, modules: Sequence[str], keep: bool) -> Path:
    """Copy the packages (laid out as installed), tests and configuration into the scope's staging folder.

    With ``keep``, mutmut's results of an earlier run of this scope are kept, so only changed
    functions are tested again; the sources are always refreshed.
    """
    root = STAGING / scope.name
    if root.exists() and not keep:
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    top_level = sorted({p.split(".")[0] for p in settings.package_dirs})
    for package, source in sorted(settings.package_dirs.items()):
        target = root / package.replace(".", "/")
        for path in (REPO / source).iterdir():
            if path.is_file() and path.suffix != ".pyc":
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name)
            elif path.is_dir() and path.name != "__pycache__" and f"{package}.{path.name}" not in settings.package_dirs:
                shutil.copytree(path, target / path.name, ignore=ignore, dirs_exist_ok=True)
    shutil.copytree(REPO / "tests", root / "tests", ignore=ignore, dirs_exist_ok=True)
    shutil.copy2(REPO / "conftest.py", root / "conftest.py")
    only_mutate = [staged_path(m, settings.package_dirs) for m in modules]
    shared_args = settings.mutmut.get("pytest_add_cli_args", [])
    mutmut: dict[str, object] = {
        **settings.mutmut,
        "source_paths": top_level,
        "only_mutate": only_mutate,
        "pytest_add_cli_args_test_selection": list(scope.tests),
        "pytest_add_cli_args": [*(shared_args if isinstance(shared_args, list) else []), *scope.pytest_args],
        "also_copy": ["conftest.py"],
    }
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    generated = "\n".join(f"{key} = {_toml_value(value)}" for key, value in mutmut.items())
    header = "[tool.mutmut]  # written by scripts/mutation.py"
    (root / "pyproject.toml").write_text(f"{pyproject}\n\n{header}\n{generated}\n", encoding="utf-8")
    if keep:  # mutmut keeps its copies of unmutated files: refresh them from the staged sources
        for package in top_level:
            mutants = root / "mutants" / package
            if mutants.exists():
                for path in (root / package).rglob("*"):
                    if path.is_file() and str(path.relative_to(root)) not in only_mutate:
                        copy = root / "mutants" / path.relative_to(root)
                        copy.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(path, copy)
    return root


# ---- servers ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def servers(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """Environment variables pointing the tests at one PostgreSQL and one Redis for the whole run."""
    from balance_bench.config import config_from_namespace
    from balance_bench.fixtures.services import running_services

    config = config_from_namespace(args)
    with running_services(config) as endpoints:
        yield {"BALANCE_BENCH_DSN": endpoints.pg_url, "BALANCE_BENCH_REDIS_URL": endpoints.redis_url,
               "BALANCE_BENCH_REDIS_PREFIX": endpoints.redis_prefix or "balance-bench-mutation:"}


# ---- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    name: str  # mutmut's: module.x_function__mutmut_N
    status: str
    change: str = ""  # "old -> new", whitespace collapsed; filled for mutants that were not killed

    @property
    def module(self) -> str:
        return _module_of(self.name)

    @property
    def function(self) -> str:
        return self.name.partition("__mutmut_")[0]


@dataclass(frozen=True)
class Equivalent:
    name: str
    change: str
    reason: str

    @property
    def function(self) -> str:
        return self.name.partition("__mutmut_")[0]


def _collapse(text: str) -> str:
    return " ".join(text.split())


def change_of(diff: str) -> str:
    """The mutated lines of a ``mutmut show`` diff as one line: ``old -> new``."""
    old = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    new = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return f"{_collapse(' / '.join(old))} -> {_collapse(' / '.join(new))}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def table_row(mutant: Mutant, reason: str) -> str:
    """A line of the equivalents table for ``mutant``."""
    return f"| `{mutant.name}` | `{_escape(mutant.change)}` | {_escape(reason)} |"


def load_equivalents(path: Path) -> list[Equivalent]:
    """The rows of the Markdown table in ``path``: mutant, change, reason (code spans unwrapped, ``\\|`` unescaped)."""
    if not path.exists():
        return []
    rows: list[Equivalent] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip().replace("\\|", "|") for cell in _CELL_SPLIT.split(line.strip())[1:-1]]
        if len(cells) != 3:
            raise SystemExit(f"{path}: a row needs three cells (mutant, change, reason): {line}")
        name, change, reason = (cell.strip("`") for cell in cells)
        rows.append(Equivalent(name, _collapse(change), reason))
    return rows


def mutmut(root: Path, *args: str, env: dict[str, str] | None = None, log: Path | None = None) -> str:
    """Run a mutmut command in the staged tree; its output goes to ``log`` when given, else is returned."""
    command = [str(Path(sys.executable).with_name("mutmut")), *args]
    if log is None:
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True).stdout
    with log.open("w", encoding="utf-8") as out:
        code = subprocess.run(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise SystemExit(f"mutmut run failed (exit {code}); the end of {log}:\n{tail}")
    return ""


# `mutmut show NAME` for many mutants in one process (mutmut's own function behind that command).
_SHOW_ALL = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in json.load(sys.stdin)}))
"""


def results(root: Path) -> list[Mutant]:
    """Every mutant of the last run with its status, and the change for the ones not killed."""
    statuses = {match["name"]: match["status"] for line in mutmut(root, "results", "--all", "true").splitlines()
                if (match := _RESULT.match(line))}
    alive = [name for name, status in statuses.items() if status not in KILLED]
    diffs: dict[str, str] = {}
    if alive:
        shown = subprocess.run([sys.executable, "-c", _SHOW_ALL], cwd=root, input=json.dumps(alive),
                               capture_output=True, text=True, check=True)
        diffs = json.loads(shown.stdout)
    return [Mutant(name, status, change_of(diffs[name]) if name in diffs else "") for name, status in statuses.items()]


@dataclass
class Score:
    """The tally of one module or of a whole run."""

    total: int = 0
    killed: int = 0
    equivalent: int = 0
    survived: list[Mutant] = field(default_factory=list)

    @property
    def score(self) -> float:
        counted = self.total - self.equivalent
        return 100.0 * self.killed / counted if counted else 100.0

    def add(self, other: Score) -> None:
        self.total += other.total
        self.killed += other.killed
        self.equivalent += other.equivalent
        self.survived += other.survived


def score(mutants: list[Mutant], equivalents: list[Equivalent]) -> tuple[dict[str, Score], list[Equivalent]]:
    """Per module: mutants, killed, documented equivalents, unexplained survivors; and entries that match nothing."""
    by_key = {(e.function, e.change): e for e in equivalents}
    used: set[tuple[str, str]] = set()
    modules: dict[str, Score] = {}
    for mutant in mutants:
        tally = modules.setdefault(mutant.module, Score())
        tally.total += 1
        if mutant.status in KILLED:
            tally.killed += 1
        elif (key := (mutant.function, mutant.change)) in by_key:
            tally.equivalent += 1
            used.add(key)
        else:
            tally.survived.append(mutant)
    tested = {m.module for m in mutants}
    stale = [e for e in equivalents
             if (e.function, e.change) not in used and _module_of(e.name) in tested]
    return modules, stale


def _import_name(module: str, settings: Settings) -> str:
    """``balance_bench/plans/analysis.py`` -> ``balance_bench.plans.analysis``: the module as mutmut names it."""
    return staged_path(module, settings.package_dirs).removesuffix(".py").replace("/", ".")


# ---- command ------------------------------------------------------------------------------------------------


def run_scope(scope: Scope, settings: Settings, args: argparse.Namespace, env: dict[str, str],
              sample: int | None = None) -> list[Mutant]:
    """Mutate the scope's modules and run their tests: every mutant, or with ``sample`` those numbered ...digit."""
    modules = [m for m in scope.modules if not args.module or m in args.module]
    if not modules:
        return []
    root = stage(scope, settings, modules, args.keep)
    started = time.monotonic()
    what = "" if sample is None else f", the mutants numbered ...{sample}"
    print(f"== {scope.name}: mutating {', '.join(modules)}{what} ({root})", flush=True)
    extra = ["--max-children", str(args.max_children)] if args.max_children else []
    patterns = mutant_patterns(scope.mutants, sample)
    mutmut(root, "run", *extra, *patterns, env=env, log=root / "mutmut.log")
    mutants = [m for m in results(root) if not patterns or m.status != NOT_CHECKED]
    print(f"   {len(mutants)} mutants in {time.monotonic() - started:.0f} s", flush=True)
    return mutants


def report(mutants: list[Mutant], settings: Settings, sampled: frozenset[str] = frozenset()) -> Score:
    """Print the tally per module and the survivors' rows; ``sampled`` modules' unmatched equivalents are not stale."""
    modules, stale = score(mutants, load_equivalents(settings.equivalents))
    stale = [e for e in stale if _module_of(e.name) not in sampled]
    total = Score()
    print(f"{'module':<44} {'mutants':>7} {'killed':>6} {'equiv':>5} {'survived':>8} {'score':>7}")
    for module, tally in sorted(modules.items()):
        total.add(tally)
        print(f"{module:<44} {tally.total:>7} {tally.killed:>6} {tally.equivalent:>5} {len(tally.survived):>8} "
              f"{tally.score:>6.1f}%")
    print(f"{'all':<44} {total.total:>7} {total.killed:>6} {total.equivalent:>5} {len(total.survived):>8} "
          f"{total.score:>6.1f}%")
    if total.survived:
        rel = settings.equivalents.relative_to(REPO)
        print(f"\nsurvivors: kill each with a test, or add its row to {rel} with the reason it is equivalent")
        for mutant in total.survived:
            print(table_row(mutant, f"TODO ({mutant.status})"))
    for entry in stale:
        print(f"note: equivalent entry {entry.name} ({entry.change}) matches no surviving mutant: killed or changed")
    return total


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scopes", nargs="*", metavar="SCOPE",
                        help=f"scopes to run ({', '.join(settings.scopes)}); default all")
    parser.add_argument("--ci", action="store_true", help="run the CI scopes and fail below the minimum score")
    parser.add_argument("--module", action="append", help="only this module of the scope (repeatable)")
    parser.add_argument("--keep", action="store_true", help="reuse mutmut's results of the last run of the scope")
    parser.add_argument("--max-children", type=int, help="parallel mutants (default: one per core)")
    parser.add_argument("--sample", type=int, metavar="DIGIT",
                        help="only the mutants numbered ...DIGIT (a tenth; --ci samples its sampled scopes this way)")
    parser.add_argument("--list", action="store_true", help="print the scopes and exit")
    from balance_bench.config import add_options

    add_options(parser.add_argument, ("dsn", "redis_url", "redis_prefix", "cache_dir"))
    args = parser.parse_args(argv)
    if unknown := set(args.scopes) - set(settings.scopes):
        parser.error(f"unknown scope {', '.join(sorted(unknown))}; scopes: {', '.join(settings.scopes)}")
    if args.list:
        for scope in settings.scopes.values():
            flags = ", ".join(f for f, on in ((f"ci: {scope.ci}", scope.ci), ("services", scope.services)) if on)
            print(f"{scope.name} ({flags or '-'}): {', '.join(scope.modules)}")
        print(f"minimum score {settings.minimum_score:.0f}%; equivalents in {settings.equivalents.relative_to(REPO)}")
        return 0
    chosen = [s for s in settings.scopes.values() if s.ci] if args.ci else [
        settings.scopes[name] for name in (args.scopes or settings.scopes)]
    digit = args.sample if args.sample is not None else (commit_digit() if args.ci else None)

    def sample_of(scope: Scope) -> int | None:
        return digit if args.sample is not None or (args.ci and scope.ci == CI_SAMPLE) else None
    started = time.monotonic()
    mutants: list[Mutant] = []
    with contextlib.ExitStack() as stack:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        if any(s.services for s in chosen):
            env.update(stack.enter_context(servers(args)))
        for scope in chosen:
            mutants += run_scope(scope, settings, args, env, sample_of(scope))
    print()
    sampled = frozenset(_import_name(path, settings) for s in chosen if sample_of(s) is not None for path in s.modules)
    total = report(mutants, settings, sampled)
    print(f"\nmutation score {total.score:.1f}% (minimum {settings.minimum_score:.0f}%) "
          f"in {time.monotonic() - started:.0f} s")
    return 1 if total.score < settings.minimum_score else 0


if __name__ == "__main__":
    sys.exit(main())
