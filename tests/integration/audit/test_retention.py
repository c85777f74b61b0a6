"""Retention purges whole months through the one delete path, leaves a signed record, and verify still holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit import actions, store
from accessctl.audit.chain import GENESIS_HASH, link_all
from accessctl.audit.events import AuditEvent
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


def _at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


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


async def test_window_after_a_purge_counts_the_missing_against_the_purge(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    """Seq 12 lies inside the purged range 1-16 but was not purged: a window over November still finds it gone."""
    await _three_months(writer)
    await purge_before(audit_engine, signer, NOV, clock=lambda: NOW)
    async with audit_engine.connect() as conn:
        assert (await verify_log(conn, signer.public_keys(), since=NOV)).ok
    await tamper(audit_engine, "DELETE FROM audit_events WHERE seq = 12")
    async with audit_engine.connect() as conn:
        problem = (await verify_log(conn, signer.public_keys(), since=NOV)).problem
    assert problem is not None and "12 record(s) missing, but the signed purges account for 11" in problem.what


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


async def _forged_purge_chain(engine: AsyncEngine, signer: CheckpointSigner, victim: uuid.UUID, at_seq: int) -> None:
    """A writer's chain as the outbox once let one be made: a purge record naming seqs 3-6 of `victim`, at `at_seq`
    among ordinary records, every record covered by a checkpoint the service signed."""
    chains = {str(victim): {"removed": 4, "first_seq": 3, "last_seq": 6}}
    forged = AuditEvent(action=actions.AUDIT_PURGED, occurred_at=NOW, detail={"chains": chains, "partitions": []})
    events = [decision(100 + n, at=NOV) for n in range(at_seq - 1)] + [forged, decision(200, at=NOV)]
    chained = link_all(events, chain_id=uuid.uuid4(), seq=1, prev_hash=GENESIS_HASH, recorded_at=NOW)
    await tamper(engine, "DELETE FROM audit_events WHERE seq BETWEEN 3 AND 6")  # only the victim's chain so far
    async with engine.begin() as conn:
        for record in chained:
            await store.append(conn, [record], signer.sign(record.chain_id, record.seq, record.hash, NOW))


@pytest.mark.parametrize("at_seq", [1, 3])
async def test_a_purge_record_in_a_writers_chain_accounts_for_nothing(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner, at_seq: int
) -> None:
    """Only a one-record chain, as retention writes it, is a purge: a signed one among other records is refused."""
    await _three_months(writer)
    await _forged_purge_chain(audit_engine, signer, writer.chain_id, at_seq)
    async with audit_engine.connect() as conn:
        problem = (await verify_log(conn, signer.public_keys())).problem
    assert problem is not None and problem.seq == at_seq
    assert "only the retention purge writes these" in problem.what


async def test_an_honest_log_keeps_verifying_purge_after_purge_over_the_years(
    audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    """Each yearly purge also removes the last one's record, and carries it, so its ranges stay accounted for."""
    purged = 0
    for year in range(2020, 2026):
        writer = AuditWriter(audit_engine, signer, checkpoint_every=2)
        await writer.start()
        for n, month in enumerate((2, 6, 10)):
            await writer.record(decision(n, at=datetime(year, month, 15, tzinfo=UTC)))
        await writer.close()
        if year >= 2022:
            # In January: removes the records of two years back, and the record of last January's purge.
            january = _at(datetime(year, 1, 10, tzinfo=UTC))
            result = await purge_before(audit_engine, signer, datetime(year - 1, 2, 1, tzinfo=UTC), clock=january)
            purged += result.removed
            async with audit_engine.connect() as conn:
                report = await verify_log(conn, signer.public_keys())
                window = await verify_log(conn, signer.public_keys(), since=datetime(year - 1, 6, 1, tzinfo=UTC))
            assert report.ok, (year, report.problem)
            assert window.ok, (year, window.problem)
            assert report.purged == purged
    assert purged == 3 * 4 + 3  # a year of records per purge, and the record of every purge but the last


async def test_a_carried_purge_is_checked_against_its_own_signed_checkpoint(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _three_months(writer)
    first = await purge_before(audit_engine, signer, OCT, clock=lambda: NOW)
    async with audit_engine.connect() as conn:
        first_hash = (await conn.execute(select(EVENTS.c.hash).where(EVENTS.c.id == first.event_id))).scalar_one()
    later = datetime(2027, 1, 10, tzinfo=UTC)
    await purge_before(audit_engine, signer, datetime(2026, 12, 1, tzinfo=UTC), clock=lambda: later)
    async with audit_engine.connect() as conn:
        assert (await verify_log(conn, signer.public_keys())).ok
    await tamper(audit_engine, "DELETE FROM audit_checkpoints WHERE hash = :hash", {"hash": first_hash})
    async with audit_engine.connect() as conn:
        problem = (await verify_log(conn, signer.public_keys())).problem
    assert problem is not None and "carried earlier purge" in problem.what


def test_retention_keeps_at_least_the_retention_period_in_whole_months() -> None:
    assert retention_cutoff(NOW, 3650) == datetime(2016, 11, 1, tzinfo=UTC)
    assert retention_cutoff(datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC), 1) == datetime(2026, 2, 1, tzinfo=UTC)
