"""PostgreSQL's direct COPY: a batch commits on its own, whole or not at all, once, and survives a cut connection."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit.chain import GENESIS_HASH, link_all
from accessctl.audit.direct_copy import DirectCopy
from accessctl.audit.events import AuditEvent, ChainedEvent
from accessctl.audit.partitions import PartitionMaker
from tests.integration.audit.helpers import T0, decision, refused_by_the_database


@pytest.fixture
async def postgres(audit_engine: AsyncEngine) -> AsyncEngine:
    """The audit database, on PostgreSQL only, with the month of the test records made."""
    if audit_engine.dialect.name != "postgresql":
        pytest.skip("the direct COPY is PostgreSQL's path (SQLite commits through the writer's twin)")
    await PartitionMaker(audit_engine).ensure([T0])
    return audit_engine


@pytest.fixture
async def direct(postgres: AsyncEngine) -> AsyncIterator[DirectCopy]:
    copy = DirectCopy(postgres)
    yield copy
    await copy.close()


def _linked(*events: AuditEvent) -> list[ChainedEvent]:
    return link_all(events, chain_id=uuid.uuid4(), seq=1, prev_hash=GENESIS_HASH, recorded_at=T0)


async def _ids(engine: AsyncEngine, batch: list[ChainedEvent]) -> list[uuid.UUID]:
    async with engine.connect() as conn:
        query = text("SELECT id FROM audit_events WHERE chain_id = :chain ORDER BY seq")
        return list((await conn.execute(query, {"chain": batch[0].chain_id})).scalars())


async def _alive(engine: AsyncEngine, pid: int) -> bool:
    async with engine.connect() as conn:
        return bool(await conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}))


async def _cut(engine: AsyncEngine, pid: int) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


async def test_a_batch_is_committed_when_append_returns(audit_engine: AsyncEngine, direct: DirectCopy) -> None:
    batch = _linked(decision(1), decision(2))
    await direct.append(batch)
    # No transaction of ours is open: another connection reads the rows at once.
    assert await _ids(audit_engine, batch) == [c.event.id for c in batch]


async def test_a_refused_batch_leaves_none_of_its_rows_and_its_connection_is_replaced(
    audit_engine: AsyncEngine, direct: DirectCopy
) -> None:
    first = await direct.server_pid()
    bad = _linked(decision(3), refused_by_the_database(decision(4)))
    with pytest.raises(asyncpg.StringDataRightTruncationError):
        await direct.append(bad)
    assert await _ids(audit_engine, bad) == []
    again = _linked(decision(5))
    await direct.append(again)
    assert len(await _ids(audit_engine, again)) == 1
    assert await direct.server_pid() != first


async def test_a_connection_cut_just_before_a_batch_is_replaced_and_the_batch_commits(
    audit_engine: AsyncEngine, direct: DirectCopy
) -> None:
    pid = await direct.server_pid()
    await _cut(audit_engine, pid)
    batch = _linked(decision(6), decision(7))
    await direct.append(batch)  # at once: the driver may not have seen the cut yet
    assert await _ids(audit_engine, batch) == [c.event.id for c in batch]
    assert await direct.server_pid() != pid


class _LostAfterCommit(DirectCopy):
    """The first COPY commits, and then the connection is lost before the answer: an outcome the writer cannot
    know. The retry must not store the batch twice."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.copies = 0

    async def _copy(self, driver: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.copies += 1
        await super()._copy(driver, columns, rows)
        if self.copies == 1:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")


async def test_a_batch_of_unknown_outcome_is_retried_and_never_stored_twice(postgres: AsyncEngine) -> None:
    audit_engine = postgres
    lost = _LostAfterCommit(audit_engine)
    try:
        batch = _linked(decision(8), decision(9))
        # The retry finds the rows committed: the primary key refuses them, and the writer hears of a failure.
        with pytest.raises(asyncpg.UniqueViolationError):
            await lost.append(batch)
        assert lost.copies == 2
        assert await _ids(audit_engine, batch) == [c.event.id for c in batch]
    finally:
        await lost.close()


async def test_a_copy_given_up_on_is_cancelled_at_the_server_and_leaves_nothing(
    audit_engine: AsyncEngine, direct: DirectCopy
) -> None:
    pid = await direct.server_pid()
    batch = _linked(decision(10), decision(11))
    async with audit_engine.connect() as blocker:
        await blocker.execute(text("LOCK TABLE audit_events IN EXCLUSIVE MODE"))
        copying = asyncio.create_task(direct.append(batch))
        await asyncio.sleep(0.3)  # the COPY waits for the lock, at the server
        copying.cancel()
        with pytest.raises(asyncio.CancelledError):
            await copying
        await blocker.rollback()
    assert await _ids(audit_engine, batch) == []
    assert not await _alive(audit_engine, pid)  # its connection was dropped
    assert await direct.server_pid() != pid


async def test_fence_ends_the_backends_of_dropped_connections_and_forgets_them(
    audit_engine: AsyncEngine, direct: DirectCopy
) -> None:
    # A backend still finishing a COPY after its client let go (a network that lost the connection) cannot be
    # made on loopback, where the driver cancels and closes; an idle session stands in for it.
    lingering = await asyncpg.connect(audit_engine.url.set(drivername="postgresql").render_as_string(False))
    try:
        pid = lingering.get_server_pid()
        direct._dropped.append(pid)  # as `_drop` records it
        await direct.fence()
        assert not await _alive(audit_engine, pid)
        assert direct._dropped == []
    finally:
        await lingering.close()


async def test_a_copy_that_takes_too_long_is_cancelled_tried_once_more_and_fails(postgres: AsyncEngine) -> None:
    audit_engine = postgres
    slow = DirectCopy(audit_engine, timeout_s=0.3)
    try:
        first = await slow.server_pid()
        batch = _linked(decision(12))
        async with audit_engine.connect() as blocker:
            await blocker.execute(text("LOCK TABLE audit_events IN EXCLUSIVE MODE"))
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await slow.append(batch)  # waits for the lock past its timeout, twice
            assert time.monotonic() - started >= 0.55
            await blocker.rollback()
        assert await _ids(audit_engine, batch) == []
        assert await slow.server_pid() != first
    finally:
        await slow.close()


class _Unreachable:
    """An engine whose every connection is refused, as while the store is down."""

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Any]:
        raise OSError("connection refused")
        yield  # pragma: no cover


async def test_a_fence_that_cannot_reach_the_store_forgets_no_backend_and_the_next_ends_it(
    postgres: AsyncEngine,
) -> None:
    victim = await postgres.connect()  # a backend left from a batch of unknown outcome
    pid = int(await victim.scalar(text("SELECT pg_backend_pid()")))
    try:
        copy = DirectCopy(cast(AsyncEngine, _Unreachable()))
        copy._dropped.append(pid)  # as a dropped connection is recorded
        with pytest.raises(OSError):
            await copy.fence()
        copy._engine = postgres  # the store is back
        await copy.fence()
        assert not await _alive(postgres, pid)
        await copy.fence()  # nothing left to end
    finally:
        await victim.invalidate()  # its backend is gone: nothing to roll back
        await victim.close()
