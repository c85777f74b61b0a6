"""SQLite writers of one process take turns in arrival order, instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessctl.db import begin_writing, make_engine, writer_turn


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (who TEXT NOT NULL)"))
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
        assert list((await conn.execute(text("SELECT who FROM notes ORDER BY rowid"))).scalars()) == ["first", "third"]


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
