"""verify catches what the triggers would have refused: changed, removed, swapped, rewritten and truncated records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit.chain import link
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.store import EVENTS, chained_from_row
from accessctl.audit.verify import Report, verify_log
from accessctl.audit.writer import AuditWriter
from tests.integration.audit.helpers import T0, decision, tamper


async def _write_25(writer: AuditWriter) -> list[Any]:
    """25 records one by one: checkpoints at 10 and 20, and at 25 when the writer closes."""
    events = [decision(n) for n in range(25)]
    for event in events:
        await writer.record(event)
    await writer.close()
    return events


async def _verify(engine: AsyncEngine, signer: CheckpointSigner, **window: Any) -> Report:
    async with engine.connect() as conn:
        return await verify_log(conn, signer.public_keys(), **window)


async def test_intact_log_verifies_with_a_summary(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    report = await _verify(audit_engine, signer)
    assert report.problem is None
    assert (report.chains, report.records, report.checkpoints, report.unsigned) == (1, 25, 3, 0)


async def test_changed_field_is_named_with_its_chain_seq_and_event(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    events = await _write_25(writer)
    await tamper(audit_engine, "UPDATE audit_events SET patient = '02817099999' WHERE seq = 5")
    problem = (await _verify(audit_engine, signer)).problem
    assert problem is not None
    assert (problem.chain_id, problem.seq, problem.event_id) == (writer.chain_id, 5, events[4].id)
    assert "record changed" in problem.what


async def test_removed_record_is_found_at_the_gap(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    events = await _write_25(writer)
    await tamper(audit_engine, "DELETE FROM audit_events WHERE seq = 5")
    problem = (await _verify(audit_engine, signer)).problem
    assert problem is not None
    assert (problem.seq, problem.event_id) == (6, events[5].id)
    assert "seq 5 missing" in problem.what


async def test_swapped_records_are_found(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await tamper(audit_engine, "UPDATE audit_events SET seq = CASE seq WHEN 5 THEN 6 ELSE 5 END WHERE seq IN (5, 6)")
    problem = (await _verify(audit_engine, signer)).problem
    assert problem is not None and problem.seq == 5


async def test_chain_rewritten_after_an_edit_is_caught_by_the_signed_checkpoint(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    """An attacker who edits seq 12 and recomputes every later hash passes the links, not the signature."""
    await _write_25(writer)
    async with audit_engine.connect() as conn:
        rows = [chained_from_row(r._mapping) for r in await conn.execute(select(EVENTS).order_by(EVENTS.c.seq))]
    prev, updates = rows[10].hash, []
    for chained in rows[11:]:
        event = chained.event
        if chained.seq == 12:
            object.__setattr__(event, "patient", "02817099999")
        forged = link(
            event, chain_id=chained.chain_id, seq=chained.seq, prev_hash=prev, recorded_at=chained.recorded_at
        )
        updates.append({"seq": chained.seq, "patient": event.patient, "prev": prev, "hash": forged.hash})
        prev = forged.hash
    await tamper(
        audit_engine,
        "UPDATE audit_events SET patient = :patient, prev_hash = :prev, hash = :hash WHERE seq = :seq",
        updates,
    )
    problem = (await _verify(audit_engine, signer)).problem
    assert problem is not None and problem.seq == 20
    assert "signed checkpoint names hash" in problem.what


async def test_truncation_before_the_last_checkpoint_is_found(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await tamper(audit_engine, "DELETE FROM audit_events WHERE seq > 15")
    problem = (await _verify(audit_engine, signer)).problem
    assert problem is not None
    assert (problem.chain_id, problem.seq, problem.event_id) == (writer.chain_id, 20, None)
    assert "truncated" in problem.what


async def test_checkpoint_signed_with_another_key_is_refused(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    forged = CheckpointSigner.generate()
    async with audit_engine.connect() as conn:
        last = (await conn.execute(select(EVENTS).where(EVENTS.c.seq == 20))).one()
    checkpoint = forged.sign(last.chain_id, 20, last.hash, T0)
    await tamper(
        audit_engine,
        "UPDATE audit_checkpoints SET signature = :sig WHERE seq = 20",
        {"sig": checkpoint.signature},
    )
    problem = (await _verify(audit_engine, signer)).problem
    assert problem is not None and problem.seq == 20
    assert "signature does not verify" in problem.what


async def test_window_verifies_only_the_records_in_it(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await tamper(audit_engine, "UPDATE audit_events SET workstation = 'ws-evil' WHERE seq = 3")
    outside = await _verify(audit_engine, signer, since=decision(10).occurred_at, until=decision(20).occurred_at)
    inside = await _verify(audit_engine, signer, since=decision(0).occurred_at, until=decision(5).occurred_at)
    assert outside.ok and outside.records == 10
    assert inside.problem is not None and inside.problem.seq == 3


async def _window_12_to_19(engine: AsyncEngine, signer: CheckpointSigner) -> Report:
    """Verify the records that occurred from seq 12's moment until seq 20's (checkpoints are at 10, 20 and 25)."""
    return await _verify(engine, signer, since=decision(11).occurred_at, until=decision(19).occurred_at)


async def test_window_finds_records_removed_at_its_start(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await tamper(audit_engine, "DELETE FROM audit_events WHERE seq IN (12, 13)")
    problem = (await _window_12_to_19(audit_engine, signer)).problem
    assert problem is not None and problem.seq == 14
    assert "seqs 12-13 missing" in problem.what


async def test_window_finds_records_removed_at_its_end(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await tamper(audit_engine, "DELETE FROM audit_events WHERE seq IN (18, 19)")
    problem = (await _window_12_to_19(audit_engine, signer)).problem
    assert problem is not None and problem.seq == 20
    assert "seqs 18-19 missing" in problem.what


async def _rewrite(engine: AsyncEngine, first: int, last: int, patient: str) -> None:
    """Edit seq `first` to name another patient and re-link every record up to `last`, as an attacker would."""
    async with engine.connect() as conn:
        query = select(EVENTS).where(EVENTS.c.seq.between(first, last)).order_by(EVENTS.c.seq)
        rows = [chained_from_row(r._mapping) for r in await conn.execute(query)]
    prev, updates = rows[0].prev_hash, []
    for chained in rows:
        event = chained.event
        if chained.seq == first:
            object.__setattr__(event, "patient", patient)
        forged = link(
            event, chain_id=chained.chain_id, seq=chained.seq, prev_hash=prev, recorded_at=chained.recorded_at
        )
        updates.append({"seq": chained.seq, "patient": event.patient, "prev": prev, "hash": forged.hash})
        prev = forged.hash
    await tamper(
        engine, "UPDATE audit_events SET patient = :patient, prev_hash = :prev, hash = :hash WHERE seq = :seq", updates
    )


async def test_window_finds_its_last_record_rewritten(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await _rewrite(audit_engine, 19, 19, "02817099999")
    problem = (await _window_12_to_19(audit_engine, signer)).problem
    assert problem is not None and problem.seq == 20
    assert "prev_hash does not match seq 19" in problem.what


async def test_window_walks_on_to_the_checkpoint_that_signs_its_records(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    """An edit at seq 15 re-linked up to seq 20 passes every link; only the checkpoint at 20 shows it."""
    await _write_25(writer)
    await _rewrite(audit_engine, 15, 25, "02817099999")
    report = await _verify(audit_engine, signer, since=decision(11).occurred_at, until=decision(15).occurred_at)
    assert report.problem is not None and report.problem.seq == 20
    assert "signed checkpoint names hash" in report.problem.what


async def test_window_finds_a_chain_whose_records_in_it_were_all_removed(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await tamper(audit_engine, "DELETE FROM audit_events WHERE seq BETWEEN 12 AND 19")
    report = await _window_12_to_19(audit_engine, signer)
    assert report.chains == 1 and report.problem is not None
    assert "seqs 12-19 missing" in report.problem.what


async def test_window_finds_a_chain_removed_whole_while_its_checkpoints_stay(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    await tamper(audit_engine, "DELETE FROM audit_events")
    problem = (await _window_12_to_19(audit_engine, signer)).problem
    assert problem is not None and problem.chain_id == writer.chain_id and "truncated" in problem.what


async def test_intact_window_counts_only_its_own_records(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await _write_25(writer)
    report = await _window_12_to_19(audit_engine, signer)
    assert report.ok, report.problem
    assert (report.chains, report.records, report.checkpoints) == (1, 8, 1)


async def test_a_time_respelled_to_sort_elsewhere_is_found_on_sqlite(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    """SQLite keeps times as text: "2026-11-26T10:05:00.000000+01:00" reads back as the same moment, hashes alike,
    but sorts after every "2026-11-26 …" (a "T" after a space), out of a privacy officer's time range."""
    events = await _write_25(writer)
    if audit_engine.dialect.name != "sqlite":
        assert (await _verify(audit_engine, signer)).ok  # PostgreSQL stores the moment, not a spelling
        return
    await tamper(
        audit_engine,
        "UPDATE audit_events SET occurred_at = :respelled WHERE seq = 5",
        {"respelled": "2026-11-26T10:04:00.000000+01:00"},  # seq 5's own moment, 09:04 UTC
    )
    async with audit_engine.connect() as conn:
        stored = chained_from_row((await conn.execute(select(EVENTS).where(EVENTS.c.seq == 5))).one()._mapping)
    assert stored.event.occurred_at == events[4].occurred_at  # the same moment: the hash alone cannot tell
    problem = (await _verify(audit_engine, signer)).problem
    assert problem is not None
    assert (problem.chain_id, problem.seq, problem.event_id) == (writer.chain_id, 5, events[4].id)
    assert "spelling" in problem.what
