"""Monthly partitions of audit_events on PostgreSQL: made ahead by the writer, listed for retention."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl.db import Transactions

log = logging.getLogger(__name__)

PARENT = "audit_events"
NAME = re.compile(r"audit_events_y(\d{4})m(\d{2})")


def month_of(moment: datetime) -> datetime:
    """The first instant (UTC) of the month `moment` falls in."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def partition_name(month: datetime) -> str:
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def month_of_partition(name: str) -> datetime | None:
    match = NAME.fullmatch(name)
    return datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC) if match else None


def create_sql(month: datetime) -> str:
    start, end = month.isoformat(), next_month(month).isoformat()
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{start}') TO ('{end}')"
    )


async def existing_partitions(conn: AsyncConnection) -> dict[datetime, str]:
    """The monthly partitions attached to audit_events, by month."""
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
        ),
        {"parent": PARENT},
    )
    found = {}
    for (name,) in rows:
        month = month_of_partition(name)
        if month is not None:
            found[month] = name
    return found


class PartitionMaker:
    """Creates the months a batch needs, once per process, each in its own short transaction."""

    def __init__(self, engine: Transactions) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self.known: set[datetime] = set()

    async def ensure(self, moments: Iterable[datetime]) -> None:
        if not self.enabled:
            return
        for month in sorted({month_of(m) for m in moments} - self.known):
            await self._create(month)
            self.known.add(month)

    async def ensure_ahead(self, now: datetime, months: int = 2) -> None:
        """This month and the next `months - 1`, so a month boundary never waits for DDL."""
        month, wanted = month_of(now), []
        for _ in range(months):
            wanted.append(month)
            month = next_month(month)
        await self.ensure(wanted)

    async def _create(self, month: datetime) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text(create_sql(month)))
        except DBAPIError:
            # Another replica created it between our IF NOT EXISTS check and our insert into the catalogue.
            async with self.engine.connect() as conn:
                if month not in await existing_partitions(conn):
                    raise
            log.info("partition %s was created by another writer", partition_name(month))
