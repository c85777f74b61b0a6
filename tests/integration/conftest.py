"""Fixtures for integration tests whose sessions commit for real, each on its own connection."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.db import make_engine
from tests.databases import fresh_database


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (the run's kind), migrated: its sessions commit for real."""
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        yield url


@pytest.fixture
async def committed_sessions(own_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on `own_database`, each on its own connection, whose commits are real."""
    engine = make_engine(own_database)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
