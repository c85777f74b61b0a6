"""Providers the routes share; a route asks for `db_session: DbSession`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.db import Database, begin_writing

DbSession = NamedDependency[AsyncSession]
READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    database: Database = state.database
    async with database.sessions() as session:
        yield session


async def provide_writing_session(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """For routes whose writes read first and audit only after their commit (every write route stages its audit
    events in the audit outbox, `web.changes.committed`): a request that may write begins as a writer, so SQLite
    never fails it half-way ("database is locked" when another connection committed after its first read). Not for
    a route that awaits the audit writer inside its transaction: holding SQLite's write lock, it would wait on
    itself."""
    database: Database = state.database
    async with database.sessions() as session:
        if request.method not in READS:
            await begin_writing(session)
        yield session


def writing_sessions() -> dict[str, Provide]:
    """A write controller's `dependencies`: its non-GET routes' `db_session` begins as a writer."""
    return {"db_session": Provide(provide_writing_session)}
