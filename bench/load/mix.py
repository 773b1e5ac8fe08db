"""What load users do: named mixes of the model's operations, custom weights, and each operation's arguments.

``reads`` is the four reads of the guide's performance table, all cached, equally
weighted. ``guide`` is the same reads with writes at ``GUIDE_WRITE_RATIO`` (10%),
credits and debits in equal parts. Custom mixes name operations with weights,
``find_by_id=5,credit=1``; weights are relative. Operations take their arguments
from one row of the run's key pool (a balance: id, user, token, address).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from balance_bench.errors import BenchError
from balance_model.queries import READ_QUERIES

__all__ = ["Mix", "KeyRow", "MIXES", "OPERATIONS", "WRITES", "GUIDE_WRITE_RATIO", "parse_mix", "arguments"]

KeyRow = tuple[int, int, int, str]
"""One balance of the key pool: (id, user_id, token_id, address)."""

WRITES: tuple[str, ...] = ("credit", "debit")
OPERATIONS: tuple[str, ...] = (*READ_QUERIES, *WRITES)
GUIDE_READS: tuple[str, ...] = ("find_by_id", "find_by_user_id", "find_by_user_id_and_token_id",
                               "total_balance_by_user")
"""The reads of the guide's performance table (all four are cached)."""
GUIDE_WRITE_RATIO = 0.10

_ARGS: Mapping[str, Callable[[KeyRow], dict[str, Any]]] = MappingProxyType({
    "find_by_id": lambda r: {"id": r[0]},
    "find_by_user_id": lambda r: {"user_id": r[1]},
    "find_by_user_id_and_token_id": lambda r: {"user_id": r[1], "token_id": r[2]},
    "get_by_user": lambda r: {"user_id": r[1], "limit": 20, "offset": 0},
    "total_balance_by_user": lambda r: {"user_id": r[1]},
    "total_balance": lambda r: {},
    "find_by_address": lambda r: {"address": r[3]},
    "find_by_token_id": lambda r: {"token_id": r[2]},
})


def arguments(operation: str, row: KeyRow) -> dict[str, Any]:
    """The keyword arguments read ``operation`` takes for balance ``row`` (writes take the id and an amount)."""
    return _ARGS[operation](row)


@dataclass(frozen=True)
class Mix:
    """Operations and their relative weights, as given (``name`` is the named mix or ``custom``)."""

    name: str
    weights: tuple[tuple[str, float], ...]

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(op for op, _ in self.weights)

    @property
    def write_ratio(self) -> float:
        """The share of calls that are credits or debits."""
        total = sum(w for _, w in self.weights)
        return sum(w for op, w in self.weights if op in WRITES) / total

    @property
    def has_writes(self) -> bool:
        return any(op in WRITES and w > 0 for op, w in self.weights)

    def describe(self) -> dict[str, Any]:
        """JSON-ready: the name, the weights normalised to shares, and the write ratio."""
        total = sum(w for _, w in self.weights)
        return {"name": self.name, "shares": {op: w / total for op, w in self.weights},
                "write_ratio": self.write_ratio}


def _guide() -> tuple[tuple[str, float], ...]:
    read_share = (1 - GUIDE_WRITE_RATIO) / len(GUIDE_READS)
    write_share = GUIDE_WRITE_RATIO / len(WRITES)
    return (*((op, read_share) for op in GUIDE_READS), *((op, write_share) for op in WRITES))


MIXES: Mapping[str, Mix] = MappingProxyType({
    "reads": Mix("reads", tuple((op, 1.0) for op in GUIDE_READS)),
    "guide": Mix("guide", _guide()),
})


def parse_mix(text: str) -> Mix:
    """A named mix (``reads``, ``guide``) or ``op=weight,...``; anything else is a one-line BenchError."""
    text = text.strip()
    if text in MIXES:
        return MIXES[text]
    if "=" not in text:
        raise BenchError(f"--mix {text!r}: unknown mix; use one of {', '.join(MIXES)} or weights like "
                         "find_by_id=5,credit=1")
    weights: dict[str, float] = {}
    for part in text.split(","):
        op, sep, raw = (s.strip() for s in part.partition("="))
        if not sep or not op or not raw:
            raise BenchError(f"--mix: {part.strip()!r} is not operation=weight")
        if op not in OPERATIONS:
            raise BenchError(f"--mix: unknown operation {op!r}; operations: {', '.join(OPERATIONS)}")
        if op in weights:
            raise BenchError(f"--mix: {op} is given twice")
        try:
            weight = float(raw)
        except ValueError:
            raise BenchError(f"--mix: weight of {op} is not a number: {raw!r}") from None
        if not weight >= 0 or weight == float("inf"):
            raise BenchError(f"--mix: weight of {op} must be a finite number >= 0, got {raw}")
        weights[op] = weight
    if not any(weights.values()):
        raise BenchError("--mix: at least one operation needs a weight above 0")
    return Mix("custom", tuple((op, w) for op, w in weights.items() if w > 0))
