"""Migration 012: the guide's five indexes on ``balances``, then ANALYZE so plans see them.

Revision ID: 012
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from balance_model.schema import INDEXES_012

revision = "012"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for index in INDEXES_012:
        op.create_index(index.name, "balances", list(index.columns))
    op.execute("ANALYZE balances")


def downgrade() -> None:
    # The guide's rollback: "This will remove all indexes added in migration 012" - and nothing else.
    for index in reversed(INDEXES_012):
        op.drop_index(index.name, table_name="balances")
    op.execute("ANALYZE balances")
