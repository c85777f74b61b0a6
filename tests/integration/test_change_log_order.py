"""The change log numbers changes in commit order, so an engine that read past a number never misses a change.

Before, a change took its number when logged: a transaction that logged first and committed last got a number an
engine had already read past, and that engine never applied it (a stale permit until the next full rebuild).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl.changes import changes_since, latest_seq, log_change, logged_through


async def test_a_change_logged_first_but_committed_last_is_read_after_what_was_read(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with committed_sessions() as reader:
        applied = await latest_seq(reader)
    async with committed_sessions() as slow, committed_sessions() as fast:
        await log_change(slow, "user", "slow")  # e.g. a write still staging its audit events
        await log_change(fast, "user", "fast")
        await fast.commit()
        async with committed_sessions() as reader:
            first = await changes_since(reader, applied)
        assert [c.key for c in first] == ["fast"]
        applied = first[-1].seq
        await slow.commit()
        assert logged_through(slow) == applied + 1
    async with committed_sessions() as reader:
        later = await changes_since(reader, applied)
    assert [c.key for c in later] == ["slow"]


async def test_a_rolled_back_transaction_logs_nothing_and_a_savepoint_keeps_the_outer_changes(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with committed_sessions() as reader:
        applied = await latest_seq(reader)
    async with committed_sessions() as writer:
        await log_change(writer, "user", "gone")
        await writer.rollback()
        await log_change(writer, "user", "kept")
        async with writer.begin_nested() as savepoint:
            await log_change(writer, "unit", "inner")
            await savepoint.rollback()
        await writer.commit()
    async with committed_sessions() as reader:
        logged = [c.key for c in await changes_since(reader, applied)]
    # The savepoint's change may be logged (an engine reloads the named facts as they are); the outer one must be.
    assert "gone" not in logged
    assert logged[0] == "kept"
