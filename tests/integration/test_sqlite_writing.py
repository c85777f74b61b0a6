"""SQLite writing: writers take turns in arrival order instead of sleeping in SQLite's busy handler, in this process
and across processes, without blocking the event loop; the audit writer's synchronous twin is configured like the
engine but leaves the WAL's sync to `wal_sync`, which the writer awaits before it answers; WAL checkpoints reach the
database file off the writers' path and end in their turn."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.audit import writer as writer_module
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.store import EVENTS
from accessctl.audit.verify import verify_log
from accessctl.audit.writer import AuditWriter
from accessctl.db import begin_writing, make_engine, writer_turn
from accessctl.errors import StoreUnavailable
from accessctl.sqlite_writing import WalCheckpoints, checkpoint, synchronous_twin, wal_sync, writer_turn_of
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


async def test_the_twin_writes_the_same_file_in_wal_mode_and_leaves_the_wal_s_sync_to_wal_sync(
    engine: AsyncEngine,
) -> None:
    twin = synchronous_twin(engine.sync_engine)
    assert twin is not None
    with twin.begin() as conn:
        conn.exec_driver_sql("INSERT INTO notes VALUES ('from the twin')")
        settings = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous")]
    assert settings == ["wal", 1]  # 1 = NORMAL: the commit did not sync the WAL
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT body FROM notes"))).scalar_one() == "from the twin"
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # 2 = FULL everywhere else
    assert synchronous_twin(engine.sync_engine) is twin
    assert synchronous_twin(make_engine("sqlite+aiosqlite:///:memory:").sync_engine) is None
    assert synchronous_twin(make_engine("postgresql+asyncpg://postgres@127.0.0.1/absent").sync_engine) is None


async def test_wal_sync_syncs_the_wal_file_on_a_thread_through_one_descriptor_while_it_is_the_same_file(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    twin = synchronous_twin(engine.sync_engine)
    assert twin is not None
    wal = tmp_path / "writing.db-wal"
    synced: list[tuple[int, str, bool]] = []
    real_fdatasync = os.fdatasync

    def fdatasync(fd: int) -> None:
        on_loop = threading.current_thread() is threading.main_thread()
        synced.append((fd, os.readlink(f"/proc/self/fd/{fd}"), on_loop))
        real_fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    for body in ("first", "second"):
        with twin.begin() as conn:
            conn.exec_driver_sql("INSERT INTO notes VALUES (?)", (body,))
        await wal_sync(twin)
    # Kept open: a write-back error is reported to the descriptors open when it happened.
    assert [(path, on_loop) for _, path, on_loop in synced] == [(str(wal), False)] * 2
    assert synced[0][0] == synced[1][0]

    # SQLite removes the WAL only once all of it is in the synced database file: then there is nothing to sync.
    checkpoint(twin, truncate=True)
    await engine.dispose()
    twin.dispose()
    assert not wal.exists()
    synced.clear()
    await wal_sync(twin)
    assert synced == []

    # A new WAL is another file: synced through a descriptor of its own.
    with twin.begin() as conn:
        conn.exec_driver_sql("INSERT INTO notes VALUES ('third')")
    await wal_sync(twin)
    assert [(path, on_loop) for _, path, on_loop in synced] == [(str(wal), False)]
    assert os.fstat(synced[0][0]).st_ino == wal.stat().st_ino
    twin.dispose()


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


async def test_the_audit_writer_answers_only_after_the_wal_is_synced_and_stops_for_good_if_a_sync_fails(
    audit_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(audit_database)
    signer = CheckpointSigner.generate()
    writer = AuditWriter(engine, signer)
    await writer.start()
    synced = asyncio.Event()
    syncs: list[Engine] = []

    async def held_sync(twin: Engine) -> None:
        syncs.append(twin)
        await synced.wait()

    monkeypatch.setattr(writer_module, "wal_sync", held_sync)
    try:
        recording = asyncio.create_task(writer.record(decision(1)))
        await asyncio.sleep(0.2)
        assert syncs == [synchronous_twin(engine.sync_engine)]
        assert not recording.done(), "committed, but not yet durable: not acknowledged"
        synced.set()
        await asyncio.wait_for(recording, timeout=5)
        assert writer.failure is None

        async def failing_sync(_twin: Engine) -> None:
            raise OSError(errno.EIO, "Input/output error")

        monkeypatch.setattr(writer_module, "wal_sync", failing_sync)
        with pytest.raises(StoreUnavailable, match="could not be synced"):
            await writer.record(decision(2))
        # The kernel may have dropped what it could not write: nothing after that can be counted on either.
        monkeypatch.setattr(writer_module, "wal_sync", wal_sync)
        with pytest.raises(StoreUnavailable, match="could not be synced"):
            await writer.record(decision(3))
        assert writer.failure is not None and "restarted" in writer.failure
        async with engine.connect() as conn:
            # The unsynced batch had committed; the refused one was never written. The log verifies.
            assert [row.seq for row in await conn.execute(select(EVENTS.c.seq).order_by(EVENTS.c.seq))] == [1, 2]
            assert (await verify_log(conn, signer.public_keys())).ok
    finally:
        await writer.close()
        await engine.dispose()
