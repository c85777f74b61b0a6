"""SQLAlchemy base with a naming convention, and the engine and session factories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.types import TypeDecorator

from accessctl.settings import Settings
from accessctl.sqlite_writing import WRITE_OPTION, writer_turn_of
from accessctl.sqlite_writing import configure as configure_sqlite

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()


# Where a session that began as a SQLite writer keeps its turn until its transaction ends.
_TURN = "accessctl_writer_turn"


@asynccontextmanager
async def writer_turn(transactions: Transactions) -> AsyncIterator[None]:
    """Hold the SQLite writer turn (see `begin_writing`) around a writer's own transaction; nothing
    elsewhere (PostgreSQL, or a test's shared connection)."""
    if not (isinstance(transactions, AsyncEngine) and transactions.dialect.name == "sqlite"):
        yield
        return
    async with writer_turn_of(transactions.sync_engine):
        yield


async def begin_writing(session: AsyncSession) -> None:
    """Start `session`'s transaction as a writer (call before its first statement); a no-op on PostgreSQL.

    On SQLite writers first take turns (`sqlite_writing.WriterTurn`) until the transaction ends.
    """
    bind = session.bind
    if not (isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite"):
        await session.connection(execution_options={WRITE_OPTION: True})
        return
    turn = writer_turn_of(bind.sync_engine)
    await turn.acquire()
    session.info[_TURN] = turn
    try:
        await session.connection(execution_options={WRITE_OPTION: True})
    except BaseException:
        _end_turn(session.info)
        raise


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # After the COMMIT or ROLLBACK itself (or the close that rolls back), so the next writer's BEGIN IMMEDIATE
    # finds SQLite's lock free.
    if transaction.parent is None:
        _end_turn(session.info)


def _end_turn(info: dict[Any, Any]) -> None:
    turn = info.pop(_TURN, None)
    if turn is not None:
        turn.release()


async def serialise(session: AsyncSession, key: str) -> None:
    """Writers of the same `key` take turns until `session`'s transaction ends (a PostgreSQL advisory lock).

    Needed where a write reads first ("does this id exist?") and two transactions could both read "absent". On
    SQLite a writer holds the database's write lock from BEGIN (`begin_writing`), so it is a no-op there.
    """
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine; on SQLite with foreign keys on, WAL, and real BEGIN so savepoints work."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Transactions(Protocol):
    """Where a writer that manages its own transactions (the audit writer) gets them: an AsyncEngine, or in tests
    a shared connection whose transactions are savepoints."""

    @property
    def dialect(self) -> Dialect: ...

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


class SavepointTransactions:
    """Transactions as savepoints on one connection, so a test's rollback takes the writer's rows with it."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self._connection.begin_nested():
            yield self._connection

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        yield self._connection


@dataclass
class Database:
    """The engine and the session factory the app and the commands share."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Where the audit writer opens its own transactions; the engine unless a test shares its connection.
    writer_transactions: Transactions | None = None

    @property
    def transactions(self) -> Transactions:
        return self.writer_transactions or self.engine

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        url = settings.database_url.reveal()
        if url.startswith("sqlite"):
            _ensure_sqlite_dir(url)
        engine = make_engine(url, pool_size=settings.db_pool_size)
        return cls(engine=engine, sessions=async_sessionmaker(engine, expire_on_commit=False))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
