"""doctor: the guide's troubleshooting checks pass on a healthy setup and fail, each for its own cause, otherwise."""

from __future__ import annotations

import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import create_engine, make_url

from balance_bench.bench import doctor as doctor_module
from balance_bench.bench.doctor import (
    DEAD_TUPLE_RATIO_WARN,
    Check,
    _bloat_check,
    _index_catalog_check,
    _server_hit_rate,
    dead_ratio,
    diagnose,
    diagnose_scales,
    hit_rate_text,
    needs_vacuum,
)
from balance_bench.config import Config
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.datasets import Dataset, database_name, ensure_dataset
from balance_bench.fixtures.embedded import start_redis, stop_redis
from balance_bench.fixtures.services import Endpoints, psycopg_dsn
from balance_bench.guide import KEY_CLAIMS
from balance_bench.scales import custom_scale, get_scale
from balance_model import cache as cache_module
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
    for family in KEY_CLAIMS:
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
    expected = tuple(replace(f, ttl_s=int(f.ttl_s * factor)) if f.name == "by_user" else f for f in KEY_CLAIMS)
    checks = _by_name(diagnose(endpoints, clone, tiny.params, families=expected))
    wrong = checks["cache-key:by_user"]
    assert wrong.status == "fail" and ("below" if factor > 1 else "above") in wrong.message, wrong
    assert f"TTL 60s, {'below' if factor > 1 else 'above'} the expected {int(60 * factor)}s" in wrong.message
    assert wrong.remedy == "check the cache's TTL table (balance_model.cache.FAMILIES) against the guide's"
    assert all(checks[f"cache-key:{f.name}"].status == "pass" for f in KEY_CLAIMS if f.name != "by_user")


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
    assert all(checks[f"cache-key:{f.name}"].status == "fail" for f in KEY_CLAIMS)
    for f in KEY_CLAIMS:  # no key at all (TTL -2): the read did not set it
        check = checks[f"cache-key:{f.name}"]
        assert check.message.startswith(f"a {f.query} read did not set balance:"), check
        assert check.remedy == "verify the cache is enabled and Redis accepts writes"
    assert checks["cache-key:by_id"].message == f"a find_by_id read did not set balance:id:{tiny.params.balance_id}"
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
    # The UPDATE itself may prune a few of its own dead tuples (on-access page pruning of HOT chains), so the
    # count is read from the message and bounded by the rows updated; the percentage must follow from it.
    updated_rows = int(live * updated)
    found = re.fullmatch(rf"balances: {live} live, (\d+) dead tuples \(([\d.]+)%\); "
                         r"last vacuum never, last analyze 20\d\d-\d\d-\d\d .+", bloat.message)
    assert found, bloat
    dead = int(found[1])
    assert 0.95 * updated_rows <= dead <= updated_rows
    assert found[2] == f"{100 * dead / (live + dead):.1f}"


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


def test_the_ping_names_the_redis_version(endpoints: Endpoints, clone: str, tiny: Dataset) -> None:
    """A Redis that answers is named with its version number, x.y.z."""
    ping = _by_name(diagnose(endpoints, clone, tiny.params))["redis-ping"]
    assert re.fullmatch(r"Redis \d+\.\d+\.\d+ answered PING", ping.message) and ping.remedy == "", ping


def test_a_redis_that_does_not_answer_fails_the_ping_and_skips_the_cache_checks(endpoints: Endpoints, clone: str,
                                                                                tiny: Dataset, tmp_path: Path) -> None:
    """No server on the socket: one failed PING with the error and a remedy, no key or hit-rate lines; PostgreSQL's
    checks still run."""
    gone = replace(endpoints, redis_url=f"unix://{tmp_path / 'nobody.sock'}", redis_prefix="")
    checks = diagnose(gone, clone, tiny.params)
    ping = checks[0]
    assert (ping.name, ping.status) == ("redis-ping", "fail")
    assert ping.remedy == "check the Redis URL and that the server runs"
    assert ping.message.startswith("Redis did not answer PING: ") and "nobody.sock" in ping.message, ping
    names = [c.name for c in checks]
    assert not [n for n in names if n.startswith(("cache-key:", "hit-rate:"))]
    assert names[1] == "indexes-012" and names[-1] == "bloat"


def test_a_key_set_for_one_second_is_one_second_not_no_ttl(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that stores by_id keys for 1 s: TTL 1 is below the expected 300 s, not a key without a TTL (-1)."""
    monkeypatch.setattr(cache_module, "FAMILIES",
                        tuple(replace(f, ttl_s=1) if f.name == "by_id" else f for f in FAMILIES))
    check = _by_name(diagnose(endpoints, clone, tiny.params))["cache-key:by_id"]  # judged by the guide's claims
    assert check == Check("cache-key:by_id", "fail",
                          f"a find_by_id read set {endpoints.redis_prefix}balance:id:{tiny.params.balance_id} with TTL "
                          "1s, below the expected 300s",
                          "check the cache's TTL table (balance_model.cache.FAMILIES) against the guide's")


def test_the_hit_rate_lines_count_the_key_checks_reads_and_the_servers(endpoints: Endpoints, clone: str,
                                                                       tiny: Dataset) -> None:
    """Each of the five families is read twice, a miss then a hit: 5 hits, 5 misses, 50%; the server's line gives
    its own INFO counters and their rate."""
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["hit-rate:cache"] == Check(
        "hit-rate:cache", "pass", "the cache's own counters (BalanceCache.stats(), the key checks' reads only): "
        "5 hits, 5 misses, 0 errors, hit rate 50%: every family hit when read again")
    server = checks["hit-rate:server"]
    match = re.fullmatch(r"server-wide INFO counters since the server started: (\d+) hits, (\d+) misses, hit rate "
                         r"(\d+)% \(every lookup on this server: the cache's fill-token lookups and other clients' "
                         r"keys too\)", server.message)
    assert match is not None and (server.status, server.remedy) == ("info", ""), server
    hits, misses, rate = (int(g) for g in match.groups())
    assert hits >= 5 and misses >= 5 and rate == round(100 * hits / (hits + misses))


def test_a_redis_refusing_writes_names_its_errors(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                  tmp_path: Path) -> None:
    """Writes refused: no read ever hits, the errors are counted, and the remedy says to make fills stick."""
    child, server = start_redis(tmp_path)
    try:
        full = redis.Redis(unix_socket_path=str(server.socket))
        full.config_set("maxmemory", 1)
        full.close()
        check = _by_name(diagnose(replace(endpoints, redis_url=server.url, redis_prefix=""), clone,
                                  tiny.params))["hit-rate:cache"]
    finally:
        stop_redis(server, child)
    match = re.fullmatch(r"the cache's own counters \(BalanceCache.stats\(\), the key checks' reads only\): 0 hits, "
                         r"(\d+) misses, (\d+) errors, hit rate (0%|n/a); Redis errors: (\d+)", check.message)
    assert match is not None and match[2] == match[4] != "0", check
    assert check.remedy == ("check that fills are stored (Redis writable, no concurrent invalidation) and Redis is "
                            "reachable")


def _status(name: str, columns: tuple[str, ...] = ("user_id",), expected: tuple[str, ...] = ("user_id",),
            present: bool = True, valid: bool = True) -> migrate.IndexStatus:
    return migrate.IndexStatus(name, columns if present else (), expected, present, valid, 8192)


def test_the_index_catalog_check_names_each_problem_and_its_remedy() -> None:
    """Missing, invalid and misplaced indexes are each listed with their own remedy, in that order; all well passes."""
    assert _index_catalog_check([_status("a"), _status("b")]) == Check(
        "indexes-012", "pass", "all five migration 012 indexes exist, are valid and on the migration's columns "
        "(pg_index, pg_attribute)")
    statuses = [_status("a", present=False), _status("b", valid=False), _status("c", present=False),
                _status("d", valid=False), _status("e", ("token_id", "user_id"), ("user_id", "token_id")),
                _status("f", ("x",), ("y",))]
    assert _index_catalog_check(statuses) == Check(
        "indexes-012", "fail",
        "migration 012 indexes missing: a, c; invalid: b, d; on the wrong columns: e (token_id, user_id; expected "
        "user_id, token_id), f (x; expected y)",
        "run `balance-bench migrate up`; REINDEX INDEX b;; REINDEX INDEX d;; recreate them: `balance-bench migrate "
        "down`, then `balance-bench migrate up`")
    assert _index_catalog_check([_status("a", ("x",), ("y",), valid=False)]) == Check(
        "indexes-012", "fail", "migration 012 indexes invalid: a; on the wrong columns: a (x; expected y)",
        "REINDEX INDEX a;; recreate them: `balance-bench migrate down`, then `balance-bench migrate up`")


def test_without_its_index_the_address_lookup_fails_naming_no_index(endpoints: Endpoints, clone: str,
                                                                     tiny: Dataset) -> None:
    """Without idx_balances_address the address lookup has no index (fail, no index named); the others still pass."""
    engine = create_engine(endpoints.database_url(clone))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX idx_balances_address")
    engine.dispose()
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["index-use:find_by_address"] == Check(
        "index-use:find_by_address", "fail", "find_by_address plan does not use idx_balances_address (uses: no index)",
        "run `balance-bench migrate up`, then `VACUUM ANALYZE balances;`")
    assert checks["index-use:find_by_token_id"] == Check(
        "index-use:find_by_token_id", "pass", "find_by_token_id plan uses idx_balances_token_id")


def test_bloat_before_any_statistics_warns_and_names_what_is_missing(endpoints: Endpoints, clone: str,
                                                                     tiny: Dataset) -> None:
    """A fresh copy has no statistics yet: 0 live, 0 dead (0.0%), never vacuumed or analysed: warn, analyse it."""
    engine = create_engine(endpoints.database_url(clone))
    try:
        assert _bloat_check(engine) == Check(
            "bloat", "warn", "balances: 0 live, 0 dead tuples (0.0%); last vacuum never, last analyze never",
            "VACUUM ANALYZE balances;")
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE balances CASCADE")
        assert _bloat_check(engine) == Check("bloat", "fail", "table balances not found",
                                             "seed the dataset: `balance-bench seed`")
    finally:
        engine.dispose()


def test_a_fill_that_forgets_the_ttl_fails_as_a_key_without_one(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache whose fill script stores keys with no expiry (TTL -1): every key check fails, naming the TTL due."""
    forgetful = cache_module._FILL.replace(", 'PX', ARGV[3]", "")
    assert forgetful != cache_module._FILL
    monkeypatch.setattr(cache_module, "_FILL", forgetful)
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["cache-key:by_id"] == Check(
        "cache-key:by_id", "fail",
        f"a find_by_id read set {endpoints.redis_prefix}balance:id:{tiny.params.balance_id} without a TTL "
        "(expected 300s)",
        "check the cache's TTL table (balance_model.cache.FAMILIES) against the guide's")
    for f in KEY_CLAIMS:
        assert checks[f"cache-key:{f.name}"].message.endswith(f"without a TTL (expected {f.ttl_s}s)")


@pytest.mark.parametrize(("expected_s", "status"), [(60, "pass"), (65, "pass"), (66, "fail"), (59, "fail")])
def test_a_ttl_may_have_lost_up_to_five_seconds(endpoints: Endpoints, clone: str, tiny: Dataset, expected_s: int,
                                                 status: str) -> None:
    """by_user is stored for 60 s and read at once as 60: as expected for 60 to 65 s, not for 66 s or 59 s."""
    expected = tuple(replace(f, ttl_s=expected_s) if f.name == "by_user" else f for f in KEY_CLAIMS)
    check = _by_name(diagnose(endpoints, clone, tiny.params, families=expected))["cache-key:by_user"]
    assert check.status == status and "TTL 60s" in check.message, check


def test_a_redis_that_serves_no_cached_read_has_no_hit_rate(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                            tmp_path: Path) -> None:
    """Reads refused (ACL: no GET, no scripts) while PING, TTL and INFO answer: no hit or miss, so no rate."""
    child, server = start_redis(tmp_path)
    try:
        locked = redis.Redis(unix_socket_path=str(server.socket))
        locked.execute_command("ACL", "SETUSER", "default", "-get", "-evalsha", "-eval")
        locked.close()
        check = _by_name(diagnose(replace(endpoints, redis_url=server.url, redis_prefix=""), clone,
                                  tiny.params))["hit-rate:cache"]
    finally:
        stop_redis(server, child)
    assert check.status == "fail" and re.fullmatch(
        r"the cache's own counters \(BalanceCache.stats\(\), the key checks' reads only\): 0 hits, 0 misses, "
        r"(\d+) errors, hit rate n/a; Redis errors: \1", check.message), check


def test_fills_that_are_always_refused_never_hit_and_are_named(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fill refused (as a concurrent invalidation refuses it) and no Redis error: each family, by name, never
    hits when read again; every key check finds no key."""
    monkeypatch.setattr(cache_module, "_FILL", "return 0")
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["hit-rate:cache"] == Check(
        "hit-rate:cache", "fail", "the cache's own counters (BalanceCache.stats(), the key checks' reads only): "
        "0 hits, 10 misses, 0 errors, hit rate 0%; never hit when read again: by_id, by_user, by_user_token, total, "
        "total_by_user",
        "check that fills are stored (Redis writable, no concurrent invalidation) and Redis is reachable")
    assert all(checks[f"cache-key:{f.name}"].message.startswith(f"a {f.query} read did not set ") for f in KEY_CLAIMS)


def test_a_plan_on_another_012_index_warns_and_names_it(endpoints: Endpoints, clone: str, tiny: Dataset) -> None:
    """Without the two (user_id, ...) indexes it claims, totalBalanceByUser falls back on idx_balances_user_token,
    the one left that starts with user_id: a warning naming both, not a failure."""
    engine = create_engine(endpoints.database_url(clone))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX idx_balances_user_usd")
        conn.exec_driver_sql("DROP INDEX idx_balances_user_created")
    engine.dispose()
    checks = _by_name(diagnose(endpoints, clone, tiny.params))
    assert checks["index-use:total_balance_by_user"] == Check(
        "index-use:total_balance_by_user", "warn",
        "total_balance_by_user plan uses idx_balances_user_token, not the guide's idx_balances_user_usd",
        "the planner prefers another migration 012 index here; compare both plans in the report")


def test_a_hit_rate_is_whole_percent_and_n_a_before_any_lookup() -> None:
    """0 lookups: n/a (no division by zero); one hit, one miss: 50%; three hits, one miss: 75%."""
    assert (hit_rate_text(0, 0), hit_rate_text(1, 1), hit_rate_text(3, 1), hit_rate_text(0, 2)) == (
        "n/a", "50%", "75%", "0%")


def test_the_server_hit_rate_of_a_fresh_redis_is_n_a_then_counts_its_lookups(tmp_path: Path) -> None:
    """A Redis of our own, started for this test: no lookup yet is n/a; a miss and then a hit are one each, 50%."""
    child, server = start_redis(tmp_path)
    try:
        client = redis.Redis(unix_socket_path=str(server.socket))
        fresh = _server_hit_rate(client)
        client.get("doctor-test:k")
        client.set("doctor-test:k", "v")
        client.get("doctor-test:k")
        counted = _server_hit_rate(client)
        client.close()
    finally:
        stop_redis(server, child)
    assert (fresh.name, fresh.status) == ("hit-rate:server", "info")
    assert "0 hits, 0 misses, hit rate n/a " in fresh.message, fresh
    assert "1 hits, 1 misses, hit rate 50% " in counted.message, counted


def test_the_dead_tuple_ratio_and_its_threshold_exactly() -> None:
    """900 live, 100 dead is exactly the 10% threshold: fine; one live fewer is above it: warn. No tuples: 0, not
    a division by zero; a lone dead tuple: all dead. No statistics warn whatever the ratio."""
    assert DEAD_TUPLE_RATIO_WARN == 0.10
    assert (dead_ratio(900, 100), dead_ratio(0, 0), dead_ratio(0, 1), dead_ratio(3, 1)) == (0.1, 0.0, 1.0, 0.25)
    assert not needs_vacuum(dead_ratio(900, 100), analysed=True)
    assert needs_vacuum(dead_ratio(899, 100), analysed=True)
    assert needs_vacuum(0.0, analysed=False) and not needs_vacuum(0.0, analysed=True)


def test_the_index_checks_connect_with_the_password_they_were_given(endpoints: Endpoints, clone: str, tiny: Dataset,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan-recording engine gets the real password, not the masked one a rendered URL shows by default (a
    server that asks for it would refuse "***"); this server trusts, so the URL is read on its way in."""
    secret = "doctor-s3cret"
    given = replace(endpoints, pg_url=make_url(endpoints.pg_url).set(password=secret).render_as_string(
        hide_password=False))
    seen: list[str] = []
    real = doctor_module.recording_engine

    def spy(url_text: str) -> Any:
        seen.append(url_text)
        return real(url_text)

    monkeypatch.setattr(doctor_module, "recording_engine", spy)
    checks = _by_name(diagnose(given, clone, tiny.params))
    assert checks["indexes-012"].status == "pass"
    assert len(seen) == 1 and make_url(seen[0]).password == secret and "***" not in seen[0]


def test_a_redis_that_accepts_and_never_answers_fails_the_ping_within_seconds(endpoints: Endpoints, clone: str,
                                                                             tiny: Dataset) -> None:
    """A socket that takes the connection and says nothing: PING times out (5 s) and fails; it does not hang."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        mute = replace(endpoints, redis_url=f"redis://127.0.0.1:{silent.getsockname()[1]}/0", redis_prefix="")
        found: list[list[Check]] = []
        worker = threading.Thread(target=lambda: found.append(diagnose(mute, clone, tiny.params)), daemon=True)
        worker.start()
        worker.join(timeout=60)
        hung = worker.is_alive()
    worker.join(timeout=10)  # closing the socket resets a connection still waiting
    assert not hung, "the doctor waited more than 60 s on a silent Redis"
    ping = found[0][0]
    assert (ping.name, ping.status) == ("redis-ping", "fail") and "Timeout" in ping.message, ping
