"""Where a model reads from when it has a read replica, and the cache hazard that choice creates.

With ``BalanceModel(engine, cache, replica=replica_engine)`` writes go to the
primary and reads go to the replica, which lags the primary by however long
replaying the WAL takes. Reads that simply return a lagging value are the usual
replica trade-off. The cache makes it worse: a write commits on the primary and
invalidates its keys; the next read misses, reads the replica *before the
replica has replayed that write*, and stores the old value, which then stays for
the key's whole TTL (minutes), long after the replica has caught up. The fill
token does not help: no invalidation happens between that reader's token and
its fill, the value it read was stale already.

``FillSource`` says where a cache miss loads from:

* ``REPLICA``: the hazard (every read, miss or not, on the replica);
* ``PRIMARY``: misses read the primary, hits and uncached reads use the replica.
  No stale fill is possible; the price is that all miss traffic is primary load;
* ``PRIMARY_AFTER_WRITE``: a miss reads the primary only when its key was
  invalidated within the cache's ``recent_write_ms`` window (the invalidation
  leaves a marker key for that long), else the replica. Stale fills are
  impossible while the replica lags less than the window; the price is a marker
  key per invalidated key and the miss traffic within the window.

Inside ``model.batch()`` a thread reads the primary whatever the source: its own
writes are neither invalidated nor necessarily replayed yet.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FillSource"]


class FillSource(StrEnum):
    """Where a cache miss reads the value it stores (only meaningful with a replica)."""

    REPLICA = "replica"
    PRIMARY = "primary"
    PRIMARY_AFTER_WRITE = "primary_after_write"
