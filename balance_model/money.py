"""Validation of amounts on their way in: exactly representable in NUMERIC(38, 18), or refused.

PostgreSQL would silently round a 19th decimal place; refusing it keeps
``credit(x)`` followed by ``debit(x)`` an exact no-op.
"""

from __future__ import annotations

from decimal import Decimal

from balance_model.errors import InvalidAmount

__all__ = ["money", "SCALE", "INTEGER_DIGITS"]

SCALE = 18
INTEGER_DIGITS = 38 - SCALE


def money(value: Decimal | int, what: str, *, positive: bool = False) -> Decimal:
    """``value`` as a Decimal the money column holds exactly; ``positive`` also refuses zero."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise InvalidAmount(f"{what} must be a Decimal or an int (floats are inexact), got {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidAmount(f"{what} must be finite, got {amount}")
    if amount < 0 or (positive and amount == 0):
        raise InvalidAmount(f"{what} must be {'positive' if positive else 'zero or more'}, got {amount}")
    _, digits, exponent = amount.as_tuple()
    extra = -int(exponent) - SCALE  # digits beyond the 18th place; only zeros may be there
    if extra > 0 and any(digits[-extra:]):
        raise InvalidAmount(f"{what} has more than {SCALE} decimal places: {amount}")
    if amount.adjusted() >= INTEGER_DIGITS:
        raise InvalidAmount(f"{what} has more than {INTEGER_DIGITS} integer digits: {amount}")
    return amount
