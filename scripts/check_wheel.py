"""The wheel as a user installs it: built from a clean copy of the sources, installed (not editable) into a
fresh venv, and run from a directory outside the checkout.

    python scripts/check_wheel.py               # build, check its files, install, `balance-bench --help`
    python scripts/check_wheel.py --run-quick   # ... and `balance-bench run --quick` (what .ci/run does)

The wheel is built without build isolation (the dev extra has setuptools and wheel), from a copy of the
checkout without its ignored folders: an in-tree build would reuse ``build/lib``, where modules of earlier
builds linger and could hide a module the wheel no longer gets. Every file of the package folders
(``[tool.setuptools.package-dir]``), modules and data alike, must be in it under its installed name.
The fresh venv takes the dependencies from this venv (a ``.pth`` naming its site-packages, whose own
``.pth`` files, the editable install's import hook among them, are not run), so nothing is downloaded and
nothing imports from the checkout. ``tests/test_packaging.py`` uses the same functions.

Everything lives in one temporary directory, removed at the end; ``run --quick`` gets its own cache dir
and ``TMPDIR`` there, and any PostgreSQL or Redis still running from it afterwards is killed and fails
the check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOP_LEVEL_SKIPPED = {".git", ".venv", "build", "dist", "runs", "mutants", ".pytest_cache", ".hypothesis",
                     ".benchmarks", ".mypy_cache", ".ruff_cache"}
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
DEPENDENCIES_PTH = "_balance_bench_dependencies.pth"


def package_dirs(root: Path = REPO) -> dict[str, str]:
    """pyproject.toml's ``[tool.setuptools.package-dir]``: import name -> folder."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data["tool"]["setuptools"]["package-dir"])


def copy_sources(dest: Path, root: Path = REPO) -> Path:
    """The checkout as ``pip install .`` reads it, copied to ``dest``: without git's, the venv's, builds' and
    runs' folders (.gitignore's), so no file of an earlier build can slip into the wheel."""
    def ignored(folder: str, names: list[str]) -> set[str]:
        return set(SKIPPED(folder, names)) | (TOP_LEVEL_SKIPPED & set(names) if Path(folder) == root else set())

    shutil.copytree(root, dest, ignore=ignored, dirs_exist_ok=True)
    return dest


def build_wheel(source: Path, dist: Path) -> Path:
    """``pip wheel`` of ``source`` (no dependencies, no build isolation) into ``dist``; the wheel's path."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(source)], check=True)
    (wheel,) = dist.glob("*.whl")
    return wheel


def expected_files(source: Path, dirs: dict[str, str]) -> set[str]:
    """Every file of the package folders ``dirs`` (import name -> folder) under ``source``, modules and data
    alike, as installed."""
    expected: set[str] = set()
    for name, folder in dirs.items():
        for path in (source / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                expected.add("/".join([*name.split("."), *path.relative_to(source / folder).parts]))
    return expected


def wheel_files(wheel: Path) -> set[str]:
    """The paths inside ``wheel``."""
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def fresh_venv(where: Path) -> Path:
    """A venv without pip at ``where`` that sees this venv's installed packages, but not its editable install."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(purelib) / DEPENDENCIES_PTH).write_text("".join(f"{path}\n" for path in ours), encoding="utf-8")
    return where


def install(wheel: Path, venv: Path) -> None:
    """Install ``wheel`` (not editable, no dependencies: the venv has them) into ``venv`` with this venv's pip."""
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", str(wheel)], check=True)


def user_env(tmp: Path) -> dict[str, str]:
    """The environment of a user's shell: none of the suite's variables, no PYTHONPATH, ``TMPDIR`` our own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BALANCE_BENCH_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "TMPDIR": str(tmp)}


def leftover_servers(*paths: Path) -> list[int]:
    """Pids of PostgreSQL postmasters and redis-servers still running whose command line names one of ``paths``."""
    import psutil

    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if (proc.info["name"] in ("postgres", "redis-server") and proc.info["status"] != psutil.STATUS_ZOMBIE
                and any(str(path) in cmdline for path in paths)):
            found.append(proc.pid)
    return found


def check(work: Path, run_quick: bool) -> list[str]:
    """Build, check, install and run in ``work``; the problems found (none: the wheel works)."""
    started = time.monotonic()
    source = copy_sources(work / "src")
    wheel = build_wheel(source, work / "dist")
    absent = sorted(expected_files(source, package_dirs(source)) - wheel_files(wheel))
    if absent:
        return [f"{wheel.name} lacks {len(absent)} file(s) of the package folders: {', '.join(absent)}"]
    venv = fresh_venv(work / "venv")
    install(wheel, venv)
    print(f"wheel {wheel.name}: built and installed into a fresh venv in {time.monotonic() - started:.1f} s",
          flush=True)
    home = work / "home"
    (home / "tmp").mkdir(parents=True)
    env = user_env(home / "tmp")
    commands = [["--help"]]
    if run_quick:
        commands.append(["run", "--quick", "--out", str(home / "runs"), "--cache-dir", str(home / "cache")])
    problems: list[str] = []
    try:
        for args in commands:
            began = time.monotonic()
            proc = subprocess.run([str(venv / "bin" / "balance-bench"), *args], cwd=home, env=env, check=False,
                                  capture_output=True, text=True, timeout=900)
            print(f"balance-bench {' '.join(args)}: exit {proc.returncode} in {time.monotonic() - began:.1f} s",
                  flush=True)
            if proc.returncode != 0:
                problems.append(f"balance-bench {' '.join(args)} exited {proc.returncode}:\n"
                                f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
                break
    finally:
        for pid in leftover_servers(home):
            problems.append(f"an embedded server (pid {pid}) outlived balance-bench: killed")
            os.kill(pid, signal.SIGKILL)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-quick", action="store_true", help="also `balance-bench run --quick` from the wheel")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="balance-bench-wheel-"))
    try:
        problems = check(work, args.run_quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
