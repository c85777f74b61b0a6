"""PostgreSQL: audit_events is partitioned by month; the writer makes the months it needs; Alembic ignores them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl import migrate
from accessctl.audit.partitions import existing_partitions
from accessctl.audit.writer import AuditWriter
from tests.integration.audit.helpers import decision
from tests.servers import postgres_url


async def test_writer_creates_the_month_partitions_its_events_need(
    writer: AuditWriter, audit_engine: AsyncEngine, audit_url: str
) -> None:
    postgres_url()
    march = datetime(2027, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    await writer.record_many([decision(0), decision(1, at=march)])
    async with audit_engine.connect() as conn:
        months = await existing_partitions(conn)
        where = await conn.execute(text("SELECT tableoid::regclass::text, occurred_at FROM audit_events"))
        placed = dict(where.tuples().all())
        kind = (
            await conn.execute(text("SELECT relkind::text FROM pg_class WHERE relname = 'audit_events'"))
        ).scalar_one()
    assert kind == "p"
    assert months[datetime(2027, 3, 1, tzinfo=UTC)] == "audit_events_y2027m03"
    assert datetime(2026, 11, 1, tzinfo=UTC) in months
    assert placed["audit_events_y2027m03"] == march
    await audit_engine.dispose()
    await asyncio.to_thread(migrate.check, audit_url)  # the partitions are no drift
