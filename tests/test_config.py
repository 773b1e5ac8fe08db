"""Options are parsed and validated once, from flags or environment, into one Config."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from balance_bench.config import (
    DEFAULT_EXTERNAL_REDIS_PREFIX,
    DEFAULT_SEED,
    OPTIONS,
    Config,
    add_options,
    config_from_namespace,
)
from balance_bench.errors import BenchError
from tests.conftest import run_cli


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


def test_experiments_are_split_as_given_and_judged_elsewhere() -> None:
    """--experiments takes names (spaces allowed, repeats dropped) or all; config only splits them, so an unknown
    name passes here (the registry, in the bench layer, judges it); default none."""
    assert config_from_namespace(_parse([])).experiments == ()
    assert config_from_namespace(_parse(["--experiments", "replica, pagination,replica"])).experiments == (
        "replica", "pagination")
    assert config_from_namespace(_parse(["--experiments", "pagination,all"])).experiments == ("all",)
    assert config_from_namespace(_parse(["--experiments", "nope"])).experiments == ("nope",)
    assert config_from_namespace(_parse(["--experiments", "pagination"])).describe()["experiments"] == ["pagination"]


@pytest.mark.parametrize("value", ["", " , "])
def test_an_empty_experiment_list_is_refused_as_parsed(value: str) -> None:
    """No name at all is refused by the parser, before any registry is asked."""
    with pytest.raises(argparse.ArgumentError, match="needs 'all' or at least one experiment name"):
        _parse(["--experiments", value])


def test_the_experiments_environment_variable_goes_through_the_same_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """BALANCE_BENCH_EXPERIMENTS selects like the flag, and an empty list is the same one-line refusal."""
    monkeypatch.setenv("BALANCE_BENCH_EXPERIMENTS", "warming")
    assert config_from_namespace(_parse([])).experiments == ("warming",)
    monkeypatch.setenv("BALANCE_BENCH_EXPERIMENTS", " , ")
    with pytest.raises(BenchError, match=r"^\$BALANCE_BENCH_EXPERIMENTS: --experiments needs 'all'"):
        config_from_namespace(_parse([]))


def test_config_imports_nothing_of_the_bench_layer() -> None:
    """The core never imports bench (it once imported the experiments' registry: config -> bench -> fixtures ->
    config, a cycle); the registry's check of --experiments lives in the bench layer."""
    code = ("import sys, balance_bench.config; "
            "print(sorted(m for m in sys.modules if m.startswith(('balance_bench.bench', 'balance_bench.fixtures'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert proc.stdout.strip() == "[]"


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


def _without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for option in OPTIONS:
        if option.env:
            monkeypatch.delenv(option.env, raising=False)


def test_every_option_shows_its_environment_variable_and_default_in_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """--help lists every declared option with the variable and default its declaration gives, written by nobody."""
    monkeypatch.setenv("COLUMNS", "200")
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument)
    text = " ".join(parser.format_help().split())
    for option in OPTIONS:
        assert option.flag in text
        if option.env:
            assert f"(env {option.env}" in text, option.flag
            assert text.count(option.env) == 1, f"{option.env} is typed again in the help of {option.flag}"
        if option.default:
            assert f"default {option.default})" in text, option.flag
    assert f"(env BALANCE_BENCH_SEED; default {DEFAULT_SEED})" in text


def test_each_config_field_is_set_by_its_declared_option() -> None:
    """Every field has one option of its own (named as it likes: --top-up sets top_up_s); --rows only through the
    rules; and the commands' option names all exist."""
    own = {o.field: o.flag for o in OPTIONS if o.field is not None}
    assert list(own) == [f.name for f in dataclasses.fields(Config)]
    assert own["top_up_s"] == "--top-up" and own["scales"] == "--scale"
    assert [o.flag for o in OPTIONS if o.field is None] == ["--rows"]
    with pytest.raises(ValueError, match="no such option: top_up_s"):
        add_options(argparse.ArgumentParser().add_argument, ["seed", "top_up_s"])


def test_the_fields_defaults_are_the_declared_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Config() and the options with nothing given (and no environment) agree: the defaults are typed once."""
    _without_environment(monkeypatch)
    assert config_from_namespace(_parse([])) == Config()
    assert config_from_namespace(argparse.Namespace()) == Config()  # a command that takes no option at all


def test_describe_keeps_the_artifacts_keys_and_values() -> None:
    """Run artifacts keep their shape: the same keys in the same order, servers "embedded", no paths."""
    assert Config(cache_dir=Path("/nowhere")).describe() == {
        "dsn": "embedded", "redis_url": "embedded", "redis_prefix": "", "scales": ["small"], "seed": 42,
        "quick": False, "trials": None, "top_up_s": None, "order_seed": None, "replica_dsn": None, "cpu": "auto",
        "experiments": [], "network": ["same-zone", "cross-zone"]}
    assert list(Config().describe()) == ["dsn", "redis_url", "redis_prefix", "scales", "seed", "quick", "trials",
                                         "top_up_s", "order_seed", "replica_dsn", "cpu", "experiments", "network"]


@pytest.mark.parametrize(("argv", "key"), [
    (["--dsn", "postgresql://u:s3cret@h/postgres"], "dsn"),
    (["--redis-url", "redis://:s3cret@h:6379/0"], "redis_url"),
    (["--dsn", "postgresql://u@h/postgres", "--replica-dsn", "postgresql://u:s3cret@standby/postgres"],
     "replica_dsn"),
])
def test_describe_redacts_the_password_of_each_server_url(argv: list[str], key: str) -> None:
    """Each URL option's description is the URL with its password as ***."""
    described = config_from_namespace(_parse(argv)).describe()
    assert "s3cret" not in str(described) and "***" in described[key]


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("BALANCE_BENCH_SEED", "-3", "expected a number >= 0, got -3"),
    ("BALANCE_BENCH_DSN", "mysql://u:pw123@h/db", "not a PostgreSQL URL: mysql://u:***@h/db"),
    ("BALANCE_BENCH_SCALE", "huge", "unknown scale 'huge'"),
    ("BALANCE_BENCH_TOP_UP", "soon", "--top-up takes seconds"),
])
def test_a_bad_environment_variable_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch, variable: str,
                                                          value: str, message: str) -> None:
    """An environment default goes through the option's parser; a bad one is one BenchError line naming $VAR."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(BenchError) as err:
        config_from_namespace(_parse([]))
    text = str(err.value)
    assert text.startswith(f"${variable}: ") and message in text and "\n" not in text and "pw123" not in text


def test_an_environment_variable_counts_only_where_its_option_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command without --seed keeps the declared default, whatever BALANCE_BENCH_SEED says."""
    monkeypatch.setenv("BALANCE_BENCH_SEED", "-3")
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument, ["network"])
    assert config_from_namespace(parser.parse_args([])).seed == DEFAULT_SEED


@pytest.mark.slow
def test_the_cli_refuses_a_bad_environment_variable_in_one_line(tmp_path: Path) -> None:
    """`BALANCE_BENCH_SEED=-3 balance-bench seed`: one line naming the variable, exit 2, before any server."""
    proc = run_cli("seed", "--cache-dir", str(tmp_path), env={**os.environ, "BALANCE_BENCH_SEED": "-3"}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == ["balance-bench: error: $BALANCE_BENCH_SEED: expected a number >= 0, got -3"]
    assert list(tmp_path.iterdir()) == []


SOURCE_URL = "postgresql://me:s3cret@db.example/prod"


def test_from_takes_a_postgres_url_and_its_sample_and_map(tmp_path: Path) -> None:
    """--from, --sample and --source-map land on the Config; the run artifacts' config record gains nothing (the
    copied dataset records its source), so no password either."""
    (tmp_path / "map.toml").write_text('[columns.balances]\namount = "bal"\n', encoding="utf-8")
    cfg = config_from_namespace(_parse(["--from", SOURCE_URL, "--sample", "0.25", "--source-map",
                                        str(tmp_path / "map.toml")]))
    assert cfg.source == "postgresql+psycopg://me:s3cret@db.example/prod" and cfg.sample == 0.25
    assert cfg.source_map is not None and cfg.source_map.column("balances", "amount") == "bal"
    assert list(cfg.describe()) == list(Config().describe()) and "s3cret" not in str(cfg.describe())
    assert config_from_namespace(_parse(["--from", SOURCE_URL])).sample == 1.0


@pytest.mark.parametrize("value", ["0", "-0.5", "1.01", "nan", "inf", "half"])
def test_a_sample_outside_zero_to_one_is_refused_as_parsed(value: str) -> None:
    """A share of the users is more than 0 and at most 1; anything else is one line naming --sample."""
    with pytest.raises(argparse.ArgumentError, match=r"--sample (must be more than 0 and at most 1|takes a fraction)"):
        _parse(["--from", SOURCE_URL, "--sample", value])


def test_a_bad_source_map_is_refused_as_parsed(tmp_path: Path) -> None:
    """The map is read with the options: a malformed one is refused before any server starts."""
    (tmp_path / "map.toml").write_text("[tables\n", encoding="utf-8")
    with pytest.raises(argparse.ArgumentError, match="not valid TOML"):
        _parse(["--from", SOURCE_URL, "--source-map", str(tmp_path / "map.toml")])


@pytest.mark.parametrize(("argv", "message"), [
    (["--sample", "0.5"], "--sample says how to copy with --from URL: add --from"),
    (["--from", SOURCE_URL, "--rows", "100"], "--from benchmarks a copy of your data, --rows a generated scale"),
    (["--from", SOURCE_URL, "--experiments", "warming"], "--from benchmarks a copy of your data, --experiments "),
])
def test_from_and_its_companions_refuse_what_contradicts_them(argv: list[str], message: str) -> None:
    """--from replaces --scale but not --rows or --experiments; --sample without --from would be ignored: one line."""
    with pytest.raises(BenchError, match=f"^{re.escape(message)}") as err:
        config_from_namespace(_parse(argv))
    assert "\n" not in str(err.value) and "s3cret" not in str(err.value)
