"""Providers the routes share; a route asks for `db_session: DbSession`."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.db import Database

DbSession = NamedDependency[AsyncSession]


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    database: Database = state.database
    async with database.sessions() as session:
        yield session
