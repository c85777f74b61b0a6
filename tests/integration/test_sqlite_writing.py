"""SQLite writing: writers take turns in arrival order instead of sleeping in SQLite's busy handler, in this process
and across processes, without blocking the event loop; the audit writer's synchronous twin is configured like the
engine and shares its turn; WAL checkpoints reach the database file off the writers' path and end in their turn."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import os
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.store import EVENTS
from accessctl.audit.writer import AuditWriter
from accessctl.db import begin_writing, make_engine, writer_turn
from accessctl.errors import StoreUnavailable
from accessctl.sqlite_writing import WalCheckpoints, checkpoint, synchronous_twin, writer_turn_of
from tests.integration.audit.helpers import decision


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'writing.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (body TEXT NOT NULL)"))
    yield engine
    await engine.dispose()


async def _write(sessions: async_sessionmaker[AsyncSession], who: str, order: list[str], *, commit: bool) -> None:
    async with sessions() as session:
        await begin_writing(session)
        order.append(who)
        await session.execute(text("INSERT INTO notes VALUES (:who)"), {"who": who})
        await asyncio.sleep(0.05)  # holding the write lock, as a request does while it works
        if commit:
            await session.commit()
            order.append(f"{who} committed")
        # else: the session closes with the transaction rolled back


async def test_writers_wait_their_turn_in_arrival_order_and_a_rollback_ends_a_turn(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    order: list[str] = []
    writers = []
    # The third arrives just before the first is done: SQLite's busy handler, whose sleeps grow, would most
    # likely let it in before the second, which has been waiting for 40 ms.
    for who, commit, after in (("first", True, 0.005), ("second", False, 0.04), ("third", True, 0.0)):
        writers.append(asyncio.create_task(_write(sessions, who, order, commit=commit)))
        await asyncio.sleep(after)

    await asyncio.wait_for(asyncio.gather(*writers), timeout=5)

    assert order == ["first", "first committed", "second", "third", "third committed"]
    async with engine.connect() as conn:
        assert list((await conn.execute(text("SELECT body FROM notes ORDER BY rowid"))).scalars()) == ["first", "third"]


async def test_a_writer_with_its_own_transaction_takes_a_turn_too(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    order: list[str] = []
    request = asyncio.create_task(_write(sessions, "request", order, commit=True))
    await asyncio.sleep(0.005)

    async with writer_turn(engine), engine.begin() as conn:
        order.append("audit")
        await conn.execute(text("INSERT INTO notes VALUES ('audit')"))
    await request

    assert order == ["request", "request committed", "audit"]


def _lock_file(tmp_path: Path) -> Path:
    return tmp_path / "writing.db-writer.lock"


async def test_a_writer_waits_for_another_process_turn_without_blocking_the_loop(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # Another process's turn: its own open file description on the same lock file.
    other = os.open(_lock_file(tmp_path), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    order: list[str] = []

    async def write() -> None:
        async with writer_turn(engine):
            order.append("ours")

    try:
        ours = asyncio.create_task(write())
        for _ in range(10):  # the loop keeps serving while the writer waits
            await asyncio.sleep(0.01)
        assert not ours.done() and order == []
        order.append("other done")
        fcntl.flock(other, fcntl.LOCK_UN)
        await asyncio.wait_for(ours, timeout=5)
    finally:
        os.close(other)
    assert order == ["other done", "ours"]


async def test_a_writer_that_gives_up_waiting_leaves_the_turn_free(engine: AsyncEngine, tmp_path: Path) -> None:
    other = os.open(_lock_file(tmp_path), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:

        async def wait_for_turn() -> None:
            async with writer_turn(engine):
                pass

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(wait_for_turn(), timeout=0.05)
        fcntl.flock(other, fcntl.LOCK_UN)
        await asyncio.sleep(0.1)  # the abandoned waiter's thread gets the lock, and lets it go
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: would raise BlockingIOError if still held
        fcntl.flock(other, fcntl.LOCK_UN)
        await asyncio.wait_for(wait_for_turn(), timeout=5)
    finally:
        os.close(other)


async def test_the_twin_writes_the_same_file_in_wal_mode_with_full_sync(engine: AsyncEngine) -> None:
    twin = synchronous_twin(engine.sync_engine)
    assert twin is not None
    with twin.begin() as conn:
        conn.exec_driver_sql("INSERT INTO notes VALUES ('from the twin')")
        settings = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous")]
    assert settings == ["wal", 2]  # 2 = FULL
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT body FROM notes"))).scalar_one() == "from the twin"
    assert synchronous_twin(engine.sync_engine) is twin
    assert synchronous_twin(make_engine("sqlite+aiosqlite:///:memory:").sync_engine) is None
    assert synchronous_twin(make_engine("postgresql+asyncpg://postgres@127.0.0.1/absent").sync_engine) is None


def test_the_twin_does_not_keep_its_engine_alive(tmp_path: Path) -> None:
    """The twin knows its engine (they share a writer turn), but only weakly."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'freed.db'}")
    twin = synchronous_twin(engine.sync_engine)
    assert twin is not None
    freed = weakref.ref(engine.sync_engine)
    del engine
    gc.collect()
    assert freed() is None


async def test_a_checkpoint_ends_in_the_writers_turn_so_the_next_commit_starts_the_wal_over(
    engine: AsyncEngine,
) -> None:
    """Under steady writes a PASSIVE checkpoint never copies the frames committed while it ran, and the WAL only
    grows; so the checkpoint's last step waits for the writers' turn, when no frame can come in."""
    twin = synchronous_twin(engine.sync_engine)
    assert twin is not None
    with twin.begin() as conn:
        conn.exec_driver_sql("INSERT INTO notes VALUES (?)", [("x" * 1000,) for _ in range(2000)])
    turn = writer_turn_of(engine.sync_engine)
    assert writer_turn_of(twin) is turn  # the twin writes the same database: one turn

    checkpoints = WalCheckpoints(interval=0)
    await turn.acquire()  # a writer is in the middle of its commit
    try:
        checkpoints.after_commit(twin)
        closing = asyncio.create_task(checkpoints.close())  # done when the checkpoint is
        await asyncio.sleep(0.3)
        assert not closing.done(), "the checkpoint's last step waits for the writer's turn"
    finally:
        turn.release()
    await asyncio.wait_for(closing, timeout=5)

    with twin.begin() as conn:
        conn.exec_driver_sql("INSERT INTO notes VALUES ('after')")
    # All of the WAL was copied, so this commit started it over: it holds this commit's frames alone.
    assert checkpoint(twin).frames <= 2


async def test_checkpoints_copy_the_wal_into_the_database_file_in_the_background(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    twin = synchronous_twin(engine.sync_engine)
    assert twin is not None
    database = tmp_path / "writing.db"
    emptied = sqlite3.connect(database)
    emptied.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    emptied.close()
    size_before = database.stat().st_size
    with twin.begin() as conn:  # below the twin's automatic checkpoint: stays in the WAL
        conn.exec_driver_sql("INSERT INTO notes VALUES (?)", [("x" * 1000,) for _ in range(2000)])
    assert database.stat().st_size == size_before, "the rows are in the WAL only"

    checkpoints = WalCheckpoints(interval=0)
    checkpoints.after_commit(twin)
    await checkpoints.close()

    assert database.stat().st_size > size_before + 1_000_000
    copied = sqlite3.connect(database)  # what the database file holds, now also through the WAL
    try:
        assert copied.execute("SELECT count(*) FROM notes").fetchone() == (2000,)
    finally:
        copied.close()


@pytest.fixture
def audit_database(tmp_path: Path) -> str:
    """A SQLite file migrated to head, whatever database the rest of the run uses."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    migrate.upgrade(url, quiet=True)
    return url


async def test_a_writer_outside_the_turns_delays_audit_commits_without_blocking_the_loop(audit_database: str) -> None:
    engine = make_engine(audit_database)
    writer = AuditWriter(engine, CheckpointSigner.generate())
    await writer.start()
    database = engine.url.database
    assert database is not None
    foreign = sqlite3.connect(database, isolation_level=None)  # a command run beside the server
    foreign.execute("BEGIN IMMEDIATE")
    try:
        event = decision(1)
        recording = asyncio.create_task(writer.record(event))
        started = time.monotonic()
        for _ in range(20):  # the loop keeps turning while the writer waits for the lock
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 1.0
        assert not recording.done()
        foreign.rollback()
        await asyncio.wait_for(recording, timeout=5)
        async with engine.connect() as conn:
            stored = list((await conn.execute(select(EVENTS.c.id))).scalars())
        assert stored == [event.id]
    finally:
        foreign.close()
        await writer.close()
        await engine.dispose()


async def test_a_writer_stopped_mid_batch_answers_its_callers_and_those_queued(audit_database: str) -> None:
    engine = make_engine(audit_database)
    writer = AuditWriter(engine, CheckpointSigner.generate(), max_batch=1)
    await writer.start()
    turn = writer_turn_of(engine.sync_engine)
    await turn.acquire()  # another writer holds the turn: the flusher waits inside its first batch
    try:
        recording = [asyncio.create_task(writer.record(decision(n))) for n in range(3)]
        await asyncio.sleep(0.1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(writer.close(), timeout=0.2)  # a shutdown that will not wait
        results = await asyncio.wait_for(asyncio.gather(*recording, return_exceptions=True), timeout=5)
        assert [type(result) for result in results] == [StoreUnavailable] * 3
    finally:
        turn.release()
        await engine.dispose()
