"""Reading what PostgreSQL says about a statement: EXPLAIN's JSON parsed (``parser``), analysed against the guide's
claims (``analysis``), reduced to a signature and counters (``signature``), partitions named (``partitions``).

Its own layer, above the core and beside ``fixtures``: measurement summarises plans with it, reports judge them, and
neither needs the other to read one.
"""
