"""The matrix's four writes as calls on any model over a copy: what the benchmark times and ``check`` counts.

Each write touches only the copy's write row (``world.WriteTarget``) and rows it creates; ``delete`` deletes a
row its untimed setup created. Every row created inside ``writes`` is deleted when the block ends, so neither the
benchmark nor a check leaves rows behind, whichever model (timed, capturing, counting) made them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from balance_bench.bench.world import Copy, WriteTarget
from balance_bench.coordinates import CacheState
from balance_model.model import BalanceModel

__all__ = ["STEP", "NEW_ROW_AMOUNT", "Operation", "Operations", "writes"]

STEP = Decimal("0.000000000001")
"""What a credit or debit moves: small enough never to exhaust the write row."""
NEW_ROW_AMOUNT = Decimal("1.5")
"""The amount of each row a ``create`` (or a ``delete``'s setup) inserts."""

Operation = tuple[Callable[[], Any], Callable[[], Any] | None]
"""A write's call and its untimed setup (None when it needs none)."""
Operations = Callable[[BalanceModel], dict[str, Operation]]


@contextmanager
def writes(copy: Copy, target: WriteTarget) -> Iterator[tuple[Operations, list[int]]]:
    """Each write as a call and its setup, for any model over ``copy``, and the ids of the rows they created so far;
    every one of those rows is deleted afterwards."""
    created: list[int] = []

    def operations(model: BalanceModel) -> dict[str, Operation]:
        pending: list[int] = []

        def new_row() -> int:
            row = model.create(target.user_id, target.token_id, target.address, NEW_ROW_AMOUNT)
            created.append(row.id)
            return row.id

        return {
            "create": (new_row, None),
            "credit": (lambda: model.credit(target.balance_id, STEP), None),
            "debit": (lambda: model.debit(target.balance_id, STEP), None),
            "delete": (lambda: model.delete(pending.pop()), lambda: pending.append(new_row())),
        }

    try:
        yield operations, created
    finally:
        cleanup = copy.model(CacheState.INVALIDATE)
        for row_id in created:
            cleanup.delete(row_id)  # False for the rows a delete already removed
