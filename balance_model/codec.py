"""How cached values are stored: compact JSON arrays, money as decimal strings, timestamps as ISO 8601 with offset.

Why this format:

* exact: ``Decimal(str(d)) == d`` with the same exponent, so all 18 decimal places
  (and trailing zeros) come back; floats never appear. ``datetime.isoformat()``
  keeps the UTC offset and microseconds, and ``fromisoformat`` (C-accelerated)
  restores an aware datetime at the same instant and offset (a named zone comes
  back as its fixed offset at that instant).
* compact: records are positional arrays in field order (no key names), about
  half the size of a JSON object; msgpack would save little more because money
  has to be a string in either format, and it would add a dependency.
* fast and debuggable: the stdlib's C JSON codec, and values stay readable in
  ``redis-cli GET``.

Positional arrays tie the stored shape to the record's fields: ``decode`` rejects
an array of the wrong length (another projection's record, an older layout), and
the cache treats that as a miss and overwrites it.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

__all__ = ["Codec", "RecordCodec", "RecordListCodec", "DecimalCodec"]

T = TypeVar("T")
R = TypeVar("R")

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


class Codec(Generic[T]):
    """Turns one kind of read result into bytes for Redis and back."""

    def encode(self, value: T) -> bytes:
        raise NotImplementedError

    def decode(self, raw: bytes) -> T:
        """Inverse of ``encode``; raises ValueError (or TypeError) for data of another shape."""
        raise NotImplementedError


def _opt_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _opt_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime) -> str:
    return value.isoformat()


_BY_TYPE: dict[Any, tuple[Callable[[Any], Any] | None, Callable[[Any], Any] | None]] = {
    # type: (to JSON, from JSON); None = JSON carries it as is
    int: (None, None),
    str: (None, None),
    Decimal: (str, Decimal),
    Decimal | None: (_opt_str, _opt_decimal),
    datetime: (_iso, datetime.fromisoformat),
}


class RecordCodec(Codec[R]):
    """A frozen dataclass as a JSON array of its fields, converted per field type."""

    def __init__(self, cls: type[R]) -> None:
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        try:
            pairs = [_BY_TYPE[hints[n]] for n in names]
        except KeyError as exc:
            raise TypeError(f"{cls.__name__}: no JSON conversion for field type {exc}") from None
        self._cls = cls
        self._names = tuple(names)
        self._to = tuple(pairs_to for pairs_to, _ in pairs)
        self._from = tuple(pairs_from for _, pairs_from in pairs)

    def to_array(self, record: R) -> list[Any]:
        return [
            value if conv is None else conv(value)
            for conv, value in zip(self._to, (getattr(record, n) for n in self._names), strict=True)
        ]

    def from_array(self, values: Sequence[Any]) -> R:
        if len(values) != len(self._from):
            raise ValueError(f"expected {len(self._from)} fields for {self._cls.__name__}, got {len(values)}")
        return self._cls(*[v if conv is None else conv(v) for conv, v in zip(self._from, values, strict=True)])

    def encode(self, value: R) -> bytes:
        return _dumps(self.to_array(value)).encode()

    def decode(self, raw: bytes) -> R:
        return self.from_array(_loads(raw))


class RecordListCodec(Codec[list[R]]):
    """A list of records as a JSON array of arrays (an empty list is a value too)."""

    def __init__(self, record: RecordCodec[R]) -> None:
        self._record = record

    def encode(self, value: list[R]) -> bytes:
        return _dumps([self._record.to_array(r) for r in value]).encode()

    def decode(self, raw: bytes) -> list[R]:
        return [self._record.from_array(a) for a in _loads(raw)]


class DecimalCodec(Codec[Decimal]):
    """A total as its bare decimal string: the shortest exact form."""

    def encode(self, value: Decimal) -> bytes:
        return str(value).encode()

    def decode(self, raw: bytes) -> Decimal:
        return Decimal(raw.decode())
