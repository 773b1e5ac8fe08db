"""Alembic revisions of the balance schema: the baseline, and the guide's migration 012 (indexes)."""
