"""The change log numbers changes in commit order, so an engine that read past a number never misses a change.

Before, a change took its number when logged: a transaction that logged first and committed last got a number an
engine had already read past, and that engine never applied it (a stale permit until the next full rebuild).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.changes import changes_since, latest_seq, log_change, logged_through
from accessctl.db import make_engine
from tests.databases import fresh_database


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: the sessions below commit for real, on separate connections."""
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        yield url


@pytest.fixture
async def sessions(own_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(own_database)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def test_a_change_logged_first_but_committed_last_is_read_after_what_was_read(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as reader:
        applied = await latest_seq(reader)
    async with sessions() as slow, sessions() as fast:
        await log_change(slow, "user", "slow")  # e.g. a write still staging its audit events
        await log_change(fast, "user", "fast")
        await fast.commit()
        async with sessions() as reader:
            first = await changes_since(reader, applied)
        assert [c.key for c in first] == ["fast"]
        applied = first[-1].seq
        await slow.commit()
        assert logged_through(slow) == applied + 1
    async with sessions() as reader:
        later = await changes_since(reader, applied)
    assert [c.key for c in later] == ["slow"]


async def test_a_rolled_back_transaction_logs_nothing_and_a_savepoint_keeps_the_outer_changes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as reader:
        applied = await latest_seq(reader)
    async with sessions() as writer:
        await log_change(writer, "user", "gone")
        await writer.rollback()
        await log_change(writer, "user", "kept")
        async with writer.begin_nested() as savepoint:
            await log_change(writer, "unit", "inner")
            await savepoint.rollback()
        await writer.commit()
    async with sessions() as reader:
        logged = [c.key for c in await changes_since(reader, applied)]
    # The savepoint's change may be logged (an engine reloads the named facts as they are); the outer one must be.
    assert "gone" not in logged
    assert logged[0] == "kept"
