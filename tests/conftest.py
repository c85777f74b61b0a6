"""Shared fixtures: one migrated database per run (real Alembic migrations), rolled back per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.db import Database, SavepointTransactions, make_engine
from accessctl.migrate import PROJECT_ROOT
from accessctl.settings import Secret, Settings
from tests.databases import fresh_database


def _server_url() -> str | None:
    url = os.environ.get("ACCESSCTL_TEST_DATABASE_URL", "")
    return url or None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This run's database, migrated to head once with the real migrations."""
    with fresh_database(_server_url(), tmp_path_factory.mktemp("db")) as url:
        migrate.upgrade(url, quiet=True)
        yield url


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(db_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with db_engine.connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits become savepoints inside the test's transaction."""
    return async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


@pytest.fixture
def database(
    db_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], connection: AsyncConnection
) -> Database:
    """A Database for the app under test; everything it writes is rolled back with the test."""
    return Database(engine=db_engine, sessions=sessions, writer_transactions=SavepointTransactions(connection))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=Secret(database_url),
        dev_key_path=tmp_path / "dev-key.pem",
        change_poll_seconds=0,
        policies_dir=PROJECT_ROOT / "policies",
    )
