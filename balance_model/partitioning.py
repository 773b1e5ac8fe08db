"""``balances`` hash-partitioned by ``user_id``: the schema variant the guide's "consider partitioning" suggests.

Every per-user read names ``user_id``, so the planner can prune to one
partition; ``find_by_id``, ``find_by_address``, ``find_by_token_id`` and the
system total do not, and visit every partition. What changes in the schema, and
why:

* the primary key becomes ``(id, user_id)``: PostgreSQL requires a partitioned
  table's unique keys to include the partition key, so ``id`` alone is no longer
  enforced unique (it still comes from the one sequence);
* the foreign keys, CHECK constraints, defaults and the id sequence are the
  baseline table's own, carried over from the catalog, not retyped;
* migration 012 runs unchanged afterwards: an index created on a partitioned
  table is created on every partition (and its downgrade drops them all).

``partition_balances`` converts the baseline revision's *empty* ``balances``
before a load; it refuses a table with rows. Bump ``PARTITIONING_VERSION`` when
the DDL changes, so datasets built by an older one are rebuilt.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

__all__ = ["PARTITION_KEY", "PARTITIONING_VERSION", "partition_name", "PARTITION_NAME", "partition_balances",
           "partition_count"]

PARTITION_KEY = "user_id"
PARTITIONING_VERSION = 1
PARTITION_NAME = re.compile(r"^balances_p(\d+)$")
"""How partitions are named (``balances_p0`` ...), for whoever reads plans."""


def partition_name(index: int) -> str:
    """The name of partition ``index`` (remainder ``index`` of the hash modulus)."""
    return f"balances_p{index}"


def partition_balances(conn: psycopg.Connection, partitions: int) -> None:
    """Replace the empty ``balances`` by one hash-partitioned by ``user_id`` into ``partitions``, in one transaction."""
    if partitions < 2:
        raise ValueError(f"hash partitioning needs at least 2 partitions, got {partitions}")
    with conn.transaction():
        conn.execute("LOCK TABLE balances IN ACCESS EXCLUSIVE MODE")
        if conn.execute("SELECT EXISTS (SELECT FROM balances)").fetchone() != (False,):
            raise ValueError("balances has rows: only an empty balances table is partitioned")
        foreign_keys = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'balances'::regclass AND contype = 'f' ORDER BY conname"
        ).fetchall()
        sequence = conn.execute("SELECT pg_get_serial_sequence('balances', 'id')").fetchone()
        assert sequence is not None and sequence[0] is not None, "balances.id has no sequence"
        seq = sql.SQL(sequence[0])  # already a quoted, schema-qualified name
        statements: tuple[sql.SQL | sql.Composed, ...] = (
            sql.SQL("ALTER TABLE balances RENAME TO balances_unpartitioned"),
            sql.SQL("ALTER SEQUENCE {} OWNED BY NONE").format(seq),
            sql.SQL("CREATE TABLE balances (LIKE balances_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                    " PARTITION BY HASH ({})").format(sql.Identifier(PARTITION_KEY)),
            sql.SQL("ALTER SEQUENCE {} OWNED BY balances.id").format(seq),
            sql.SQL("DROP TABLE balances_unpartitioned"),
            sql.SQL("ALTER TABLE balances ADD CONSTRAINT balances_pkey PRIMARY KEY (id, {})").format(
                sql.Identifier(PARTITION_KEY)),
            *(sql.SQL("ALTER TABLE balances ADD CONSTRAINT {} {}").format(sql.Identifier(name), sql.SQL(definition))
              for name, definition in foreign_keys),
            *(sql.SQL("CREATE TABLE {} PARTITION OF balances FOR VALUES WITH (MODULUS {}, REMAINDER {})").format(
                sql.Identifier(partition_name(i)), sql.Literal(partitions), sql.Literal(i))
              for i in range(partitions)),
        )
        for statement in statements:
            conn.execute(statement)


def partition_count(conn: psycopg.Connection) -> int:
    """How many partitions ``balances`` has in the connected database (0: an ordinary table)."""
    row = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'balances'::regclass").fetchone()
    return int(row[0]) if row else 0
