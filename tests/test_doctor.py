"""doctor: the guide's troubleshooting checks pass on a healthy setup and fail, each for its own cause, otherwise."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import create_engine

from balance_bench.config import Config
from balance_bench.doctor import DEAD_TUPLE_RATIO_WARN, Check, diagnose, diagnose_scales
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.datasets import Dataset, database_name, ensure_dataset
from balance_bench.fixtures.embedded import start_redis, stop_redis
from balance_bench.fixtures.services import Endpoints, psycopg_dsn
from balance_bench.scales import custom_scale, get_scale
from balance_model.cache import FAMILIES
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
    """With migration 012 every key family is set with its TTL, the cache hits, and each claimed index is used."""
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["redis-ping"].status == "pass"
    for family in FAMILIES:
        check = checks[f"cache-key:{family.name}"]
        assert check.status == "pass" and f"(expected {family.ttl_s}s)" in check.message, check
    assert checks["hit-rate:cache"].status == "pass" and "BalanceCache.stats()" in checks["hit-rate:cache"].message
    server = checks["hit-rate:server"]
    assert server.status == "info" and "server-wide" in server.message and "fill-token" in server.message
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


@pytest.mark.parametrize("factor", [2.0, 0.5], ids=["actual-below", "actual-above"])
def test_a_wrong_ttl_fails(endpoints: Endpoints, clone: str, tiny: Dataset, factor: float) -> None:
    """A key whose TTL is below or above the one expected for its family fails; the other families pass."""
    expected = tuple(replace(f, ttl_s=int(f.ttl_s * factor)) if f.name == "by_user" else f for f in FAMILIES)
    checks = _by_name(diagnose(endpoints, clone, tiny.params, families=expected))
    wrong = checks["cache-key:by_user"]
    assert wrong.status == "fail" and ("below" if factor > 1 else "above") in wrong.message, wrong
    assert f"TTL 60s, {'below' if factor > 1 else 'above'} the expected {int(60 * factor)}s" in wrong.message
    assert all(checks[f"cache-key:{f.name}"].status == "pass" for f in FAMILIES if f.name != "by_user")


def test_a_redis_refusing_writes_fails_the_key_and_hit_rate_checks(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                                    tmp_path: Path) -> None:
    """A Redis at its memory limit (writes refused, reads served) fails every key check and the cache's hit rate."""
    child, server = start_redis(tmp_path)
    try:
        full = redis.Redis(unix_socket_path=str(server.socket))
        full.config_set("maxmemory", 1)  # below what it uses: every write is refused (noeviction)
        full.close()
        checks = _by_name(diagnose(replace(endpoints, redis_url=server.url, redis_prefix=""), clone, tiny.params))
    finally:
        stop_redis(server, child)
    assert checks["redis-ping"].status == "pass"
    assert all(checks[f"cache-key:{f.name}"].status == "fail" for f in FAMILIES)
    assert checks["hit-rate:cache"].status == "fail" and "Redis errors" in checks["hit-rate:cache"].message


def test_an_index_with_the_right_name_on_the_wrong_columns_fails(endpoints: Endpoints, clone: str,
                                                                 tiny: Dataset) -> None:
    """The catalog, not the name, decides: idx_balances_user_token on (token_id, user_id) fails with a remedy."""
    engine = create_engine(endpoints.database_url(clone))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX idx_balances_user_token")
        conn.exec_driver_sql("CREATE INDEX idx_balances_user_token ON balances (token_id, user_id)")
    engine.dispose()
    check = _by_name(diagnose(endpoints, clone, tiny.params))["indexes-012"]
    assert check.status == "fail"
    assert "idx_balances_user_token (token_id, user_id; expected user_id, token_id)" in check.message
    assert "migrate down" in check.remedy and "migrate up" in check.remedy


def test_an_invalid_index_fails(endpoints: Endpoints, clone: str, tiny: Dataset) -> None:
    """A concurrent build that failed leaves an INVALID index under the right name: it fails, remedy REINDEX."""
    with psycopg.connect(psycopg_dsn(endpoints.database_url(clone)), autocommit=True) as conn:
        conn.execute("DROP INDEX idx_balances_token_id")
        with pytest.raises(psycopg.errors.UniqueViolation):  # many balances share a token
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY idx_balances_token_id ON balances (token_id)")
    check = _by_name(diagnose(endpoints, clone, tiny.params))["indexes-012"]
    assert check.status == "fail" and "invalid: idx_balances_token_id" in check.message
    assert "REINDEX INDEX idx_balances_token_id;" in check.remedy


@pytest.mark.parametrize(("updated", "status"), [(0.05, "pass"), (0.5, "warn")])
def test_bloat_check_on_both_sides_of_its_threshold(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                    updated: float, status: str) -> None:
    """Dead tuples below the ratio pass; above it they warn, with VACUUM ANALYZE balances as the remedy."""
    with psycopg.connect(psycopg_dsn(endpoints.database_url(clone)), autocommit=True) as conn:
        conn.execute("ALTER TABLE balances SET (autovacuum_enabled = false)")
        conn.execute("ANALYZE balances")
        live = conn.execute("SELECT count(*) FROM balances").fetchone()[0]  # type: ignore[index]
        conn.execute("UPDATE balances SET updated_at = updated_at WHERE id IN "
                     "(SELECT id FROM balances ORDER BY id LIMIT %s)", (int(live * updated),))
    # Closing the connection flushed its statistics: dead / (live + dead) is updated / (1 + updated).
    bloat = _by_name(diagnose(endpoints, clone, tiny.params))["bloat"]
    assert (updated / (1 + updated) > DEAD_TUPLE_RATIO_WARN) == (status == "warn")
    assert bloat.status == status, bloat
    assert bloat.remedy == ("VACUUM ANALYZE balances;" if status == "warn" else "")


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


def test_each_scale_is_checked_and_a_missing_dataset_says_how_to_seed_it(tiny: Dataset, bench_config: Config) -> None:
    """A scale never seeded is one failed "dataset" line naming the seed command; the next scale is still checked."""
    unseeded = custom_scale(1234)
    checks = diagnose_scales(replace(bench_config, scales=(unseeded, tiny.scale)))
    assert checks[0] == Check("dataset", "fail", f"no dataset database {database_name(unseeded, bench_config.seed)!r}",
                              f"balance-bench seed --scale rows1234 --seed {bench_config.seed}")
    rest = _by_name(checks[1:])
    assert rest["redis-ping"].status == "pass" and rest["indexes-012"].status == "pass" and "bloat" in rest
    assert len(checks) == 1 + len(rest)


def test_an_unreachable_server_is_one_failed_check_without_its_password(bench_config: Config) -> None:
    """In process, as the CLI calls it: nothing listens on port 1, so one "services" line, password redacted."""
    (check,) = diagnose_scales(replace(bench_config, dsn="postgresql://u:hunter2@127.0.0.1:1/postgres",
                                       scales=(get_scale("tiny"),)))
    assert (check.name, check.status) == ("services", "fail")
    assert check.message.startswith("cannot reach PostgreSQL") and "hunter2" not in check.message
    assert check.remedy == "check --dsn/--redis-url and that the servers run"
