"""Options are parsed and validated once, from flags or environment, into one Config."""

from __future__ import annotations

import argparse

import pytest

from balance_bench.config import DEFAULT_EXTERNAL_REDIS_PREFIX, add_options, config_from_namespace
from balance_bench.errors import BenchError


def _parse(argv: list[str], monkeypatch: pytest.MonkeyPatch | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_options(parser.add_argument)
    return parser.parse_args(argv)


def test_defaults_are_small_scale_seed_42_embedded() -> None:
    """With nothing configured: small scale, seed 42, embedded services, empty Redis prefix."""
    cfg = config_from_namespace(_parse([]))
    assert cfg.scale_names == ("small",) and cfg.seed == 42
    assert cfg.dsn is None and cfg.redis_url is None and cfg.redis_prefix == ""


def test_scales_list_is_parsed_and_unknown_scale_rejected() -> None:
    """--scale takes a comma list of known scales and rejects others with the known names."""
    assert config_from_namespace(_parse(["--scale", "tiny,small"])).scale_names == ("tiny", "small")
    with pytest.raises(argparse.ArgumentError, match="known scales: tiny, small, medium, large"):
        _parse(["--scale", "huge"])


def test_dsn_is_normalised_to_psycopg_and_bad_scheme_rejected() -> None:
    """postgres:// URLs become SQLAlchemy psycopg 3 URLs; other schemes are refused without echoing a password."""
    cfg = config_from_namespace(_parse(["--dsn", "postgres://u@h:5432/postgres"]))
    assert cfg.dsn == "postgresql+psycopg://u@h:5432/postgres"
    with pytest.raises(argparse.ArgumentError) as err:
        _parse(["--dsn", "mysql://u:pw123@h/db"])
    assert "pw123" not in str(err.value)


def test_environment_variables_are_validated_like_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    """BALANCE_BENCH_* variables are defaults that go through the same parser."""
    monkeypatch.setenv("BALANCE_BENCH_SEED", "7")
    monkeypatch.setenv("BALANCE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    cfg = config_from_namespace(_parse([]))
    assert cfg.seed == 7 and cfg.redis_url == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("BALANCE_BENCH_SEED", "-3")
    with pytest.raises((argparse.ArgumentError, BenchError)):
        config_from_namespace(_parse([]))


def test_external_redis_gets_a_prefix_and_refuses_an_empty_one() -> None:
    """External Redis keys are prefixed by default; an explicit empty prefix is refused."""
    cfg = config_from_namespace(_parse(["--redis-url", "redis://127.0.0.1:6379/0"]))
    assert cfg.redis_prefix == DEFAULT_EXTERNAL_REDIS_PREFIX
    with pytest.raises(BenchError, match="non-empty --redis-prefix"):
        config_from_namespace(_parse(["--redis-url", "redis://127.0.0.1:6379/0", "--redis-prefix", ""]))


def test_quick_means_tiny_and_rows_means_custom_scale() -> None:
    """--quick selects tiny; --rows N builds a custom scale of N balances."""
    assert config_from_namespace(_parse(["--quick"])).scale_names == ("tiny",)
    (scale,) = config_from_namespace(_parse(["--rows", "5000"])).scales
    assert scale.balances == 5000 and scale.users < 5000


def test_describe_never_contains_a_password() -> None:
    """The config's saved description redacts the URLs."""
    cfg = config_from_namespace(_parse(["--dsn", "postgresql://u:secretpw@h/postgres",
                                        "--redis-url", "redis://:redispw@h:6379/0"]))
    assert "secretpw" not in str(cfg.describe()) and "redispw" not in str(cfg.describe())


def test_a_replica_dsn_is_a_postgres_url_of_an_external_primary() -> None:
    """--replica-dsn is normalised like --dsn, needs --dsn beside it, and is redacted in the description."""
    cfg = config_from_namespace(_parse(["--dsn", "postgres://u@primary/postgres",
                                        "--replica-dsn", "postgres://u:replpw@standby/postgres"]))
    assert cfg.replica_dsn == "postgresql+psycopg://u:replpw@standby/postgres"
    assert "replpw" not in str(cfg.describe()) and cfg.describe()["replica_dsn"] is not None
    assert config_from_namespace(_parse([])).replica_dsn is None
    with pytest.raises(BenchError, match="pass that server as --dsn"):
        config_from_namespace(_parse(["--replica-dsn", "postgres://u@standby/postgres"]))
    with pytest.raises(argparse.ArgumentError, match="not a PostgreSQL URL"):
        _parse(["--replica-dsn", "redis://standby"])


def test_experiments_are_named_by_the_registry_in_its_order() -> None:
    """--experiments takes names (any order, spaces allowed) or all, and keeps the registry's order; default none."""
    from balance_bench.bench.experiments.registry import EXPERIMENTS

    assert config_from_namespace(_parse([])).experiments == ()
    assert config_from_namespace(_parse(["--experiments", "replica, pagination"])).experiments == (
        "pagination", "replica")
    assert config_from_namespace(_parse(["--experiments", "all"])).experiments == tuple(EXPERIMENTS)
    assert config_from_namespace(_parse(["--experiments", "guide_table,antipattern"])).experiments == (
        "antipattern", "guide_table")
    assert config_from_namespace(_parse(["--experiments", "pagination"])).describe()["experiments"] == ["pagination"]


@pytest.mark.parametrize(("value", "message"), [
    ("nope", "unknown experiment 'nope'; known: pagination"),
    ("pagination,Replica", "unknown experiment 'Replica'"),
    ("", "needs 'all' or at least one experiment name"),
    (" , ", "needs 'all' or at least one experiment name"),
    ("guide_table", "guide_table times nothing on its own"),
])
def test_bad_experiment_names_are_refused_as_parsed(value: str, message: str) -> None:
    """Unknown names, an empty list and the guide's table alone (nothing to time) are refused by the parser."""
    with pytest.raises(argparse.ArgumentError, match=message):
        _parse(["--experiments", value])


def test_the_experiments_environment_variable_goes_through_the_same_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """BALANCE_BENCH_EXPERIMENTS selects like the flag, and a bad value is the same one-line refusal."""
    monkeypatch.setenv("BALANCE_BENCH_EXPERIMENTS", "warming")
    assert config_from_namespace(_parse([])).experiments == ("warming",)
    monkeypatch.setenv("BALANCE_BENCH_EXPERIMENTS", "warmup")
    with pytest.raises((argparse.ArgumentError, BenchError), match="unknown experiment 'warmup'"):
        config_from_namespace(_parse([]))


@pytest.mark.parametrize("value", ["0", "60", "3600", "12.5"])
def test_a_top_up_budget_is_seconds_from_zero_to_an_hour(value: str) -> None:
    """--top-up takes seconds, both ends of the range included."""
    assert config_from_namespace(_parse(["--top-up", value])).top_up_s == float(value)


@pytest.mark.parametrize(("value", "message"), [("-1", "between 0 and 3600"), ("3600.5", "between 0 and 3600"),
                                                ("nan", "between 0 and 3600"), ("soon", "takes seconds")])
def test_a_top_up_budget_outside_the_range_or_not_a_number_is_refused_as_parsed(value: str, message: str) -> None:
    """Just below zero, just above an hour, nan and a word: one message each, before anything runs."""
    with pytest.raises(argparse.ArgumentError, match=message):
        _parse(["--top-up", value])


def test_without_top_up_the_config_leaves_the_budget_to_the_runner() -> None:
    """None until a runner decides it (run: 60 s, --quick: 0)."""
    assert config_from_namespace(_parse([])).top_up_s is None
