"""Network profiles: named and custom profiles parsed or refused in one line, and the projection's arithmetic."""

from __future__ import annotations

import argparse

import pytest

from balance_bench.config import add_options, config_from_namespace
from balance_bench.errors import BenchError
from balance_bench.network import (
    LOCAL,
    PROFILES,
    Link,
    Profile,
    added_ms,
    is_local_server,
    parse_profiles,
    projected_ms,
    projected_trials,
)
from balance_bench.results import ServerTraffic, Traffic
from tests.conftest import run_cli

GBIT = 1e9


def _links(text: str) -> list[tuple[str, Link, Link]]:
    return [(p.name, p.pg, p.redis) for p in parse_profiles(text)]


def test_named_profiles_are_the_documented_numbers() -> None:
    """local adds nothing; same-zone is 0.5 ms and 10 Gbit/s; cross-zone 1.5 ms and 5 Gbit/s; names ignore case."""
    assert _links("local,same-zone,Cross-Zone") == [
        ("local", Link(), Link()),
        ("same-zone", Link(0.5, 10 * GBIT), Link(0.5, 10 * GBIT)),
        ("cross-zone", Link(1.5, 5 * GBIT), Link(1.5, 5 * GBIT)),
    ]
    assert LOCAL.is_local and not PROFILES["same-zone"].is_local
    assert all(p.basis for p in PROFILES.values())


@pytest.mark.parametrize(("text", "expected"), [
    ("rtt=0.8ms,bw=1gbit", [("rtt=0.8ms,bw=1gbit", Link(0.8, GBIT), Link(0.8, GBIT))]),
    ("rtt=800us", [("rtt=800us", Link(0.8), Link(0.8))]),
    ("rtt=0.002s,bw=100mbit", [("rtt=0.002s,bw=100mbit", Link(2.0, 1e8), Link(2.0, 1e8))]),
    ("pg:rtt=0.8ms,bw=1gbit;redis:rtt=0.3ms",
     [("pg:rtt=0.8ms,bw=1gbit;redis:rtt=0.3ms", Link(0.8, GBIT), Link(0.3))]),
    ("redis:rtt=1ms", [("redis:rtt=1ms", Link(), Link(1.0))]),
    ("pg:rtt=1ms;bw=1gbit", [("pg:rtt=1ms;bw=1gbit", Link(1.0, GBIT), Link(0.0, GBIT))]),  # after ';': both
    ("pg:rtt=1ms,bw=1gbit", [("pg:rtt=1ms,bw=1gbit", Link(1.0, GBIT), Link())]),  # after ',': still pg
    ("bw=0.5bit", [("bw=0.5bit", Link(0.0, 0.5), Link(0.0, 0.5))]),
    ("local,rtt=1ms,rtt=2ms,same-zone", [("local", Link(), Link()), ("rtt=1ms", Link(1.0), Link(1.0)),
                                         ("rtt=2ms", Link(2.0), Link(2.0)),
                                         ("same-zone", Link(0.5, 10 * GBIT), Link(0.5, 10 * GBIT))]),
    ("same-zone,same-zone", [("same-zone", Link(0.5, 10 * GBIT), Link(0.5, 10 * GBIT))]),
])
def test_custom_profiles_parse_per_server_and_in_runs(text: str, expected: list[tuple[str, Link, Link]]) -> None:
    """Custom profiles: units, per-server sections, a repeated setting starting the next profile, duplicates once."""
    assert _links(text) == expected


RTT_UNITS = "needs a number and a unit (us, µs, ms, s), e.g. rtt=0.8ms"
BW_UNITS = "needs a number and a unit (bit, kbit, mbit, gbit), e.g. bw=1gbit"


@pytest.mark.parametrize(("text", "message"), [
    ("moon", "--network: unknown profile 'moon'; known: local, same-zone, cross-zone, or custom like "
             "rtt=0.8ms,bw=1gbit or pg:rtt=0.8ms;redis:rtt=0.3ms"),
    ("local,,same-zone", "--network 'local,,same-zone': an empty profile name"),
    ("rtt=fast", f"--network: rtt 'fast' {RTT_UNITS}"),
    ("rtt=5", f"--network: rtt '5' {RTT_UNITS}"),
    ("rtt=1parsec", f"--network: rtt '1parsec' {RTT_UNITS}"),
    (f"rtt=1{'0' * 400}ms", f"--network: rtt '1{'0' * 400}ms' is not a finite number"),
    ("bw=0gbit", "--network: bw '0gbit' must be above zero"),
    ("bw=10gb", f"--network: bw '10gb' {BW_UNITS}"),
    ("jitter=1ms", "--network: unknown setting 'jitter' in 'jitter=1ms'; use rtt or bw"),
    ("mysql:rtt=1ms", "--network: unknown server 'mysql' in 'mysql:rtt=1ms'; use pg: or redis:"),
    ("rtt=1ms;oops", "--network: 'oops' is not key=value (rtt=0.8ms, bw=1gbit, pg:rtt=...)"),
])
def test_bad_profiles_are_one_line_naming_the_problem(text: str, message: str) -> None:
    """Each malformed profile is refused with one line saying what is wrong, word for word."""
    with pytest.raises(BenchError) as info:
        parse_profiles(text)
    assert str(info.value) == message


@pytest.mark.parametrize(("link", "text"), [
    (Link(), "nothing added"),
    (Link(0.5, 10 * GBIT), "RTT 0.5 ms, 10 Gbit/s"),
    (Link(0.0, GBIT), "RTT 0 ms, 1 Gbit/s"),  # a bandwidth alone still adds transfer time
    (Link(1.0), "RTT 1 ms, unlimited"),
    (Link(1.0, 999e6), "RTT 1 ms, 999 Mbit/s"),
    (Link(1.0, 1e6), "RTT 1 ms, 1 Mbit/s"),
    (Link(1.0, 1500), "RTT 1 ms, 1.5 kbit/s"),
    (Link(1.0, 999), "RTT 1 ms, 999 bit/s"),
])
def test_links_describe_themselves_in_the_units_a_reader_uses(link: Link, text: str) -> None:
    """The report's profile table: RTT in ms and the largest whole bandwidth unit, or "nothing added"."""
    assert link.describe() == text


def test_profiles_describe_both_servers_at_once_or_each() -> None:
    """One description when both hops are the same, else PostgreSQL's and Redis's."""
    assert PROFILES["same-zone"].describe() == "both servers: RTT 0.5 ms, 10 Gbit/s"
    assert Profile("x", Link(0.8), Link()).describe() == "PostgreSQL: RTT 0.8 ms, unlimited; Redis: nothing added"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_options(parser.add_argument, ["network"])
    return parser.parse_args(argv)


def test_the_option_defaults_to_same_and_cross_zone_and_is_validated_as_parsed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """--network defaults to same-zone,cross-zone; a bad flag or BALANCE_BENCH_NETWORK is refused as parsed."""
    assert [p.name for p in config_from_namespace(_parse([])).network] == ["same-zone", "cross-zone"]
    assert [p.name for p in config_from_namespace(_parse(["--network", "local"])).network] == ["local"]
    with pytest.raises(argparse.ArgumentError, match="unknown profile 'moon'"):
        _parse(["--network", "moon"])
    monkeypatch.setenv("BALANCE_BENCH_NETWORK", "rtt=fast")
    with pytest.raises((argparse.ArgumentError, BenchError), match="needs a number and a unit"):
        config_from_namespace(_parse([]))


@pytest.mark.parametrize("command", ["report", "run"])
def test_the_cli_refuses_a_bad_profile_with_exit_2_before_doing_anything(command: str, tmp_path: object) -> None:
    """``run`` and ``report`` exit 2 on a bad --network, the last line naming it, with no traceback."""
    args = [command, "--network", "rtt=fast"] + ([str(tmp_path)] if command == "report" else [])
    proc = run_cli(*args, timeout=60)
    assert proc.returncode == 2
    assert "needs a number and a unit" in proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr


TRAFFIC = Traffic(calls=3, postgres=ServerTraffic(1, 51, 14_800),
                  redis=ServerTraffic(3, 13_829, 30, commands=3))


def test_projection_adds_round_trips_times_rtt_and_bytes_over_bandwidth_per_server() -> None:
    """Worked by hand: PG 1 x 0.8 + 14,851 B x 8 / 1 Gbit/s; Redis 3 x 0.3 + 13,859 B x 8 / 10 Gbit/s (in ms)."""
    profile = Profile("x", Link(0.8, GBIT), Link(0.3, 10 * GBIT))
    pg = 0.8 + 14_851 * 8 / 1e9 * 1000  # 0.8 + 0.118808
    cache = 0.9 + 13_859 * 8 / 1e10 * 1000  # 0.9 + 0.0110872
    assert added_ms(TRAFFIC, profile) == pytest.approx(pg + cache, abs=1e-12)
    assert projected_ms(0.5, TRAFFIC, profile) == pytest.approx(0.5 + 1.8298952, abs=1e-9)
    assert projected_ms(0.5, TRAFFIC, LOCAL) == 0.5
    assert added_ms(TRAFFIC, Profile("rtt only", Link(2.0), Link(2.0))) == 8.0  # no bandwidth: no transfer time
    assert projected_trials({1: 0.5, 2: 0.7}, TRAFFIC, Profile("r", Link(1.0), Link())) == {1: 1.5, 2: 1.7}


@pytest.mark.parametrize(("described", "local"), [
    ("embedded", True),
    ("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", True),
    ("postgresql://u:***@/db?host=/tmp/sock", True),
    ("postgresql://u@[::1]:5432/x", True),
    ("redis://localhost:6379/0", True),
    ("unix:///tmp/redis.sock", True),
    ("redis://10.0.0.5:6379/0", False),
    ("postgresql://u@db.internal:5432/x", False),
    ("postgresql://u@/x?host=10.0.0.5", False),  # libpq's host parameter names a network host
    ("postgresql://u@/x?host=localhost", True),
])
def test_servers_on_this_machine_are_told_from_remote_ones(described: str, local: bool) -> None:
    """Embedded, unix sockets and loopback are local; another address or host name is remote."""
    assert is_local_server(described) is local
