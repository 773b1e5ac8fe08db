"""SQLAlchemy Core metadata for the guide's tables, and migration 012's indexes as data.

Money is NUMERIC with explicit precision end to end (Decimal in Python), never float.
The baseline deliberately has no index on ``balances`` besides its primary key:
that is the state migration 012 improves on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)

__all__ = ["metadata", "users", "tokens", "balances", "MONEY", "Index012", "INDEXES_012", "INDEX_012_NAMES"]

# 38 digits, 18 after the point: ERC-20 amounts keep every wei, and the type is
# the same for amounts, prices and USD values so products stay exact.
MONEY = Numeric(38, 18, asdecimal=True)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("symbol", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("decimals", SmallInteger, nullable=False),
    Column("price_usd", MONEY, nullable=False),
    Column("chain_id", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

balances = Table(
    "balances",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_id", BigInteger, ForeignKey("tokens.id"), nullable=False),
    Column("address", String(42), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("usd_value", MONEY, nullable=False),
    Column("auto_convert_threshold", MONEY, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount >= 0", name="ck_balances_amount_non_negative"),
    CheckConstraint("updated_at >= created_at", name="ck_balances_updated_after_created"),
)


@dataclass(frozen=True)
class Index012:
    """One index of the guide's migration 012, with the guide's name and columns."""

    name: str
    columns: tuple[str, ...]
    purpose: str


INDEXES_012: tuple[Index012, ...] = (
    Index012("idx_balances_user_token", ("user_id", "token_id"), "user_id + token_id lookups (most common)"),
    Index012("idx_balances_token_id", ("token_id",), "token_id JOIN operations"),
    Index012("idx_balances_address", ("address",), "address lookups"),
    Index012("idx_balances_user_created", ("user_id", "created_at"), "user queries with sorting"),
    Index012("idx_balances_user_usd", ("user_id", "usd_value"), "aggregation queries"),
)

INDEX_012_NAMES: frozenset[str] = frozenset(i.name for i in INDEXES_012)
