"""The typed records reads return: immutable, Decimal money, time-zone-aware timestamps.

Field order is the column order of the statements in ``queries`` (psycopg builds
records positionally) and of the cached arrays in ``codec``; the tests pin both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = ["Balance", "LegacyBalance"]


@dataclass(frozen=True, slots=True)
class Balance:
    """One row of ``balances``: what the optimized and explicit_joined projections select, column by column."""

    id: int
    user_id: int
    token_id: int
    address: str
    amount: Decimal
    usd_value: Decimal
    auto_convert_threshold: Decimal | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LegacyBalance(Balance):
    """The legacy projection: ``balances.*`` plus the owner's email and the token's columns from the joins."""

    user_email: str
    token_symbol: str
    token_name: str
    token_decimals: int
    token_price_usd: Decimal
