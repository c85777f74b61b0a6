"""Retention purges whole months through the one delete path, leaves a signed record, and verify still holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit import actions
from accessctl.audit.partitions import existing_partitions
from accessctl.audit.retention import purge_before, retention_cutoff
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.store import EVENTS
from accessctl.audit.verify import verify_log
from accessctl.audit.writer import AuditWriter
from accessctl.errors import InvalidInput
from tests.integration.audit.helpers import decision, tamper

SEP, OCT, NOV = (datetime(2026, month, 15, tzinfo=UTC) for month in (9, 10, 11))
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


async def _three_months(writer: AuditWriter) -> None:
    """Seqs 1-5 in September, 6-10 in October, 11-15 in November, 16 a late October event, 17-20 November."""
    months = [SEP] * 5 + [OCT] * 5 + [NOV] * 5 + [OCT] + [NOV] * 4
    for n, month in enumerate(months):
        await writer.record(decision(n, at=month.replace(minute=n)))
    await writer.close()


async def _seqs(engine: AsyncEngine, chain_id: object) -> list[int]:
    async with engine.connect() as conn:
        query = select(EVENTS.c.seq).where(EVENTS.c.chain_id == chain_id).order_by(EVENTS.c.seq)
        return list((await conn.execute(query)).scalars())


async def test_purge_removes_whole_months_and_verify_accounts_for_the_gaps(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _three_months(writer)
    result = await purge_before(audit_engine, signer, NOV, actor="privacy-officer", clock=lambda: NOW)
    assert (result.before, result.removed, result.chains) == (datetime(2026, 11, 1, tzinfo=UTC), 11, 1)
    assert await _seqs(audit_engine, writer.chain_id) == [11, 12, 13, 14, 15, 17, 18, 19, 20]
    async with audit_engine.connect() as conn:
        purge = (await conn.execute(select(EVENTS).where(EVENTS.c.action == actions.AUDIT_PURGED))).one()
        report = await verify_log(conn, signer.public_keys())
        if conn.dialect.name == "postgresql":
            assert min(await existing_partitions(conn)) == datetime(2026, 11, 1, tzinfo=UTC)
    assert purge.id == result.event_id and purge.user_id == "privacy-officer"
    assert purge.detail["chains"][str(writer.chain_id)] == {"removed": 11, "first_seq": 1, "last_seq": 16}
    assert report.ok, report.problem
    assert (report.purged, report.chains) == (11, 2)


async def test_record_removed_inside_a_purged_range_is_still_found(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _three_months(writer)
    await purge_before(audit_engine, signer, NOV, clock=lambda: NOW)
    await tamper(audit_engine, "DELETE FROM audit_events WHERE seq = 12")
    async with audit_engine.connect() as conn:
        problem = (await verify_log(conn, signer.public_keys())).problem
    assert problem is not None and problem.chain_id == writer.chain_id
    assert "12 record(s) missing, but the signed purges account for 11" in problem.what


async def test_delete_is_refused_again_after_a_purge(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _three_months(writer)
    await purge_before(audit_engine, signer, NOV, clock=lambda: NOW)
    with pytest.raises(DBAPIError, match="append-only"):
        async with audit_engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_events"))


async def test_purge_with_nothing_old_enough_writes_nothing(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await writer.record(decision(0, at=NOV))
    result = await purge_before(audit_engine, signer, NOV, clock=lambda: NOW)
    assert (result.removed, result.event_id) == (0, None)
    async with audit_engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit_events"))).scalar_one() == 1


async def test_forged_purge_record_is_not_trusted(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    """Someone who deletes records and writes a purge record without the key does not get past verify."""
    await _three_months(writer)
    await purge_before(audit_engine, signer, NOV, clock=lambda: NOW)
    await tamper(audit_engine, "DELETE FROM audit_checkpoints WHERE seq = 1")
    async with audit_engine.connect() as conn:
        problem = (await verify_log(conn, signer.public_keys())).problem
    assert problem is not None and "purge record is not covered by a signed checkpoint" in problem.what


async def test_purge_refuses_a_cutoff_the_retention_period_still_keeps(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _three_months(writer)
    with pytest.raises(InvalidInput, match="retention period still keeps"):
        await purge_before(audit_engine, signer, NOV, retention_days=60, clock=lambda: NOW)
    assert len(await _seqs(audit_engine, writer.chain_id)) == 20
    result = await purge_before(audit_engine, signer, OCT, retention_days=40, clock=lambda: NOW)
    assert result.removed == 5


def test_retention_keeps_at_least_the_retention_period_in_whole_months() -> None:
    assert retention_cutoff(NOW, 3650) == datetime(2016, 11, 1, tzinfo=UTC)
    assert retention_cutoff(datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC), 1) == datetime(2026, 2, 1, tzinfo=UTC)
