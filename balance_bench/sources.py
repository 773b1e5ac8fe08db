"""The user's own data, as the core knows it: the ``--source-map`` file naming the model's tables and columns in
their database, and the record of where a copied dataset's rows came from.

Three layers meet here without importing each other: the options parse the map (``config``), the copier
(``fixtures.source``) reads through it and writes the record, and the report (``reports.tables``) renders the
record back as one sentence. Like the scales, both are data, so neither layer spells the other's keys.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from balance_bench.errors import BenchError, redact

__all__ = ["MAP_FLAG", "SourceMap", "read_source_map", "SourceRecord", "source_sentence"]

MAP_FLAG = "--source-map"
"""The option naming the map: its messages and the copier's tell the user to fix a name there."""
_TABLES = "tables"  # [tables] model_table = "source_table"
_COLUMNS = "columns"  # [columns.model_table] model_column = "source_column"


@dataclass(frozen=True)
class SourceMap:
    """Where the model's tables and columns are in the source: only the renamed ones are listed.

    Tuples rather than dicts, so a ``Config`` holding a map stays hashable like its other fields.
    """

    file: str  # the map file's name, as records keep it (its folder is this machine's business)
    tables: tuple[tuple[str, str], ...] = ()  # (model table, source table, optionally "schema.table")
    columns: tuple[tuple[str, str, str], ...] = ()  # (model table, model column, source column)

    def table(self, table: str) -> str:
        """The source's name for the model's ``table``."""
        return dict(self.tables).get(table, table)

    def column(self, table: str, column: str) -> str:
        """The source's name for the model's ``table``.``column``."""
        return next((s for t, c, s in self.columns if (t, c) == (table, column)), column)

    def renames(self) -> dict[str, Any]:
        """The renames alone, JSON-ready: what decides a copy's content (the file's name does not)."""
        columns: dict[str, dict[str, str]] = {}
        for table, column, source in self.columns:
            columns.setdefault(table, {})[column] = source
        return {_TABLES: dict(self.tables), _COLUMNS: columns}


def _model_columns() -> dict[str, tuple[str, ...]]:
    """The model's tables and their columns, from its schema (imported here: the CLI starts without SQLAlchemy)."""
    from balance_model.schema import metadata

    return {t.name: tuple(c.name for c in t.columns) for t in metadata.sorted_tables}


def _names(where: str, raw: object, known: tuple[str, ...], what: str) -> dict[str, str]:
    """``raw`` as a table of model names (each one of ``known``) to source names; else one line naming the key."""
    if not isinstance(raw, dict):
        raise BenchError(f"{where} must be a table of {what} names, like {known[0]} = \"...\"")
    for key, value in raw.items():
        if key not in known:
            raise BenchError(f"{where}: unknown key {key!r}: the model's {what}s are {', '.join(known)}")
        if not isinstance(value, str) or not value.strip():
            raise BenchError(f"{where}: {key} must name the source's {what} in quotes, like {key} = \"...\"")
    return dict(raw)


def _parse(path: Path, data: dict[str, Any]) -> SourceMap:
    name = str(path)  # as the user gave it
    model = _model_columns()
    if unknown := sorted(data.keys() - {_TABLES, _COLUMNS}):
        raise BenchError(f"{MAP_FLAG} {name}: unknown key {unknown[0]!r}: it takes [{_TABLES}] and "
                         f"[{_COLUMNS}.TABLE]")
    tables = _names(f"{MAP_FLAG} {name}: [{_TABLES}]", data.get(_TABLES, {}), tuple(model), "table")
    columns = []
    for table, raw in _names_of_tables(name, data.get(_COLUMNS, {}), tuple(model)).items():
        renamed = _names(f"{MAP_FLAG} {name}: [{_COLUMNS}.{table}]", raw, model[table], "column")
        columns += [(table, column, source) for column, source in renamed.items()]
    return SourceMap(path.name, tuple(tables.items()), tuple(columns))


def _names_of_tables(name: str, raw: object, known: tuple[str, ...]) -> dict[str, object]:
    """The ``[columns.TABLE]`` sections, each TABLE one of the model's."""
    if not isinstance(raw, dict):
        raise BenchError(f"{MAP_FLAG} {name}: [{_COLUMNS}] must hold one [{_COLUMNS}.TABLE] section per table")
    if unknown := sorted(raw.keys() - set(known)):
        raise BenchError(f"{MAP_FLAG} {name}: unknown section [{_COLUMNS}.{unknown[0]}]: the model's tables are "
                         f"{', '.join(known)}")
    return dict(raw)


def read_source_map(path: Path) -> SourceMap:
    """The map in the TOML file ``path``; an unreadable or malformed file, or an unknown key, is one line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BenchError(f"{MAP_FLAG} {path}: cannot read it: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BenchError(f"{MAP_FLAG} {path}: not valid TOML: {str(exc).splitlines()[0]}") from None
    return _parse(path, data)


@dataclass(frozen=True)
class SourceRecord:
    """Where a copied dataset's rows came from: stored with the dataset, carried into each run's dataset record."""

    url: str  # the source's URL, password masked
    database: str
    copied_at: str  # ISO 8601: the start of the source transaction whose snapshot was copied
    rows_in_source: dict[str, int]  # per table, in that snapshot
    rows_copied: dict[str, int]  # per table, in the copy (fewer users and balances with a sample)
    sample: float  # the share of users kept (1: all)
    mapping: str | None  # the --source-map file's name, if any

    def describe(self) -> dict[str, Any]:
        """JSON-ready, password-free."""
        return {**asdict(self), "url": redact(self.url)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SourceRecord:
        """The record ``describe`` wrote; a KeyError or TypeError when it is not one."""
        return cls(str(raw["url"]), str(raw["database"]), str(raw["copied_at"]), dict(raw["rows_in_source"]),
                   dict(raw["rows_copied"]), float(raw["sample"]), raw.get("mapping"))

    def sentence(self) -> str:
        """The record in the words the report uses."""
        users = f"{self.rows_copied.get('users', 0):,} of {self.rows_in_source.get('users', 0):,} users"
        mapped = f", mapped by {self.mapping}" if self.mapping else ""
        return (f"data copied from {redact(self.url)} at {self.copied_at}, {users} (sample {self.sample:g})"
                f"{mapped}")


def source_sentence(raw: object) -> str | None:
    """The sentence of a recorded source (a dataset record's ``source``), or None when ``raw`` is not one."""
    if not isinstance(raw, Mapping):
        return None
    try:
        return SourceRecord.from_dict(raw).sentence()
    except (KeyError, TypeError, ValueError):
        return None
