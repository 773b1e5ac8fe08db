"""Reading the suite's versioned JSON records back: one file reader, one version check, one way to validate fields.

The suite writes typed, versioned JSON records (``summary.json``, ``load.json``, the check baseline, plan files, the
load plan and the captures its Locust processes exchange) and reads them back. Every reader repeated the same steps
in its own words; each takes them from here, so a refusal reads the same whichever file it is about:

* ``read_json`` (``read_text`` and ``decode_json`` apart, for a reader that also takes pasted text): a missing file,
  one that cannot be read, bytes that are not UTF-8, text that is not JSON (NaN and Infinity too, for a reader that
  refuses them) are each one BenchError line naming the file;
* ``check_version``: a ``Kind`` says what a record is (its name, its ``format`` when its documents carry one, the
  key of its version, the versions this release reads, what to do about another); a document that is not one, or
  of a version not read, is one line naming the file, the version found, the versions read and what to do;
* ``Fields``: the fields, validated one way.

That way is typed accessors on one JSON object (``Fields.number``, ``count``, ``text``, ``obj``, ``items``...), the
style of ``summary.json``'s reader (its ``_Reader``): each checks presence and type, and a problem is one line with
the file, the field's path in the record and the value found (``summary.json: cases[0].rounds is not a count: 2.5``).
It was kept over ``load.json``'s type-hint-driven builder (``_build``/``_check``) because only accessors read every
record the suite has: a summary's JSON is not its dataclasses (coordinates and timings flattened into each case,
trials keyed by strings, estimates as four-number lists, version 1's own layout), fields become required or readable
from some version on, a count is a whole non-negative number of either JSON type, and null means "not recorded" for
some fields and is missing for others. What the builder did well is kept as ``Fields.build``: a dataclass whose JSON
is exactly its fields (``load.json``'s records, the load plan, a plan file's case) is read by mapping each type hint
onto the same checks, so there is one set of checks and one wording, and a field added to such a record is
validated without a line of reader code.

A field a reader does not know is ignored (a newer writer may add one), except where it asks to refuse one
(``build(..., refuse_unknown=True)``: the load plan, which a worker must read exactly as its master wrote it); each
reader keeps the choice it made before it read through here.
"""

from __future__ import annotations

import json
import math
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields, is_dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, overload

from balance_bench.errors import BenchError

__all__ = ["Refusal", "Kind", "show", "read_text", "decode_json", "read_json", "check_version", "read_record",
           "Fields"]

T = TypeVar("T")

Refusal = Callable[[str, str], BenchError]
"""Makes the error refusing an input from its source (a file's path) and the problem: ``BenchError`` with
``source: problem`` by default; a reader with its own subclass passes that (``PlanError``)."""


def _refusal(source: str, problem: str) -> BenchError:
    return BenchError(f"{source}: {problem}")


def show(value: object) -> str:
    """A value as a message shows it: its repr, cut to 40 characters so the message stays one short line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Kind:
    """One kind of record, as its reader knows it: its name in messages, its ``format`` (when its documents carry
    one), the key of its version, the versions this release reads, and what to do when a file is not readable."""

    name: str
    readable: tuple[int, ...]
    advice: str  # what to do about a version this release does not read
    format: str | None = None
    key: str = "schema_version"
    foreign: str = ""  # what to do about a document that is not this kind of record at all
    missing: str = ""  # what to check when the file does not exist
    constants: bool = True  # NaN and Infinity parse (json's default); False: refused as not JSON
    finite: bool = True  # a number must be finite (load.json has always let NaN and Infinity through)


# --- the file -------------------------------------------------------------------------------------------------


def read_text(path: Path, missing: str = "", error: Refusal = _refusal) -> str:
    """A file's text, UTF-8 (a byte-order mark skipped); no file, an unreadable one, bytes that are not UTF-8:
    one line naming the file (``missing`` says what to check when there is none)."""
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(source, f"no such file ({missing})" if missing else "no such file") from None
    except OSError as exc:
        raise error(source, f"cannot read it ({exc.strerror or exc.__class__.__name__})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(source, f"not UTF-8 text (bad byte at offset {exc.start})") from None


class _Constant(ValueError):
    """NaN, Infinity or -Infinity, which JSON does not allow, in a text whose reader refuses them."""


def _refuse_constant(name: str) -> object:
    raise _Constant(name)


def decode_json(text: str, source: str, constants: bool = True, error: Refusal = _refusal) -> Any:
    """The JSON document in ``text``; anything else is one line naming ``source`` and what is wrong, where, and
    whether the text ends early. ``constants=False`` refuses NaN and Infinity."""
    try:
        return json.loads(text, parse_constant=None if constants else _refuse_constant)
    except _Constant as exc:
        raise error(source, f"not valid JSON ({exc} is not a number JSON allows)") from None
    except json.JSONDecodeError as exc:
        unterminated = exc.msg.startswith("Unterminated string")  # its position is where the string starts
        ending = " (the text ends early: truncated?)" if unterminated or exc.pos >= len(text.rstrip()) else ""
        where = f"at line {exc.lineno} column {exc.colno}"
        raise error(source, f"not valid JSON: {exc.msg.removesuffix(' at')} {where}{ending}") from None
    except ValueError:  # int() refuses a number of more digits than Python converts
        raise error(source, f"not readable JSON: a number of more than {sys.get_int_max_str_digits()} digits"
                    ) from None
    except RecursionError:
        raise error(source, "JSON nested too deeply") from None


def read_json(path: Path, missing: str = "", constants: bool = True, error: Refusal = _refusal) -> Any:
    """The JSON document in the file at ``path`` (``read_text``, then ``decode_json``)."""
    return decode_json(read_text(path, missing, error), str(path), constants, error)


# --- the version ----------------------------------------------------------------------------------------------


def check_version(document: Any, source: str, kind: Kind, error: Refusal = _refusal) -> int:
    """The document's version, once it is known to be a ``kind`` record of a version this release reads; otherwise
    one line naming ``source``, the version found (a bool is none), the versions read and what to do."""
    then = f"; {kind.foreign}" if kind.foreign else ""
    if kind.format is not None:
        if not isinstance(document, dict) or document.get("format") != kind.format:
            raise error(source, f'not a balance-bench {kind.name} (no "format": "{kind.format}"){then}')
    elif not isinstance(document, dict) or kind.key not in document:
        raise error(source, f"not a balance-bench {kind.name} (no {kind.key}){then}")
    version = document.get(kind.key)
    if type(version) is not int or version not in kind.readable:
        versions = f"version{'s' if len(kind.readable) > 1 else ''} {', '.join(map(str, kind.readable))}"
        raise error(source, f"{kind.name} {kind.key} {show(version)} is not supported by this balance-bench "
                            f"(it reads {versions}); {kind.advice}")
    return version


def read_record(path: Path, kind: Kind) -> tuple[Fields, int]:
    """A ``kind`` record's top-level fields and version, from the file at ``path``."""
    document = read_json(path, kind.missing, kind.constants)
    version = check_version(document, str(path), kind)
    return Fields(document, str(path), finite=kind.finite), version


# --- the fields -----------------------------------------------------------------------------------------------


class Fields:
    """One JSON object of a record, read field by field.

    ``source`` is the file (or whatever the record came from), ``where`` the object's path in the record (``""``
    at the top, ``cases[0].plan`` inside). Each accessor takes a field's name: absent or null, it is None when
    ``optional`` and "lacks" otherwise; of the wrong type, it is refused with its path and the value found. Every
    refusal is one line, made by ``error`` (``BenchError`` with ``source: problem`` by default).
    """

    def __init__(self, raw: Any, source: str, where: str = "", *, finite: bool = True,
                 error: Refusal = _refusal) -> None:
        self.source, self.where, self.finite, self._error = source, where, finite, error
        if not isinstance(raw, dict):
            raise self.refuse(f"{where or 'the document'} is not an object: {show(raw)}")
        self.raw: dict[str, Any] = raw

    # -- paths and refusals --

    def at(self, name: str | None = None) -> str:
        """A field's path in the record (``cases[0].plan.file``); this object's own without a name."""
        if name is None:
            return self.where
        return f"{self.where}.{name}" if self.where else name

    def place(self, name: str | None = None) -> str:
        """A field's place for another validator's message: ``summary.json: cases[0]``."""
        at = self.at(name)
        return f"{self.source}: {at}" if at else self.source

    def refuse(self, problem: str) -> BenchError:
        """The error for ``problem`` (written from the field's path, ``at``) in this record."""
        return self._error(self.source, problem)

    def _lacks(self, name: str) -> BenchError:
        return self.refuse(f"{self.where} lacks {name}" if self.where else f"lacks {name}")

    def _wrong(self, at: str, kind: str, value: Any) -> BenchError:
        return self.refuse(f"{at} is not {kind}: {show(value)}")

    # -- one value, its path given --

    def _number(self, value: Any, at: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(at, "a number", value)
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            raise self._wrong(at, "a number", value) from None
        if self.finite and not math.isfinite(number):
            raise self._wrong(at, "a number", value)
        return number

    def _count(self, value: Any, at: str) -> int:
        number = self._number(value, at)
        if number < 0 or not number.is_integer():
            raise self._wrong(at, "a count", value)
        return value if isinstance(value, int) else int(number)

    def _whole(self, value: Any, at: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(at, "a whole number", value)
        return value

    def _flag(self, value: Any, at: str) -> bool:
        if not isinstance(value, bool):
            raise self._wrong(at, "true or false", value)
        return value

    def _text(self, value: Any, at: str) -> str:
        if not isinstance(value, str):
            raise self._wrong(at, "a string", value)
        return value

    def _member(self, kind: type[StrEnum]) -> Callable[[Any, str], StrEnum]:
        """A coordinate's value: one of the enum's spellings (``coordinates.py`` holds each coordinate's one enum)."""
        def check(value: Any, at: str) -> StrEnum:
            if not isinstance(value, str) or value not in {m.value for m in kind}:
                raise self._wrong(at, f"one of {', '.join(m.value for m in kind)}", value)
            return kind(value)
        return check

    def _mapping(self, value: Any, at: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self._wrong(at, "an object", value)
        return value

    def _list(self, value: Any, at: str) -> list[Any]:
        if not isinstance(value, list):
            raise self._wrong(at, "a list", value)
        return value

    def _object(self, value: Any, at: str) -> Fields:
        return Fields(value, self.source, at, finite=self.finite, error=self._error)

    # -- one field, by name --

    def value(self, name: str, optional: bool = False) -> Any:
        """A field's value as written; absent or null is None when ``optional``, else "lacks"."""
        value = self.raw.get(name)
        if value is None and not optional:
            raise self._lacks(name)
        return value

    def require(self, *names: str) -> None:
        """Each of ``names`` must be present, if only as null."""
        for name in names:
            if name not in self.raw:
                raise self._lacks(name)

    def _field(self, name: str, optional: bool, check: Callable[[Any, str], T]) -> T | None:
        value = self.value(name, optional)
        return None if value is None else check(value, self.at(name))

    @overload
    def number(self, name: str, optional: Literal[False] = False) -> float: ...
    @overload
    def number(self, name: str, optional: bool) -> float | None: ...

    def number(self, name: str, optional: bool = False) -> float | None:
        """A number, int or float but never a bool, as a float; finite unless the record's kind lets NaN through."""
        return self._field(name, optional, self._number)

    @overload
    def count(self, name: str, optional: Literal[False] = False) -> int: ...
    @overload
    def count(self, name: str, optional: bool) -> int | None: ...

    def count(self, name: str, optional: bool = False) -> int | None:
        """A whole non-negative number, written as an int or as a float (``3.0``)."""
        return self._field(name, optional, self._count)

    def whole(self, name: str) -> int:
        """A JSON integer (not ``3.0``, not a bool), of either sign."""
        return self._whole(self.value(name), self.at(name))

    @overload
    def text(self, name: str, optional: Literal[False] = False) -> str: ...
    @overload
    def text(self, name: str, optional: bool) -> str | None: ...

    def text(self, name: str, optional: bool = False) -> str | None:
        """A string (empty or not)."""
        return self._field(name, optional, self._text)

    @overload
    def mapping(self, name: str, optional: Literal[False] = False) -> dict[str, Any]: ...
    @overload
    def mapping(self, name: str, optional: bool) -> dict[str, Any] | None: ...

    def mapping(self, name: str, optional: bool = False) -> dict[str, Any] | None:
        """An object kept as written (an environment, parameters, notes): its contents are not checked."""
        return self._field(name, optional, self._mapping)

    def strings(self, name: str, optional: bool = False) -> tuple[str, ...]:
        """A list of strings; absent or null is empty when ``optional``."""
        value = self.value(name, optional)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise self._wrong(self.at(name), "a list of strings", value)
        return tuple(value or ())

    def obj(self, name: str) -> Fields:
        """A nested object, read the same way."""
        return self._object(self.value(name), self.at(name))

    def optional_obj(self, name: str) -> Fields | None:
        """A nested object, or None when absent or null."""
        value = self.value(name, optional=True)
        return None if value is None else self._object(value, self.at(name))

    def items(self, name: str, optional: bool = False) -> list[Fields]:
        """A list of objects, each read the same way (``cases[0]``, ``cases[1]``...); absent or null is empty when
        ``optional``."""
        value = self.value(name, optional)
        if value is None:
            return []
        at = self.at(name)
        return [self._object(item, f"{at}[{i}]") for i, item in enumerate(self._list(value, at))]

    # -- a whole dataclass, by its type hints --

    def build(self, cls: type[T], refuse_unknown: bool = False) -> T:
        """The dataclass ``cls`` from this object, each field checked by its type hint: int a whole number, float a
        number, str a string, bool true or false, ``X | None`` null or X, ``list[X]`` and ``tuple[...]`` item by
        item, dict an object kept as written, a StrEnum one of its values, a dataclass an object built the same way,
        Any as written. Absent or
        null, a field with a default takes it (a nullable one present as null is None); one without is "lacks".
        ``refuse_unknown`` refuses a field ``cls`` does not have, here and in every record built inside."""
        if not (is_dataclass(cls) and isinstance(cls, type)):
            raise TypeError(f"{cls!r} is not a dataclass")
        declared = fields(cls)
        if refuse_unknown:
            known = {f.name for f in declared}
            for name in self.raw:
                if name not in known:
                    raise self.refuse(f"unknown field {self.at(name)}")
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in declared:
            hint, value = hints[f.name], self.raw.get(f.name)
            if value is None and (f.name not in self.raw or not _nullable(hint)):
                if f.default is MISSING and f.default_factory is MISSING:
                    raise self._lacks(f.name)
                continue
            values[f.name] = self._check(hint, refuse_unknown)(value, self.at(f.name))
        return cls(**values)

    def _check(self, hint: Any, refuse_unknown: bool) -> Callable[[Any, str], Any]:
        """The check of a value of type ``hint``, given the value and its path."""
        origin, args = get_origin(hint), get_args(hint)
        simple: dict[Any, Callable[[Any, str], Any]] = {
            bool: self._flag, int: self._whole, float: self._number, str: self._text, dict: self._mapping}
        if hint is Any:
            return lambda value, at: value
        if hint in simple or origin in simple:
            return simple[hint if hint in simple else origin]
        if _nullable(hint):
            (inner,) = (self._check(a, refuse_unknown) for a in args if a is not type(None))
            return lambda value, at: None if value is None else inner(value, at)
        if origin is list or (origin is tuple and args[-1:] == (...,)):
            item = self._check(args[0], refuse_unknown)
            kind = list if origin is list else tuple
            return lambda value, at: kind(item(v, f"{at}[{i}]") for i, v in enumerate(self._list(value, at)))
        if origin is tuple:
            checks = [self._check(a, refuse_unknown) for a in args]

            def fixed(value: Any, at: str) -> tuple[Any, ...]:
                if not isinstance(value, list) or len(value) != len(checks):
                    raise self._wrong(at, f"a list of {len(checks)} values", value)
                return tuple(check(v, f"{at}[{i}]") for i, (check, v) in enumerate(zip(checks, value, strict=True)))

            return fixed
        if isinstance(hint, type) and issubclass(hint, StrEnum):
            return self._member(hint)
        if is_dataclass(hint) and isinstance(hint, type):
            record: type[Any] = hint
            return lambda value, at: self._object(value, at).build(record, refuse_unknown)
        raise TypeError(f"no check for a field of type {hint!r}")


def _nullable(hint: Any) -> bool:
    """Whether ``hint`` is ``X | None``; any other union is not a record's field type."""
    if get_origin(hint) not in (Union, types.UnionType):
        return False
    args = get_args(hint)
    if len(args) != 2 or type(None) not in args:
        raise TypeError(f"no check for a field of type {hint!r}: only X | None")
    return True
