"""The guide's Redis cache: its keys and TTLs, read-through with a race-free fill, invalidation, hit/miss counters.

Keys (under ``prefix``) and TTLs, one table (``FAMILIES``)::

    by_id          balance:id:{id}                          5 min   find_by_id
    by_user        balance:user:{user_id}                   1 min   find_by_user_id
    by_user_token  balance:user:{user_id}:token:{token_id}  5 min   find_by_user_id_and_token_id
    total          balance:total                            2 min   total_balance
    total_by_user  balance:total:user:{user_id}             2 min   total_balance_by_user

``get_by_user``, ``find_by_address`` and ``find_by_token_id`` are not cached (the guide does not).
Absent rows (``None``) are not cached; empty lists and zero totals are.

The read-through race (a reader misses and reads the old row, a writer commits
and invalidates, the reader then stores the old row for a whole TTL) is prevented
with fill tokens, a lease scheme:

1. on a miss the reader gets the key's fill token, ``{prefix}fill:{key}``, creating
   a random one if there is none (Lua, atomic), and only then reads the database;
2. invalidation deletes the data key and its fill token in one ``DEL``;
3. the reader stores its value only if the fill token is still the one it got
   (Lua: compare, then ``SET ... PX ttl``).

Any invalidation between steps 1 and 3 deletes the token, so the fill is
rejected; any write that committed before step 1 is visible to the read, which
starts after it. So while Redis is reachable no fill ever stores a value older
than the last invalidation. Tokens live 30 s (``FILL_TOKEN_TTL_MS``): a database
read slower than that just skips its fill. Tokens are random, so an expired and
recreated token never matches an old one. What remains is inherent to
invalidate-after-commit: between a write's commit and its ``DEL`` (one round
trip) readers may still get the previous value.

With a read replica a miss may load a value the replica has not caught up on
(see ``routing``). ``recent_write_ms`` makes invalidation also leave a marker
``{prefix}recent:{key}`` for that long (in the same atomic script as the ``DEL``),
and a miss that finds the marker loads with ``load_recent`` (the primary)
instead of ``load``. Off by default: invalidation is then the plain ``DEL``.

``fill=FillMode.GUIDE`` is the guide's cache as written, kept to be measured
beside ours and never the default: on a miss a plain ``GET``, the database read,
then ``SET key value EX ttl`` (same keys, same TTLs), and invalidation a plain
``DEL`` of the keys. Two round trips per miss instead of three, and the race above
is open: an invalidation landing between its read and its ``SET`` is undone by
the ``SET``, which stores the old value for a whole TTL.

Redis is an optimization, never a dependency: every Redis error is caught; the
call falls back to the database (reads) or remembers the keys it could not
invalidate (writes, which have already committed). The first failure logs one
warning and opens a breaker: Redis is then skipped for ``retry_interval_s``, after
which one call probes it (PING), replays the remembered invalidations, and on
success logs one "back" message. No fill is stored while invalidations may be
pending. A value another process could not invalidate,
or one this process forgot (more than ``MAX_UNSENT`` keys, or a restart), stays
stale for at most its key's TTL. Give the redis client a short ``socket_timeout``
and few retries: the breaker, not redis-py's retry loop, should absorb an outage.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

import redis

from balance_model.codec import Codec
from balance_model.queries import ALL_READS

__all__ = ["BalanceCache", "FillMode", "KeyFamily", "FamilyStats", "FAMILIES", "TTLS", "FILL_TOKEN_TTL_MS",
           "MAX_UNSENT"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class FillMode(StrEnum):
    """How a miss fills the cache: ours by fill token and compare-and-set, or the guide's plain SET."""

    TOKEN = "token"  # race-free: no fill survives an invalidation that landed while it read (the default)
    GUIDE = "guide"  # the guide as written: GET, database read, SET ... EX ttl; invalidation a plain DEL


@dataclass(frozen=True)
class KeyFamily:
    """One kind of cached value: the read it caches, the guide's key pattern and its TTL."""

    name: str
    query: str
    pattern: str
    ttl_s: int


FAMILIES: tuple[KeyFamily, ...] = (
    KeyFamily("by_id", "find_by_id", "balance:id:{id}", 5 * 60),
    KeyFamily("by_user", "find_by_user_id", "balance:user:{user_id}", 60),
    KeyFamily("by_user_token", "find_by_user_id_and_token_id", "balance:user:{user_id}:token:{token_id}", 5 * 60),
    KeyFamily("total", "total_balance", "balance:total", 2 * 60),
    KeyFamily("total_by_user", "total_balance_by_user", "balance:total:user:{user_id}", 2 * 60),
)
TTLS: Mapping[str, int] = MappingProxyType({f.name: f.ttl_s for f in FAMILIES})
"""Seconds each key family lives, by family name."""

FILL_TOKEN_TTL_MS = 30_000
MAX_UNSENT = 100_000
_FILL_NAMESPACE = "fill:"
_RECENT_NAMESPACE = "recent:"
_REDIS_ERRORS = (redis.RedisError, OSError)

# KEYS[1] fill token key; ARGV[1] a fresh random token, ARGV[2] token TTL (ms). Returns the current token.
_ENSURE_TOKEN = """
local token = redis.call('GET', KEYS[1])
if token then return token end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""
# As _ENSURE_TOKEN, and KEYS[2] the key's recent-write marker. Returns {token, 1 if the marker exists else 0}.
_ENSURE_TOKEN_RECENT = """
local recent = redis.call('EXISTS', KEYS[2])
local token = redis.call('GET', KEYS[1])
if token then return {token, recent} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {ARGV[1], recent}
"""
# KEYS: n data keys, their n fill token keys, their n marker keys; ARGV[1] n, ARGV[2] marker TTL (ms).
_INVALIDATE_MARKING = """
local n = tonumber(ARGV[1])
for i = 1, 2 * n, 1000 do redis.call('DEL', unpack(KEYS, i, math.min(i + 999, 2 * n))) end
for i = 2 * n + 1, 3 * n do redis.call('SET', KEYS[i], '1', 'PX', ARGV[2]) end
return n
"""
# KEYS[1] data key, KEYS[2] fill token key; ARGV[1] the reader's token, ARGV[2] value, ARGV[3] TTL (ms).
_FILL = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class FamilyStats:
    """Counters of one key family since the last reset.

    ``hits + misses + errors`` is the number of cached reads; ``errors`` are reads
    Redis did not serve because it failed or was being skipped after a failure.
    ``hit_rate = hits / (hits + misses)``, None before any lookup reached Redis.
    ``rejected_fills`` counts fills refused because the key was invalidated meanwhile.
    """

    hits: int
    misses: int
    errors: int
    rejected_fills: int
    hit_rate: float | None


_HIT, _MISS, _ERROR, _REJECTED = range(4)


class BalanceCache:
    """Read-through cache of the balance reads the guide caches, on a redis-py client (bytes responses)."""

    def __init__(self, client: redis.Redis, prefix: str = "", *, retry_interval_s: float = 1.0,
                 recent_write_ms: int | None = None, fill: FillMode = FillMode.TOKEN) -> None:
        if recent_write_ms is not None and recent_write_ms <= 0:
            raise ValueError(f"recent_write_ms must be positive, got {recent_write_ms}")
        if fill is FillMode.GUIDE and recent_write_ms is not None:
            raise ValueError("the guide's fill mode has no recent-write markers: recent_write_ms needs FillMode.TOKEN")
        self.fill = FillMode(fill)
        self._client = client
        self._prefix = prefix
        self._retry_interval_s = retry_interval_s
        self.recent_write_ms = recent_write_ms
        self._fill_prefix = prefix + _FILL_NAMESPACE
        self._recent_prefix = prefix + _RECENT_NAMESPACE
        literal_prefix = prefix.replace("{", "{{").replace("}", "}}")
        self._families: dict[str, tuple[KeyFamily, str, int]] = {
            f.query: (f, literal_prefix + f.pattern, f.ttl_s * 1000) for f in FAMILIES
        }
        self._counts: dict[str, list[int]] = {f.name: [0, 0, 0, 0] for f in FAMILIES}
        self._lock = threading.Lock()
        self._outage = False  # from the first failure to the next successful probe (for logging once)
        self._down_until = 0.0  # monotonic time of the next probe after a failure; 0 = Redis in use
        self._unsent: set[str] = set()
        self._ensure_token = client.register_script(_ENSURE_TOKEN)
        self._ensure_token_recent = client.register_script(_ENSURE_TOKEN_RECENT)
        self._invalidate_marking = client.register_script(_INVALIDATE_MARKING)
        self._fill = client.register_script(_FILL)

    @property
    def prefix(self) -> str:
        return self._prefix

    # ---- keys ----

    def key_for(self, query: str, **params: object) -> str | None:
        """The exact key read ``query`` uses for these arguments; None for reads the guide does not cache."""
        entry = self._families.get(query)
        if entry is None:
            if query in ALL_READS:
                return None
            raise ValueError(f"unknown read {query!r}")
        return entry[1].format(**params)

    def fill_key(self, key: str) -> str:
        """The fill-token key guarding data key ``key`` (same prefix, ``fill:`` in front of the guide's key)."""
        return self._fill_prefix + key[len(self._prefix):]

    def recent_key(self, key: str) -> str:
        """The recent-write marker of data key ``key`` (same prefix, ``recent:`` in front of the guide's key)."""
        return self._recent_prefix + key[len(self._prefix):]

    def keys_for_balance(self, id: int, user_id: int, token_id: int) -> tuple[str, ...]:
        """Every key a write to this balance can make stale: by id, its user's list, user+token, both totals."""
        ids = {"id": id, "user_id": user_id, "token_id": token_id}
        return tuple(pattern.format_map(ids) for _, pattern, _ in self._families.values())

    # ---- reads ----

    def read_through(self, query: str, params: Mapping[str, object], load: Callable[[], T | None],
                     codec: Codec[T], *, load_recent: Callable[[], T | None] | None = None) -> T | None:
        """``query``'s cached value, or ``load()``'s result stored for the family's TTL if nothing changed meanwhile.

        With ``recent_write_ms`` set and ``load_recent`` given, a miss on a key
        invalidated within the window loads with ``load_recent`` instead.
        """
        entry = self._families.get(query)
        if entry is None:
            return load()
        family, pattern, ttl_ms = entry
        counts = self._counts[family.name]
        if self._down_until and not self._available():
            self._count(counts, _ERROR)
            return load()
        key = pattern.format_map(params)
        fill_key = self.fill_key(key)
        token: Any = None  # the fill token a script returned (bytes), none in the guide's mode
        try:
            raw = self._client.get(key)
            if raw is not None:
                try:
                    value = codec.decode(raw)  # type: ignore[arg-type]  # decode_responses is off: bytes
                except (ValueError, TypeError, ArithmeticError):
                    pass  # another shape (other projection, older layout): a miss, overwritten below
                else:
                    self._count(counts, _HIT)
                    return value
            self._count(counts, _MISS)
            if self.fill is FillMode.GUIDE:
                pass  # no token: the guide's SET (below) stores whatever its read returned
            elif load_recent is not None and self.recent_write_ms is not None:
                token, recent = self._ensure_token_recent(keys=[fill_key, self.recent_key(key)],
                                                          args=[secrets.token_hex(8), FILL_TOKEN_TTL_MS])
                if recent:
                    load = load_recent
            else:
                token = self._ensure_token(keys=[fill_key], args=[secrets.token_hex(8), FILL_TOKEN_TTL_MS])
        except _REDIS_ERRORS as exc:
            self._failed(exc, counts)
            return load()
        if self.fill is FillMode.GUIDE:
            return self._guide_fill(key, load, codec, ttl_ms)
        loaded = load()
        # After a failure, an invalidation may still be unsent while this reader's token looks valid: no fill.
        if loaded is not None and not self._down_until:
            self._store(counts, key, fill_key, token, codec.encode(loaded), ttl_ms)
        return loaded

    def _guide_fill(self, key: str, load: Callable[[], T | None], codec: Codec[T], ttl_ms: int) -> T | None:
        """The guide's miss: read the database, then SET with the TTL, whatever happened meanwhile."""
        value = load()
        if value is not None and not self._down_until:
            try:
                self._client.set(key, codec.encode(value), ex=ttl_ms // 1000)
            except _REDIS_ERRORS as exc:
                self._failed(exc, None)
        return value

    def _store(self, counts: list[int], key: str, fill_key: str, token: bytes, raw: bytes, ttl_ms: int) -> None:
        try:
            stored = self._fill(keys=[key, fill_key], args=[token, raw, ttl_ms])
        except _REDIS_ERRORS as exc:
            self._failed(exc, None)
            return
        if not stored:
            self._count(counts, _REJECTED)

    # ---- invalidation ----

    def invalidate(self, keys: Iterable[str]) -> None:
        """Delete ``keys`` and their fill tokens in one command; remembered for replay if Redis is unreachable."""
        keys = list(keys)
        if not keys:
            return
        if not self._down_until or self._available():
            try:
                self._delete(keys)
                return
            except _REDIS_ERRORS as exc:
                self._failed(exc, None)
        with self._lock:
            self._unsent.update(keys[:max(MAX_UNSENT - len(self._unsent), 0)])
            # A probe may have closed the breaker since the failure: make the next call replay these.
            self._down_until = self._down_until or time.monotonic()

    def _delete(self, keys: list[str]) -> None:
        if self.fill is FillMode.GUIDE:
            self._client.delete(*keys)
        elif self.recent_write_ms is None:
            self._client.delete(*keys, *map(self.fill_key, keys))
        else:
            self._invalidate_marking(keys=[*keys, *map(self.fill_key, keys), *map(self.recent_key, keys)],
                                     args=[len(keys), self.recent_write_ms])

    @property
    def unsent_invalidations(self) -> int:
        """Keys whose invalidation is waiting for Redis to come back."""
        return len(self._unsent)

    # ---- availability ----

    def _available(self) -> bool:
        """After a failure: False until the retry time, then probe once, replaying unsent invalidations."""
        if time.monotonic() < self._down_until:
            return False
        with self._lock:
            pending = list(self._unsent)
        try:
            self._client.ping()
            if pending:
                self._delete(pending)
        except _REDIS_ERRORS:
            self._down_until = time.monotonic() + self._retry_interval_s
            return False
        with self._lock:
            self._unsent.difference_update(pending)
            # Keys remembered while this probe ran are replayed by the very next call.
            self._down_until = time.monotonic() if self._unsent else 0.0
            recovered, self._outage = self._outage, False
        if recovered:
            log.info("Redis is reachable again; cache back in use (%d invalidations replayed)", len(pending))
        return True

    def _failed(self, exc: BaseException, counts: list[int] | None) -> None:
        with self._lock:
            if counts is not None:
                counts[_ERROR] += 1
            first, self._outage = not self._outage, True
            self._down_until = time.monotonic() + self._retry_interval_s
        if first:
            log.warning("Redis unavailable (%s: %s); serving from the database, retrying every %.1f s",
                        type(exc).__name__, exc, self._retry_interval_s)

    # ---- metrics ----

    def _count(self, counts: list[int], which: int) -> None:
        with self._lock:
            counts[which] += 1

    def stats(self) -> dict[str, FamilyStats]:
        """Per key family: hits, misses, errors, rejected fills and ``hit_rate``."""
        with self._lock:
            snapshot = {name: list(c) for name, c in self._counts.items()}
        return {
            name: FamilyStats(hits=h, misses=m, errors=e, rejected_fills=r,
                              hit_rate=h / (h + m) if h + m else None)
            for name, (h, m, e, r) in snapshot.items()
        }

    def reset_stats(self) -> None:
        """Zero every counter (e.g. between benchmark phases)."""
        with self._lock:
            for counts in self._counts.values():
                counts[:] = [0, 0, 0, 0]
