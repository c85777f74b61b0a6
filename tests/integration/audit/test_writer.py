"""The group-commit writer: acknowledged means committed, batches share a transaction, failures fail closed."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit.chain import GENESIS_HASH
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.store import CHECKPOINTS, EVENTS
from accessctl.audit.verify import verify_log
from accessctl.audit.writer import AuditWriter
from accessctl.errors import StoreUnavailable
from accessctl.sqlite_writing import synchronous_twin
from tests.integration.audit.helpers import decision, refused_by_the_database


async def _rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(EVENTS).order_by(EVENTS.c.chain_id, EVENTS.c.seq)))


async def _cut_other_connections(engine: AsyncEngine) -> int:
    """On PostgreSQL, end every other connection to this database, as a restart would (0 on SQLite)."""
    if engine.dialect.name != "postgresql":
        return 0
    async with engine.connect() as conn:
        cut = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return int(cut or 0)


async def _failed_closed_and_the_chain_goes_on(
    writer: AuditWriter, engine: AsyncEngine, signer: CheckpointSigner, results: list[Any], head: tuple[int, str]
) -> None:
    """Every caller of the failed batch heard StoreUnavailable, nothing of it is stored, the chain did not move, and
    the next record follows the one committed before the failure, in a log that verifies."""
    assert results and all(isinstance(r, StoreUnavailable) for r in results)
    assert writer.head == head
    assert len(await _rows(engine)) == 1

    await writer.record(decision(99))
    rows = await _rows(engine)
    assert [row.seq for row in rows] == [1, 2]
    assert rows[1].prev_hash == rows[0].hash
    async with engine.connect() as conn:
        assert (await verify_log(conn, signer.public_keys())).ok


async def _checkpoint_seqs(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(CHECKPOINTS.c.seq).order_by(CHECKPOINTS.c.seq))).scalars())


async def test_record_returns_only_after_the_row_is_visible_to_another_connection(
    writer: AuditWriter, audit_engine: AsyncEngine
) -> None:
    event = decision(1)
    await writer.record(event)
    rows = await _rows(audit_engine)
    assert [(row.id, row.seq, row.prev_hash) for row in rows] == [(event.id, 1, GENESIS_HASH)]
    assert rows[0].patient == event.patient and rows[0].roles == ["nurse", "ward-clerk"]


async def test_concurrent_records_share_transactions_and_form_one_unbroken_chain(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    events = [decision(n) for n in range(64)]
    await asyncio.gather(*(writer.record(e) for e in events))
    rows = await _rows(audit_engine)
    assert [row.seq for row in rows] == list(range(1, 65))
    assert {row.id for row in rows} == {e.id for e in events}
    assert all(row.prev_hash == before.hash for before, row in itertools.pairwise(rows))
    # One recorded_at per batch: 64 callers at once took far fewer than 64 transactions.
    assert len({row.recorded_at for row in rows}) < 8
    async with audit_engine.connect() as conn:
        assert (await verify_log(conn, signer.public_keys())).ok


async def test_record_many_keeps_the_order_given(writer: AuditWriter, audit_engine: AsyncEngine) -> None:
    events = [decision(n) for n in range(5)]
    await writer.record_many(events)
    assert [row.id for row in await _rows(audit_engine)] == [e.id for e in events]


async def test_failed_commit_fails_every_waiter_and_does_not_advance_the_chain(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    await writer.record(decision(0))
    head = writer.head

    def refuse(_conn: Any) -> None:
        raise ConnectionError("database went away")

    # The engine the writer commits through: on SQLite its synchronous twin. On PostgreSQL the batch below reaches
    # a due checkpoint and so commits in a transaction; decisions alone go by the writer's own COPY (tests below),
    # whose connection is cut here as well, so neither path can commit the batch.
    store = synchronous_twin(audit_engine.sync_engine) or audit_engine.sync_engine
    event.listen(store, "commit", refuse)
    await _cut_other_connections(audit_engine)
    try:
        results = await asyncio.gather(*(writer.record(decision(n)) for n in range(1, 20)), return_exceptions=True)
    finally:
        event.remove(store, "commit", refuse)
    await _failed_closed_and_the_chain_goes_on(writer, audit_engine, signer, results, head)


async def test_full_queue_makes_callers_wait_and_loses_nothing(
    audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    writer = AuditWriter(audit_engine, signer, max_batch=3, queue_size=2)
    await writer.start()
    try:
        events = [decision(n) for n in range(40)]
        await asyncio.gather(*(writer.record(e) for e in events))
    finally:
        await writer.close()
    rows = await _rows(audit_engine)
    assert {row.id for row in rows} == {e.id for e in events}
    assert [row.seq for row in rows] == list(range(1, 41))
    assert len({row.recorded_at for row in rows}) >= 40 // 3  # batches never grew past max_batch


async def test_close_commits_what_is_queued_and_signs_the_tail(
    audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    writer = AuditWriter(audit_engine, signer, checkpoint_every=1000, checkpoint_seconds=60)
    await writer.start()
    pending = [asyncio.create_task(writer.record(decision(n))) for n in range(30)]
    await asyncio.sleep(0)  # the callers have queued, nothing has been awaited
    await writer.close()
    await asyncio.gather(*pending)
    assert len(await _rows(audit_engine)) == 30
    assert await _checkpoint_seqs(audit_engine) == [30]
    with pytest.raises(StoreUnavailable):
        await writer.record(decision(31))


async def test_checkpoint_is_written_in_the_batch_that_reaches_every_n_records(
    writer: AuditWriter, audit_engine: AsyncEngine
) -> None:
    for n in range(25):
        await writer.record(decision(n))
    assert await _checkpoint_seqs(audit_engine) == [10, 20]


async def test_idle_chain_is_signed_after_checkpoint_seconds(
    audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    writer = AuditWriter(audit_engine, signer, checkpoint_every=1000, checkpoint_seconds=0.2)
    await writer.start()
    try:
        await writer.record_many([decision(n) for n in range(3)])
        assert await _checkpoint_seqs(audit_engine) == []
        await asyncio.sleep(0.6)
        assert await _checkpoint_seqs(audit_engine) == [3]
    finally:
        await writer.close()
    assert await _checkpoint_seqs(audit_engine) == [3]  # nothing new to sign at close


async def test_records_of_two_writers_form_two_chains(audit_engine: AsyncEngine, signer: CheckpointSigner) -> None:
    first, second = AuditWriter(audit_engine, signer), AuditWriter(audit_engine, signer)
    await first.start()
    await second.start()
    try:
        await asyncio.gather(*(w.record(decision(n)) for n in range(10) for w in (first, second)))
    finally:
        await first.close()
        await second.close()
    async with audit_engine.connect() as conn:
        result = await conn.execute(select(EVENTS.c.chain_id, func.max(EVENTS.c.seq)).group_by(EVENTS.c.chain_id))
        per_chain = dict(result.tuples().all())
        report = await verify_log(conn, signer.public_keys())
    assert per_chain == {first.chain_id: 10, second.chain_id: 10}
    assert report.ok and report.chains == 2 and report.records == 20


def _postgres_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the writer's own connection is PostgreSQL's (SQLite commits through the twin)")


async def test_decisions_with_no_checkpoint_due_take_no_transaction(
    writer: AuditWriter, audit_engine: AsyncEngine
) -> None:
    _postgres_only(audit_engine)
    await writer.record(decision(0))  # the first batch also makes its month's partition, in a transaction
    begun: list[object] = []

    def count(conn: object) -> None:
        begun.append(conn)

    event.listen(audit_engine.sync_engine, "begin", count)
    try:
        for n in range(1, 4):  # the fixture's writer signs every 10 records: none is due
            await writer.record(decision(n))
    finally:
        event.remove(audit_engine.sync_engine, "begin", count)
    assert begun == []
    assert [row.seq for row in await _rows(audit_engine)] == [1, 2, 3, 4]


async def test_decisions_go_on_at_once_after_the_writer_s_connection_is_cut(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    _postgres_only(audit_engine)
    await writer.record(decision(0))  # the writer now holds its connection
    assert await _cut_other_connections(audit_engine) >= 1
    await writer.record(decision(1))  # at once, as after a server restart: no caller hears of it
    rows = await _rows(audit_engine)
    assert [row.seq for row in rows] == [1, 2]
    async with audit_engine.connect() as conn:
        assert (await verify_log(conn, signer.public_keys())).ok


async def test_a_batch_of_decisions_the_database_refuses_fails_closed_and_the_chain_goes_on(
    writer: AuditWriter, audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    _postgres_only(audit_engine)
    await writer.record(decision(0))
    head = writer.head
    refused = [decision(1), refused_by_the_database(decision(2)), decision(3)]
    results = await asyncio.gather(*(writer.record(e) for e in refused), return_exceptions=True)
    await _failed_closed_and_the_chain_goes_on(writer, audit_engine, signer, results, head)


# Stands in for a COMMIT the server takes its time over (an fsync stall) while the network drops the client.
_SLOW_CHECKPOINT_COMMIT = (
    "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON audit_checkpoints "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
)


async def test_a_commit_lost_on_the_wire_is_fenced_before_the_chain_goes_on(
    audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    """A batch with a checkpoint commits in a pooled transaction. Its client connection is cut while the server
    still works on the COMMIT, which then lands: the writer must not link the next batch from the old head first."""
    _postgres_only(audit_engine)
    async with audit_engine.begin() as conn:
        for statement in _SLOW_CHECKPOINT_COMMIT:
            await conn.exec_driver_sql(statement)
    writer = AuditWriter(audit_engine, signer, checkpoint_every=2, checkpoint_seconds=600)
    await writer.start()
    cut: list[Any] = []

    def lose_the_connection_during_commit(conn: Any) -> None:
        if not cut:  # the first pooled COMMIT only
            driver = conn.connection.driver_connection
            cut.append(driver)
            asyncio.get_running_loop().call_later(0.3, driver.terminate)  # the client's side: the server goes on

    event.listen(audit_engine.sync_engine, "commit", lose_the_connection_during_commit)
    try:
        with pytest.raises(StoreUnavailable):
            await writer.record_many([decision(1), decision(2)])  # a checkpoint is due at seq 2
        await writer.record(decision(3))  # waits for the lost COMMIT's backend to end before reading the head
    finally:
        event.remove(audit_engine.sync_engine, "commit", lose_the_connection_during_commit)
        await writer.close()

    assert cut
    async with audit_engine.connect() as conn:
        query = select(EVENTS.c.seq).where(EVENTS.c.chain_id == writer.chain_id).order_by(EVENTS.c.seq)
        seqs = list((await conn.execute(query)).scalars())
        report = await verify_log(conn, signer.public_keys())
    assert len(seqs) == len(set(seqs)), f"two records share a place in the chain: {seqs}"
    assert report.ok, report.problem


async def test_close_answers_callers_that_were_waiting_for_room_in_a_full_queue(
    audit_engine: AsyncEngine, signer: CheckpointSigner
) -> None:
    writer = AuditWriter(audit_engine, signer, max_batch=100, queue_size=2)
    await writer.start()
    calls = [asyncio.create_task(writer.record(decision(n))) for n in range(10)]
    await asyncio.sleep(0)  # all ten are in record(): two queued, eight waiting for room
    await asyncio.wait_for(writer.close(), 10)
    done, waiting = await asyncio.wait(calls, timeout=5)
    assert not waiting, f"{len(waiting)} caller(s) never answered"
    committed = [call for call in done if call.exception() is None]
    refused = [call for call in done if isinstance(call.exception(), StoreUnavailable)]
    assert len(committed) + len(refused) == 10
    assert len(await _rows(audit_engine)) == len(committed)  # answered "committed" means committed, and only that
