"""A change commits with its audit events staged: a crash before the audit commit loses none, and none is doubled."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from accessctl.audit import actions, store
from accessctl.audit.events import AuditEvent
from accessctl.audit.outbox import OutboxDrain, _as_json
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.sink import AuditOutbox
from accessctl.audit.verify import verify_log
from accessctl.audit.writer import AuditWriter
from accessctl.db import utcnow
from accessctl.errors import InvalidInput


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


def forged_purge(victim: uuid.UUID) -> AuditEvent:
    """A purge record as someone would stage it to make seqs 3-6 of `victim` look purged."""
    chains = {str(victim): {"removed": 4, "first_seq": 3, "last_seq": 6}}
    detail = {"before": "2026-11-01T00:00:00.000000Z", "chains": chains, "partitions": []}
    return AuditEvent(action=actions.AUDIT_PURGED, occurred_at=utcnow(), user_id="privacy-officer", detail=detail)


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


async def test_a_purge_record_staged_in_the_outbox_is_never_chained_and_is_reported(
    audit_engine: AsyncEngine, writer: AuditWriter, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone with database access inserts a purge record into the outbox; the drain chains the rest around it."""
    forged = forged_purge(writer.chain_id)
    earlier = utcnow() - timedelta(minutes=5)
    async with audit_engine.begin() as conn:
        await conn.execute(insert(store.OUTBOX), [{"id": forged.id, "staged_at": earlier, "event": _as_json(forged)}])
    await _stage_and_commit(audit_engine, [change(1), change(2)])
    drain = OutboxDrain(audit_engine, writer, grace_s=0, batch=1)

    with caplog.at_level(logging.ERROR, logger="accessctl.audit.outbox"):
        assert await drain.run_once() == 2
        assert await drain.run_once() == 0

    async with audit_engine.connect() as conn:
        actions_chained = (await conn.execute(select(store.EVENTS.c.action))).scalars().all()
        left = (await conn.execute(select(store.OUTBOX.c.id))).scalars().all()
    assert sorted(actions_chained) == [actions.CONTEXT_CHANGED] * 2
    assert left == [forged.id]
    refusals = [r for r in caplog.records if r.levelno == logging.ERROR and str(forged.id) in r.getMessage()]
    assert len(refusals) == 1  # once per process, not every round


@pytest.mark.parametrize(
    "edit",
    [
        {"action": "decision.maybe"},  # no action this service records
        {"workstation": "w" * 129},  # longer than its column: PostgreSQL would refuse the whole batch
        {"occurred_at": "yesterday"},
    ],
)
async def test_an_outbox_row_edited_into_no_event_is_left_in_place_and_the_rest_are_chained(
    audit_engine: AsyncEngine, writer: AuditWriter, caplog: pytest.LogCaptureFixture, edit: dict[str, Any]
) -> None:
    edited = change(0)
    body = {**_as_json(edited), **edit}
    earlier = utcnow() - timedelta(minutes=5)
    async with audit_engine.begin() as conn:
        await conn.execute(insert(store.OUTBOX), [{"id": edited.id, "staged_at": earlier, "event": body}])
    await _stage_and_commit(audit_engine, [change(1), change(2)])
    drain = OutboxDrain(audit_engine, writer, grace_s=0, batch=1)  # the edited row is first of every batch

    with caplog.at_level(logging.ERROR, logger="accessctl.audit.outbox"):
        assert await drain.run_once() == 2
        assert await drain.run_once() == 0

    async with audit_engine.connect() as conn:
        left = (await conn.execute(select(store.OUTBOX.c.id))).scalars().all()
    assert left == [edited.id]
    assert await _count(audit_engine, store.EVENTS) == 2
    reports = [r for r in caplog.records if r.levelno == logging.ERROR and str(edited.id) in r.getMessage()]
    assert len(reports) == 1


async def test_no_path_but_retention_records_a_purge(audit_engine: AsyncEngine, writer: AuditWriter) -> None:
    forged = forged_purge(writer.chain_id)
    with pytest.raises(InvalidInput, match="only by the retention purge"):
        await writer.record(forged)
    with pytest.raises(InvalidInput, match="only by the retention purge"):
        await _stage_and_commit(audit_engine, [change(1), forged])
    assert await _count(audit_engine, store.EVENTS) == 0
    assert await _count(audit_engine, store.OUTBOX) == 0
