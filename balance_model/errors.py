"""Domain errors of the balance model: what a caller can act on, never a driver exception."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["BalanceError", "BalanceNotFound", "InsufficientFunds", "InvalidAmount", "UnknownReference"]


class BalanceError(Exception):
    """Base of every error the balance model raises on purpose."""


class BalanceNotFound(BalanceError, LookupError):
    """No balance has this id (it never existed or was deleted)."""

    def __init__(self, balance_id: int) -> None:
        super().__init__(f"balance {balance_id} does not exist")
        self.balance_id = balance_id


class InsufficientFunds(BalanceError):
    """A debit larger than the amount held; nothing was changed."""

    def __init__(self, balance_id: int, available: Decimal, requested: Decimal) -> None:
        super().__init__(f"balance {balance_id} holds {available}, cannot debit {requested}")
        self.balance_id = balance_id
        self.available = available
        self.requested = requested


class InvalidAmount(BalanceError, ValueError):
    """An amount the money type cannot hold exactly: float, negative, over 18 decimals or 20 integer digits."""


class UnknownReference(BalanceError, LookupError):
    """``create`` named a user or token that does not exist."""
