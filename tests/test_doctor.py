"""doctor: the guide's troubleshooting checks report pass/fail correctly with and without migration 012."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from balance_bench.config import Config
from balance_bench.doctor import Check, diagnose
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.datasets import Dataset, ensure_dataset
from balance_bench.fixtures.services import Endpoints
from balance_bench.scales import get_scale
from tests.conftest import run_cli

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def tiny(endpoints: Endpoints, bench_config: Config) -> Dataset:
    return ensure_dataset(endpoints, get_scale("tiny"), bench_config.seed)


@pytest.fixture()
def clone(endpoints: Endpoints, tiny: Dataset) -> Iterator[str]:
    """A private copy of the tiny dataset (with 012), dropped afterwards."""
    name = f"{PREFIX}doctor_{uuid.uuid4().hex[:8]}"
    create_owned(endpoints, name, template=tiny.database)
    yield name
    drop_owned(endpoints, name)


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_with_012_every_index_check_passes(endpoints: Endpoints, clone: str, tiny: Dataset) -> None:
    """With migration 012 the indexes exist and each index-aware query's plan uses its claimed index."""
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["redis-ping"].status == "pass"
    assert checks["cache-keys"].status == "pass" and "TTL" in checks["cache-keys"].message
    assert checks["indexes-012"].status == "pass"
    index_checks = [c for name, c in checks.items() if name.startswith("index-use:")]
    assert len(index_checks) == 5 and all(c.status == "pass" for c in index_checks)
    assert not [c for c in checks.values() if c.status == "fail"]


def test_without_012_the_index_checks_fail_with_a_remedy(endpoints: Endpoints, clone: str, tiny: Dataset) -> None:
    """After the guide's rollback the index checks fail and say to run the migration."""
    engine = create_engine(endpoints.database_url(clone))
    migrate.downgrade(engine)
    engine.dispose()
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["indexes-012"].status == "fail" and "migrate up" in checks["indexes-012"].remedy
    assert all(c.status == "fail" for name, c in checks.items() if name.startswith("index-use:"))
    assert checks["redis-ping"].status == "pass"


def test_bloat_check_warns_on_dead_tuples(endpoints: Endpoints, clone: str, tiny: Dataset) -> None:
    """Many dead tuples in balances give a warning whose remedy is VACUUM ANALYZE balances."""
    engine = create_engine(endpoints.database_url(clone))
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE balances SET (autovacuum_enabled = false)")
        conn.exec_driver_sql("UPDATE balances SET updated_at = updated_at")
    with engine.connect() as conn:  # the statistics collector reports with a short delay
        conn.exec_driver_sql("SELECT pg_stat_force_next_flush()") if _pg_at_least(conn, 15) else None
    engine.dispose()
    bloat = _by_name(diagnose(endpoints, clone, tiny.params))["bloat"]
    assert bloat.status == "warn" and bloat.remedy == "VACUUM ANALYZE balances;"


def _pg_at_least(conn, major: int) -> bool:  # type: ignore[no-untyped-def]
    return int(conn.exec_driver_sql("SHOW server_version_num").scalar()) >= major * 10000


def test_cli_passes_on_a_seeded_scale(tiny: Dataset, bench_config: Config) -> None:
    """`balance-bench doctor --scale tiny` prints PASS lines and exits 0 on the seeded dataset."""
    proc = run_cli("doctor", "--scale", "tiny", "--cache-dir", str(bench_config.cache_dir))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout and "indexes-012" in proc.stdout


def test_cli_unreachable_service_is_a_fail_line_not_a_traceback() -> None:
    """An unreachable server is one FAIL line with a remedy, exit 1, no traceback, no password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCE_BENCH_")}
    proc = run_cli("doctor", "--scale", "tiny", "--dsn", "postgresql://u:hunter2@127.0.0.1:1/postgres", env=env)
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout and "cannot reach PostgreSQL" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr and "hunter2" not in proc.stdout + proc.stderr
