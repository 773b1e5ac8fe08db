"""Network profiles: what a call would cost over a network, projected from local timings and its exact traffic.

A run measures over a local socket; the guide's figures include a network hop.
A profile says what the hop to each server costs, and a case's projected
latency is

    projected = measured + round trips x RTT + bytes / bandwidth      (per server, PostgreSQL and Redis)

with the case's round trips and bytes per call counted from its real traffic
(``bench/traffic.py``, recorded in ``summary.json``). Request and answer are
serialised one after the other, so both directions' bytes count. This is a
projection: it adds no queueing, TCP slow start or server contention.

Named profiles (round numbers, chosen to be typical rather than measured here;
use a custom profile for your own network):

* ``local``: as measured, nothing added.
* ``same-zone``: RTT 0.5 ms, 10 Gbit/s. Clients and servers in one cloud
  availability zone see round trips of a few tenths of a millisecond; 0.5 ms is
  also about the guide's own warm-cache figure for a single Redis GET
  ("~0.5-1ms"), which is little more than one round trip. 10 Gbit/s is a common
  instance network bandwidth.
* ``cross-zone``: RTT 1.5 ms, 5 Gbit/s. AWS describes the links between the
  availability zones of a region as "single-digit millisecond" latency; about
  1-2 ms is what is usually seen. A lower bandwidth for a longer, shared path.

Custom: ``rtt=0.8ms,bw=1gbit`` (both servers) or
``pg:rtt=0.8ms,bw=1gbit;redis:rtt=0.3ms`` (each server; one left out gets
nothing added). RTT in ``us``, ``ms`` or ``s``; bandwidth in ``kbit``, ``mbit``
or ``gbit`` (per second, SI); a missing bandwidth adds no transfer time.
``--network`` takes profiles separated by commas: a run of ``key=value`` items
is one custom profile, and a key given twice for the same server starts the
next one.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from balance_bench.errors import BenchError
from balance_bench.results import ServerTraffic, Traffic

__all__ = ["Link", "Profile", "PROFILES", "LOCAL", "DEFAULT_PROFILES", "FORMULA", "parse_profiles", "added_ms",
           "projected_ms", "projected_trials", "is_local_server"]

FORMULA = "projected = measured + round trips x RTT + bytes / bandwidth, per server (PostgreSQL and Redis)"
SERVERS = ("pg", "redis")


@dataclass(frozen=True)
class Link:
    """The hop to one server: round-trip time and bandwidth (None: transfer time not counted)."""

    rtt_ms: float = 0.0
    bandwidth_bps: float | None = None

    def added_ms(self, traffic: ServerTraffic) -> float:
        """What this hop adds to one call with ``traffic``."""
        transfer = 0.0 if self.bandwidth_bps is None else traffic.bytes * 8 / self.bandwidth_bps * 1000.0
        return traffic.round_trips * self.rtt_ms + transfer

    def describe(self) -> str:
        if not self.rtt_ms and self.bandwidth_bps is None:
            return "nothing added"
        bw = "unlimited" if self.bandwidth_bps is None else _bandwidth_text(self.bandwidth_bps)
        return f"RTT {self.rtt_ms:g} ms, {bw}"


@dataclass(frozen=True)
class Profile:
    """A named network: the hop to PostgreSQL and the hop to Redis, and where its numbers come from."""

    name: str
    pg: Link
    redis: Link
    basis: str = "custom"

    @property
    def is_local(self) -> bool:
        return self.pg == Link() and self.redis == Link()

    def describe(self) -> str:
        if self.pg == self.redis:
            return f"both servers: {self.pg.describe()}"
        return f"PostgreSQL: {self.pg.describe()}; Redis: {self.redis.describe()}"


_GBIT = 1e9
LOCAL = Profile("local", Link(), Link(), "as measured: nothing added")
PROFILES: Mapping[str, Profile] = {p.name: p for p in (
    LOCAL,
    Profile("same-zone", Link(0.5, 10 * _GBIT), Link(0.5, 10 * _GBIT),
            "typical round trip within one availability zone, about the guide's own Redis GET; 10 Gbit/s NIC"),
    Profile("cross-zone", Link(1.5, 5 * _GBIT), Link(1.5, 5 * _GBIT),
            "AWS: 'single-digit millisecond' between the zones of a region, about 1-2 ms in practice; 5 Gbit/s"),
)}
DEFAULT_PROFILES = "same-zone,cross-zone"

_RTT_UNITS = {"us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0}
_BW_UNITS = {"bit": 1.0, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
_ITEM = re.compile(r"^(?:(?P<server>[a-z]+):)?(?P<key>[a-z]+)=(?P<value>.+)$")
_NUMBER = re.compile(r"^(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-zµ]+)$")


def _bandwidth_text(bps: float) -> str:
    for unit, size in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= size:
            return f"{bps / size:g} {unit}"
    return f"{bps:g} bit/s"


def _quantity(text: str, units: Mapping[str, float], what: str, example: str) -> float:
    match = _NUMBER.match(text.strip().lower())
    if match is None or match["unit"] not in units:
        raise BenchError(f"--network: {what} {text!r} needs a number and a unit ({', '.join(units)}), e.g. {example}")
    value = float(match["number"]) * units[match["unit"]]
    if not math.isfinite(value):
        raise BenchError(f"--network: {what} {text!r} is not a finite number")
    return value


def _custom(items: list[tuple[tuple[str, ...], str, str]], text: str) -> Profile:
    links: dict[str, dict[str, float]] = {server: {} for server in SERVERS}
    for servers, key, value in items:
        for server in servers:
            if key == "rtt":
                links[server]["rtt_ms"] = _quantity(value, _RTT_UNITS, "rtt", "rtt=0.8ms")
            else:
                bandwidth = _quantity(value, _BW_UNITS, "bw", "bw=1gbit")
                if bandwidth <= 0:
                    raise BenchError(f"--network: bw {value!r} must be above zero")
                links[server]["bandwidth_bps"] = bandwidth
    pg, redis = (Link(**links[server]) for server in SERVERS)
    return Profile(text, pg, redis)


def _items(token: str, scope: tuple[str, ...]) -> list[tuple[tuple[str, ...], str, str]]:
    """``(servers, key, value)`` of one comma-separated token; an unprefixed first item keeps ``scope``."""
    items = []
    for position, part in enumerate(token.split(";")):
        match = _ITEM.match(part.strip().lower())
        if match is None:
            raise BenchError(f"--network: {part.strip()!r} is not key=value (rtt=0.8ms, bw=1gbit, pg:rtt=...)")
        if match["server"] is not None:
            if match["server"] not in SERVERS:
                raise BenchError(f"--network: unknown server {match['server']!r} in {part.strip()!r}; "
                                 "use pg: or redis:")
            scope = (match["server"],)
        elif position > 0:
            scope = SERVERS  # after a ';' a section without a server applies to both
        if match["key"] not in ("rtt", "bw"):
            raise BenchError(f"--network: unknown setting {match['key']!r} in {part.strip()!r}; use rtt or bw")
        items.append((scope, match["key"], match["value"]))
    return items


def parse_profiles(text: str) -> tuple[Profile, ...]:
    """The profiles named in ``text`` (see the module's docstring); a BenchError line for anything else."""
    profiles: list[Profile] = []
    pending: list[tuple[tuple[str, ...], str, str]] = []
    pending_text: list[str] = []
    seen: set[tuple[str, str]] = set()

    def finish() -> None:
        if pending:
            profiles.append(_custom(list(pending), ",".join(pending_text)))
            pending.clear()
            pending_text.clear()
            seen.clear()

    for token in (t.strip() for t in text.split(",")):
        if not token:
            raise BenchError(f"--network {text!r}: an empty profile name")
        if "=" not in token:
            finish()
            if token.lower() not in PROFILES:
                raise BenchError(f"--network: unknown profile {token!r}; known: {', '.join(PROFILES)}, "
                                 "or custom like rtt=0.8ms,bw=1gbit or pg:rtt=0.8ms;redis:rtt=0.3ms")
            profiles.append(PROFILES[token.lower()])
            continue
        items = _items(token, pending[-1][0] if pending else SERVERS)
        if any((server, key) in seen for servers, key, _ in items for server in servers):
            finish()  # a setting given again: the next custom profile, whose first items apply to both servers
            items = _items(token, SERVERS)
        for servers, key, value in items:
            seen.update((server, key) for server in servers)
            pending.append((servers, key, value))
        pending_text.append(token)
    finish()
    return tuple(dict.fromkeys(profiles))


def added_ms(traffic: Traffic, profile: Profile) -> float:
    """Milliseconds ``profile`` adds to one call with ``traffic``."""
    return profile.pg.added_ms(traffic.postgres) + profile.redis.added_ms(traffic.redis)


def projected_ms(measured_ms: float, traffic: Traffic, profile: Profile) -> float:
    """The measured latency with ``profile``'s network added."""
    return measured_ms + added_ms(traffic, profile)


def projected_trials(trial_medians_ms: Mapping[int, float], traffic: Traffic, profile: Profile) -> dict[int, float]:
    """Each trial's median with the network added, so ratios are still formed within each trial."""
    extra = added_ms(traffic, profile)
    return {trial: value + extra for trial, value in trial_medians_ms.items()}


def is_local_server(described: str) -> bool:
    """Whether a server as the run's environment names it (``embedded`` or a URL) is on this machine.

    No host (embedded, a unix socket, or a libpq ``host=/socket/dir``) and loopback addresses are local;
    anything else, including a host name other than ``localhost``, is not.
    """
    parts = urlsplit(described)
    host = parts.hostname or (parse_qs(parts.query).get("host") or [""])[0]
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
