"""How this service writes to SQLite: writers take turns (in this process and across processes), the audit writer
commits through a synchronous twin of the engine, and WAL checkpoints run on a thread, off the writers' path."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

# The twin's commits leave checkpoints to `WalCheckpoints`; this bounds the WAL (4 KiB pages) only if those fail.
TWIN_AUTOCHECKPOINT_PAGES = 100_000


def configure(engine: Engine, *, autocheckpoint_pages: int | None = None, busy_timeout_ms: int = 30_000) -> None:
    """Foreign keys on, WAL, FULL sync, a busy timeout, and BEGIN emitted by SQLAlchemy (see `WRITE_OPTION`)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN: otherwise SAVEPOINT and transactional DDL break.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit survives power loss too, not only a crash; the audit's group commit amortises the fsync.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if autocheckpoint_pages is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint_pages)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write that reads first must hold the write lock from its BEGIN: a deferred transaction whose snapshot
        # another connection committed past cannot upgrade, and SQLite fails it at once ("database is locked").
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# Execution option of a connection that will write: on SQLite its transaction takes the write lock at BEGIN.
WRITE_OPTION = "accessctl_writes"


def _database_path(engine: Engine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return database


_TWINS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
# Twin -> its engine, held weakly: each engine's twin is held by `_TWINS`, and a strong reference back would keep
# both alive for good.
_SOURCES: weakref.WeakKeyDictionary[Engine, weakref.ref[Engine]] = weakref.WeakKeyDictionary()


def synchronous_twin(engine: Engine) -> Engine | None:
    """A synchronous (pysqlite) engine on the same SQLite file, configured alike; None for an in-memory database
    or another dialect.

    The audit writer commits through it on the event loop's thread. Under load, each of a commit's round trips
    through aiosqlite's thread waits for the GIL (measured: 0.08 ms idle, 2-10 ms beside a busy loop), and a
    batch makes several; the batch itself takes about a millisecond.
    """
    if engine.dialect.name != "sqlite" or _database_path(engine) is None:
        return None
    twin = _TWINS.get(engine)
    if twin is None:
        twin = create_engine(engine.url.set(drivername="sqlite"))
        # No busy timeout: SQLite's busy handler would sleep on the event loop's thread (see `writing`).
        configure(twin, autocheckpoint_pages=TWIN_AUTOCHECKPOINT_PAGES, busy_timeout_ms=0)
        twin.update_execution_options(**{WRITE_OPTION: True})
        _TWINS[engine] = twin
        _SOURCES[twin] = weakref.ref(engine)
        # Its connections close with the engine's.
        event.listen(engine, "engine_disposed", lambda _engine: twin.dispose())
    return twin


@asynccontextmanager
async def writing(twin: Engine, *, patience_s: float = 30.0) -> AsyncIterator[Connection]:
    """The twin's connection in a transaction that holds SQLite's write lock from its BEGIN; commits on leaving.

    Writers of this service take turns first, so the lock is normally free. One held outside the turns (a command
    run beside the server) makes BEGIN fail at once; it is retried here without blocking the event loop, for up to
    `patience_s`, and then the error goes to the caller (the audit writer fails closed).
    """
    deadline = time.monotonic() + patience_s
    delay = 0.001
    while True:
        conn = twin.connect()
        try:
            transaction = conn.begin()
            break
        except OperationalError as exc:
            conn.close()
            if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
    with conn, transaction:
        yield conn


class WalCheckpoints:
    """Checkpoints on a worker thread, at most every `interval` seconds, started after a commit, in two phases.

    SQLite otherwise checkpoints inside the commit that finds the WAL past its limit, on the event loop, while
    every request in the batch waits. A PASSIVE checkpoint copies what it can without blocking readers or writers,
    but under steady writes it never copies the frames committed while it ran, so the WAL never starts over: it
    grew to the limit, and then commits checkpointed on the loop (measured: a 17-45 ms stall every 0.2 s, the
    single evaluations' p99 of 41-52 ms). So the first phase copies while writers go on, again until few frames
    came in meanwhile; the second holds the writers' turn, copies those few and syncs, so that the next commit
    starts the WAL over (p99 13-23 ms). A checkpoint that finds another process's running leaves it to that one.
    """

    def __init__(self, interval: float = 0.2, *, rest_frames: int = 32, rounds: int = 8) -> None:
        self.interval = interval
        self.rest_frames = rest_frames
        self.rounds = rounds
        self._last = 0.0
        self._running: asyncio.Task[None] | None = None

    def after_commit(self, twin: Engine) -> None:
        if self._running is not None and not self._running.done():
            return
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        self._running = asyncio.create_task(self._checkpoint(twin, writer_turn_of(twin)))
        self._running.add_done_callback(_log_failure)

    async def _checkpoint(self, twin: Engine, turn: WriterTurn) -> None:
        copied = 0
        for _ in range(self.rounds):
            progress = await asyncio.to_thread(checkpoint, twin)
            if progress.busy:
                return  # another process is checkpointing
            if progress.frames - copied <= self.rest_frames:
                break
            copied = progress.frames
        # Also when the rounds did not settle: the turn is then held for one round's worth of frames, where a WAL
        # left to grow would reach the twin's limit and be checkpointed in a commit, on the event loop.
        async with turn:
            await asyncio.to_thread(checkpoint, twin)

    async def close(self) -> None:
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)


@dataclass(frozen=True)
class Progress:
    """A checkpoint's outcome: whether another checkpoint held it off, and the frames in the WAL."""

    busy: bool
    frames: int


def checkpoint(engine: Engine, *, truncate: bool = False) -> Progress:
    """A PASSIVE checkpoint (or, with `truncate`, one that waits for readers and empties the WAL), outside any
    transaction (inside one SQLite refuses it: "database table is locked")."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)" if truncate else "PRAGMA wal_checkpoint(PASSIVE)")
        busy, frames, _copied = cursor.fetchall()[0]
        cursor.close()
    finally:
        connection.close()
    return Progress(bool(busy), int(frames))


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("WAL checkpoint failed; SQLite checkpoints in a later commit instead", exc_info=task.exception())


class _FileTurn:
    """An exclusive `flock` on `<database>-writer.lock`, opened once per process (a forked child opens its own)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._pid = 0

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            # A descriptor inherited across fork shares its lock with the parent: each process needs its own.
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    async def acquire(self) -> None:
        fd = self._descriptor()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread may still get the lock after the caller gave up: then it is let go at once.
            waiting.add_done_callback(lambda done: _unlock_if_taken(fd, done))
            raise

    def release(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def _unlock_if_taken(fd: int, done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class WriterTurn:
    """One database's writer turn in one event loop: this process's writers in arrival order, then other processes'.

    SQLite has one writer at a time, and one that finds the write lock taken sleeps in growing steps (up to 0.1 s)
    and can lose it to later writers again and again. Waiting for the turn instead wakes the next writer the moment
    the holder lets go, and never blocks the event loop (the audit writer's twin would block it in SQLite's sleep).
    """

    def __init__(self, files: _FileTurn | None) -> None:
        self._in_process = asyncio.Lock()
        self._files = files

    async def acquire(self) -> None:
        await self._in_process.acquire()
        if self._files is None:
            return
        try:
            await self._files.acquire()
        except BaseException:
            self._in_process.release()
            raise

    def release(self) -> None:
        try:
            if self._files is not None:
                self._files.release()
        finally:
            self._in_process.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        self.release()


_FILES: weakref.WeakKeyDictionary[Engine, _FileTurn | None] = weakref.WeakKeyDictionary()
_TURNS: weakref.WeakKeyDictionary[Engine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriterTurn]] = (
    weakref.WeakKeyDictionary()
)


def writer_turn_of(engine: Engine) -> WriterTurn:
    """The SQLite database's writer turn in the running event loop (an asyncio lock belongs to one loop); a twin
    shares its engine's."""
    source = _SOURCES.get(engine)
    engine = (source() if source is not None else None) or engine
    if engine not in _FILES:
        path = _database_path(engine)
        _FILES[engine] = None if path is None else _FileTurn(Path(f"{path}-writer.lock"))
    by_loop = _TURNS.setdefault(engine, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    turn = by_loop.get(loop)
    if turn is None:
        turn = by_loop[loop] = WriterTurn(_FILES[engine])
    return turn
