"""A change commits with its audit events staged: a crash before the audit commit loses none, and none is doubled."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from accessctl.audit import actions, store
from accessctl.audit.events import AuditEvent
from accessctl.audit.outbox import OutboxDrain
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.sink import AuditOutbox
from accessctl.audit.verify import verify_log
from accessctl.audit.writer import AuditWriter
from accessctl.db import utcnow


def change(n: int) -> AuditEvent:
    return AuditEvent(
        action=actions.CONTEXT_CHANGED,
        occurred_at=utcnow(),
        user_id="hr-feed",
        resource_type="care_relation",
        resource_id=f"cr-{n}",
        detail={"operation": "put", "n": n, "when": [1, 2]},
    )


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _stage_and_commit(engine: AsyncEngine, events: list[AuditEvent]) -> AuditOutbox:
    """A change's transaction that commits with its events staged, and a process that dies before chaining them."""
    held = AuditOutbox()
    await held.record_many(events)
    async with async_sessionmaker(engine)() as session:
        await held.stage(session)
        await session.commit()
    return held


async def test_events_staged_by_a_process_that_died_are_chained_once_by_the_drain(
    audit_engine: AsyncEngine, writer: AuditWriter, signer: CheckpointSigner
) -> None:
    events = [change(n) for n in range(3)]
    await _stage_and_commit(audit_engine, events)
    assert await _count(audit_engine, store.OUTBOX) == 3
    assert await _count(audit_engine, store.EVENTS) == 0

    drain = OutboxDrain(audit_engine, writer, grace_s=0)
    assert await drain.run_once() == 3
    assert await drain.run_once() == 0

    async with audit_engine.connect() as conn:
        rows = (await conn.execute(select(store.EVENTS).order_by(store.EVENTS.c.seq))).mappings().all()
        assert (await verify_log(conn, signer.public_keys())).ok
    chained = [store.chained_from_row(row).event for row in rows]
    assert [event.id for event in chained] == [event.id for event in events]
    assert chained[0].detail == {"operation": "put", "n": 0, "when": [1, 2]}
    assert chained[0].occurred_at == events[0].occurred_at
    assert await _count(audit_engine, store.OUTBOX) == 0


async def test_the_process_that_staged_chains_its_own_events_and_empties_the_outbox(
    audit_engine: AsyncEngine, writer: AuditWriter
) -> None:
    held = await _stage_and_commit(audit_engine, [change(1), change(2)])

    await held.deliver(writer)

    assert await _count(audit_engine, store.EVENTS) == 2
    assert await _count(audit_engine, store.OUTBOX) == 0
    assert await OutboxDrain(audit_engine, writer, grace_s=0).run_once() == 0


async def test_two_writers_racing_for_the_same_staged_events_chain_each_once(
    audit_engine: AsyncEngine, writer: AuditWriter, signer: CheckpointSigner
) -> None:
    events = [change(n) for n in range(20)]
    await _stage_and_commit(audit_engine, events)
    other = AuditWriter(audit_engine, signer)
    await other.start()
    try:
        taken = await asyncio.gather(writer.record_staged(events), other.record_staged(events))
    finally:
        await other.close()

    assert sum(taken) == 20
    assert await _count(audit_engine, store.EVENTS) == 20
    async with audit_engine.connect() as conn:
        assert (await verify_log(conn, signer.public_keys())).ok


async def test_a_change_rolled_back_leaves_nothing_staged(audit_engine: AsyncEngine, writer: AuditWriter) -> None:
    held = AuditOutbox()
    await held.record(change(1))
    async with async_sessionmaker(audit_engine)() as session:
        await held.stage(session)
        await session.rollback()

    assert await _count(audit_engine, store.OUTBOX) == 0
    assert await OutboxDrain(audit_engine, writer, grace_s=0).run_once() == 0


async def test_the_drain_leaves_fresh_rows_to_the_process_that_staged_them(
    audit_engine: AsyncEngine, writer: AuditWriter
) -> None:
    await _stage_and_commit(audit_engine, [change(1)])

    assert await OutboxDrain(audit_engine, writer, grace_s=30).run_once() == 0
    later = OutboxDrain(audit_engine, writer, grace_s=30, clock=lambda: utcnow() + timedelta(seconds=31))
    assert await later.run_once() == 1
