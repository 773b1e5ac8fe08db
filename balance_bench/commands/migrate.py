"""``balance-bench migrate up|down|status``: migration 012 on each selected scale's dataset database."""

from __future__ import annotations

import argparse

from balance_bench.config import DATASET, SERVICE, Config
from balance_bench.errors import BenchError

NAME = "migrate"
HELP = "apply, roll back or show migration 012 on a dataset database"
OPTIONS = (*SERVICE, *DATASET)
ACTIONS = ("up", "down", "status")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The action: the guide's migrate (up), its rollback (down), or a status table."""
    parser.add_argument("action", choices=ACTIONS)


def run(config: Config, args: argparse.Namespace) -> int:
    """Apply the action, then print which of the five indexes exist, valid, with sizes."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import create_engine

    from balance_bench.fixtures import migrate
    from balance_bench.fixtures.databases import exists, require_owned
    from balance_bench.fixtures.datasets import database_name
    from balance_bench.fixtures.services import running_services

    console = Console()
    with running_services(config) as endpoints:
        for scale in config.scales:
            name = database_name(scale, config.seed)
            if not exists(endpoints, name):
                raise BenchError(f"no dataset database {name!r} for scale {scale.name} seed {config.seed}; "
                                 f"build it first: balance-bench seed --scale {scale.name} --seed {config.seed}")
            require_owned(endpoints, name)
            engine = create_engine(endpoints.database_url(name))
            try:
                if args.action == "up":
                    migrate.upgrade(engine)
                elif args.action == "down":
                    migrate.downgrade(engine)
                table = Table(title=f"{name}: revision {migrate.current_revision(engine) or 'none'}")
                for column in ("index", "columns", "present", "valid", "size"):
                    table.add_column(column)
                for ix in migrate.index_status(engine):
                    columns = ", ".join(ix.columns) if ix.present else "-"
                    if ix.present and ix.columns != ix.expected:
                        columns += f" (expected {', '.join(ix.expected)})"
                    table.add_row(ix.name, columns, "yes" if ix.present else "no",
                                  "yes" if ix.valid else "-", f"{ix.size_bytes / 1024:.0f} KiB" if ix.present else "-")
                console.print(table)
            finally:
                engine.dispose()
    return 0
