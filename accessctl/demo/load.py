"""Bulk insert of a demo population with SQLAlchemy Core, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl.demo.population import TABLES, Population, Row
from accessctl.errors import Conflict
from accessctl.models import Base

BATCH_ROWS = 10_000


class DatabaseNotEmpty(Conflict):
    """The demo loads only into an empty database, so it never mixes with real or earlier data."""

    code = "database_not_empty"

    def __init__(self, tables: list[str]) -> None:
        super().__init__(
            f"the database is not empty (rows in {', '.join(tables)}); "
            "the demo loads only into an empty, migrated database"
        )
        self.tables = tuple(tables)


async def tables_with_rows(conn: AsyncConnection) -> list[str]:
    """The demo's tables that already hold at least one row."""
    found = []
    for name in TABLES:
        table = _table(name)
        if (await conn.execute(select(1).select_from(table).limit(1))).first() is not None:
            found.append(name)
    return found


async def load_population(conn: AsyncConnection, population: Population) -> dict[str, int]:
    """Insert every table's rows in `conn`'s transaction; refuses a database that has any demo-table rows.

    The caller commits (or, in tests, rolls back). Returns the rows inserted per table.
    """
    if nonempty := await tables_with_rows(conn):
        raise DatabaseNotEmpty(nonempty)
    for name, rows in population.tables.items():
        table = _table(name)
        for batch in _batches(rows):
            await conn.execute(table.insert(), batch)
    if conn.dialect.name == "postgresql":
        # PostgreSQL plans from statistics, and freshly loaded tables have none until autovacuum (if it runs)
        # analyzes them: without, it would scan where an index answers.
        for name in population.tables:
            await conn.execute(text(f"ANALYZE {conn.dialect.identifier_preparer.quote(name)}"))
    return population.counts()


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _batches(rows: list[Row]) -> Iterator[list[Row]]:
    for start in range(0, len(rows), BATCH_ROWS):
        yield rows[start : start + BATCH_ROWS]
