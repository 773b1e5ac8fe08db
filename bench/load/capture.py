"""What each Locust process records per step, how it reaches the master, and the per-step capture files.

Each load-generating process keeps, per step: every measured request's latency
(ms) per operation, failures, the model's cache counters over the measured
window, the ledger of committed credits and debits (the whole step, for the
conservation check) and a log of key-pool balances read and written (version =
``updated_at`` in microseconds, wall-clock time) for the staleness check. At the
end of a step the master asks every process for its share and writes one
capture: ``sNNN.json`` plus ``sNNN.npz`` holding one raw array per operation
and process, never pre-merged, so percentiles are computed from the exact union.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from balance_bench.errors import BenchError, redact
from balance_bench.records import Kind, read_record
from balance_model.records import Balance

__all__ = ["CAPTURE_VERSION", "CAPTURE", "DONE_FILE", "ERROR_FILE", "Ledger", "StepBuffer", "Recorder", "Collector",
           "Capture", "read_capture", "capture_paths", "MAX_ERRORS", "version_us"]

CAPTURE_VERSION = 1
CAPTURE = Kind(name="load capture", key="version", readable=(CAPTURE_VERSION,),
               advice="it was written by another balance-bench version: run the load again with this one")
"""A step's capture as ``balance_bench.records`` reads it (its fields are read where they are used)."""
DONE_FILE = "done.json"
"""Written by the driver once every step's capture is complete."""
ERROR_FILE = "error.txt"
"""Written by the driver when a step failed: the traceback, for the CLI's one-line error and the log."""
MAX_ERRORS = 5
"""Failure messages kept per process and step (all failures are counted)."""
_LOGS = ("reads", "writes")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def version_us(balance: Balance) -> int:
    """A balance's version in the staleness logs: ``updated_at`` in whole microseconds since the epoch (exact)."""
    return (balance.updated_at - _EPOCH) // _MICROSECOND

_LOG_FIELDS = (("id", "q"), ("version", "q"), ("t", "d"))


@dataclass
class Ledger:
    """Credits and debits that committed (exact Decimal sums), debits refused, and writes of unknown outcome."""

    credits: Decimal = Decimal(0)
    debits: Decimal = Decimal(0)
    credit_n: int = 0
    debit_n: int = 0
    rejected_n: int = 0  # debits refused for insufficient funds: nothing changed
    ambiguous_n: int = 0  # writes interrupted after they were sent: committed or not, nobody knows

    def add(self, other: Ledger) -> None:
        self.credits += other.credits
        self.debits += other.debits
        self.credit_n += other.credit_n
        self.debit_n += other.debit_n
        self.rejected_n += other.rejected_n
        self.ambiguous_n += other.ambiguous_n

    def to_json(self) -> dict[str, Any]:
        return {"credits": str(self.credits), "debits": str(self.debits), "credit_n": self.credit_n,
                "debit_n": self.debit_n, "rejected_n": self.rejected_n, "ambiguous_n": self.ambiguous_n}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Ledger:
        return cls(Decimal(raw["credits"]), Decimal(raw["debits"]), int(raw["credit_n"]), int(raw["debit_n"]),
                   int(raw["rejected_n"]), int(raw["ambiguous_n"]))


def _log() -> dict[str, array[Any]]:
    return {name: array(code) for name, code in _LOG_FIELDS}


@dataclass
class StepBuffer:
    """One process's records of one step."""

    samples: dict[str, array[float]] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    reads: dict[str, array[Any]] = field(default_factory=_log)
    writes: dict[str, array[Any]] = field(default_factory=_log)
    ledger: Ledger = field(default_factory=Ledger)
    cache: dict[str, list[int]] = field(default_factory=dict)
    setup_errors: int = 0

    def sample(self, operation: str, ms: float) -> None:
        """One measured request's latency."""
        found = self.samples.get(operation)
        if found is None:
            found = self.samples[operation] = array("d")
        found.append(ms)

    def failure(self, operation: str, error: BaseException | str) -> None:
        self.failures[operation] += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(redact(f"{operation}: {error!r}"[:300]))

    def log(self, which: str, balance_id: int, version_us: int, t: float) -> None:
        """A key-pool balance seen by a read or left by a write, at wall-clock ``t``."""
        log = self.reads if which == "reads" else self.writes
        log["id"].append(balance_id)
        log["version"].append(version_us)
        log["t"].append(t)

    def add_cache(self, stats: dict[str, tuple[int, int, int, int]]) -> None:
        """Add one user's cache counters (hits, misses, errors, rejected fills) per family."""
        for family, counts in stats.items():
            total = self.cache.setdefault(family, [0, 0, 0, 0])
            for i, value in enumerate(counts):
                total[i] += value

    def payload(self, process: dict[str, Any]) -> dict[str, Any]:
        """Everything, as plain types and bytes: what travels in one Locust message."""
        return {
            "samples": {op: a.tobytes() for op, a in self.samples.items()},
            "failures": dict(self.failures),
            "errors": list(self.errors),
            "reads": {k: a.tobytes() for k, a in self.reads.items()},
            "writes": {k: a.tobytes() for k, a in self.writes.items()},
            "ledger": self.ledger.to_json(),
            "cache": self.cache,
            "setup_errors": self.setup_errors,
            "process": process,
        }


class Recorder:
    """A process's step buffers; ``take`` hands one over (and forgets it)."""

    def __init__(self) -> None:
        self._steps: dict[int, StepBuffer] = {}

    def buffer(self, step: int) -> StepBuffer:
        found = self._steps.get(step)
        if found is None:
            found = self._steps[step] = StepBuffer()
        return found

    def take(self, step: int, process: dict[str, Any]) -> dict[str, Any]:
        return self._steps.pop(step, StepBuffer()).payload(process)


def _array(raw: bytes, code: str) -> np.ndarray[Any, Any]:
    return np.frombuffer(raw, dtype=np.float64 if code == "d" else np.int64)


def capture_paths(directory: Path, label: str) -> tuple[Path, Path]:
    """The JSON and the arrays of step ``label`` in ``directory``."""
    return directory / f"{label}.json", directory / f"{label}.npz"


class Collector:
    """The master's side: each process's payload per step, written as one capture when the step ends."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, dict[str, Any]]] = {}

    def absorb(self, worker: str, step: int, payload: dict[str, Any]) -> None:
        self._parts.setdefault(step, {})[worker] = payload

    def workers(self, step: int) -> set[str]:
        return set(self._parts.get(step, {}))

    def write(self, step: int, directory: Path, label: str, meta: dict[str, Any]) -> Path:
        """Write ``label``.npz (raw arrays by process) and ``label``.json (the rest, plus ``meta``)."""
        parts = self._parts.pop(step, {})
        doc_path, arrays_path = capture_paths(directory, label)
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        workers: dict[str, Any] = {}
        for worker, payload in sorted(parts.items()):
            for op, raw in payload["samples"].items():
                arrays[f"samples.{op}.{worker}"] = _array(raw, "d")
            for log in _LOGS:
                for name, code in _LOG_FIELDS:
                    arrays[f"{log}.{name}.{worker}"] = _array(payload[log][name], code)
            workers[worker] = {k: payload[k] for k in ("failures", "errors", "ledger", "cache", "setup_errors",
                                                       "process")}
        tmp = arrays_path.with_name(f".{arrays_path.name}.tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(arrays_path)
        doc = {"version": CAPTURE_VERSION, **meta, "workers": workers, "arrays": arrays_path.name}
        tmp_doc = doc_path.with_name(f".{doc_path.name}.tmp")
        tmp_doc.write_text(redact(json.dumps(doc, indent=1, default=str)), encoding="utf-8")
        tmp_doc.replace(doc_path)  # last: a capture's JSON only appears once its arrays are complete
        return doc_path


@dataclass(frozen=True)
class Capture:
    """One step's capture, as written by the master: its document and its raw arrays."""

    path: Path
    doc: dict[str, Any]
    arrays: dict[str, np.ndarray[Any, Any]]

    @property
    def workers(self) -> list[str]:
        return sorted(self.doc["workers"])

    def samples(self, operation: str) -> dict[str, np.ndarray[Any, Any]]:
        """Raw latencies (ms) of ``operation``, per process."""
        prefix = f"samples.{operation}."
        return {k[len(prefix):]: v for k, v in self.arrays.items() if k.startswith(prefix)}

    def operations(self) -> list[str]:
        return sorted({k.split(".")[1] for k in self.arrays if k.startswith("samples.")})

    def log(self, which: str) -> dict[str, np.ndarray[Any, Any]]:
        """The union of every process's ``reads`` or ``writes`` log: ``id``, ``version``, ``t``."""
        return {name: np.concatenate([v for k, v in sorted(self.arrays.items()) if k.startswith(f"{which}.{name}.")]
                                     or [np.zeros(0, dtype=np.float64 if code == "d" else np.int64)])
                for name, code in _LOG_FIELDS}

    def ledger(self) -> Ledger:
        total = Ledger()
        for worker in self.doc["workers"].values():
            total.add(Ledger.from_json(worker["ledger"]))
        return total


def read_capture(path: Path) -> Capture:
    """Load and check one capture; a missing or foreign file is a one-line BenchError."""
    doc, _ = read_record(path, CAPTURE)
    try:
        with np.load(path.parent / doc.text("arrays")) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise BenchError(f"{path}: its arrays cannot be read ({exc})") from None
    return Capture(path, doc.raw, arrays)
