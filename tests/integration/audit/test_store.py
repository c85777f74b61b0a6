"""The audit store's own INSERT writes exactly what SQLAlchemy's insert writes, on either database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit import store
from accessctl.audit.chain import GENESIS_HASH, link_all
from accessctl.audit.events import AuditEvent, ChainedEvent
from accessctl.audit.partitions import PartitionMaker
from tests.integration.audit.helpers import decision, refused_by_the_database

RECORDED = datetime(2026, 11, 26, 9, 30, 0, 123456, tzinfo=UTC)
# Columns that differ between the two copies on purpose; every other one must be stored alike.
OWN = {"id", "decision_id", "chain_id", "hash", "prev_hash"}


def _copies() -> list[AuditEvent]:
    plain = decision(1)
    nested = decision(2, detail={"care_relation_kind": "gp", "counts": {"a": 1}, "list": [1, "x", None]})
    sparse = AuditEvent(action="policy.published", occurred_at=RECORDED, user_id="admin", detail=None)
    return [plain, nested, sparse]


@pytest.fixture(autouse=True)
async def partitions(audit_engine: AsyncEngine) -> None:
    await PartitionMaker(audit_engine).ensure([RECORDED])


def _linked(events: list[AuditEvent]) -> list[ChainedEvent]:
    return link_all(events, chain_id=uuid.uuid4(), seq=1, prev_hash=GENESIS_HASH, recorded_at=RECORDED)


def _fresh_ids(event: AuditEvent) -> AuditEvent:
    new_id = uuid.uuid4()
    return replace(event, id=new_id, decision_id=new_id if event.decision_id is not None else None)


async def _raw(engine: AsyncEngine, chain_id: uuid.UUID) -> list[dict[str, Any]]:
    hex_or_uuid = chain_id if engine.dialect.name == "postgresql" else chain_id.hex
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT * FROM audit_events WHERE chain_id = :chain ORDER BY seq"), {"chain": hex_or_uuid}
        )
        return [dict(row._mapping) for row in result]


async def test_driver_insert_stores_what_sqlalchemy_stores(audit_engine: AsyncEngine) -> None:
    events = _copies()
    ours = _linked(events)
    theirs = _linked([_fresh_ids(e) for e in events])
    async with audit_engine.begin() as conn:
        await store.append(conn, ours, None)
        await conn.execute(insert(store.EVENTS), [store.event_row(c) for c in theirs])
    our_rows, their_rows = await _raw(audit_engine, ours[0].chain_id), await _raw(audit_engine, theirs[0].chain_id)
    assert len(our_rows) == len(their_rows) == 3
    for mine, other in zip(our_rows, their_rows, strict=True):
        assert {k: v for k, v in mine.items() if k not in OWN} == {k: v for k, v in other.items() if k not in OWN}
        assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in other.items()}


async def test_rows_from_the_driver_insert_read_back_as_the_events_linked(audit_engine: AsyncEngine) -> None:
    linked = _linked(_copies())
    async with audit_engine.begin() as conn:
        await store.append(conn, linked, None)
    query = select(store.EVENTS).where(store.EVENTS.c.chain_id == linked[0].chain_id).order_by(store.EVENTS.c.seq)
    async with audit_engine.connect() as conn:
        read = [store.chained_from_row(row._mapping) for row in await conn.execute(query)]
    assert [(c.event, c.seq, c.hash, c.recorded_at) for c in read] == [
        (c.event, c.seq, c.hash, c.recorded_at) for c in linked
    ]


async def test_a_value_the_column_cannot_hold_fails_the_whole_batch(audit_engine: AsyncEngine) -> None:
    if audit_engine.dialect.name == "sqlite":
        pytest.skip("SQLite does not enforce column lengths")
    linked = _linked([decision(1), refused_by_the_database(decision(2))])
    with pytest.raises(Exception, match="too long"):
        async with audit_engine.begin() as conn:
            await store.append(conn, linked, None)
    assert await _raw(audit_engine, linked[0].chain_id) == []


async def test_rows_appended_as_a_transaction_s_first_statement_go_when_it_rolls_back(
    audit_engine: AsyncEngine,
) -> None:
    # On PostgreSQL the rows go by COPY on the driver's connection: it must not run (and commit) on its own.
    linked = _linked(_copies())
    async with audit_engine.connect() as conn:
        transaction = await conn.begin()
        await store.append(conn, linked, None)
        await transaction.rollback()
    assert await _raw(audit_engine, linked[0].chain_id) == []
