"""The real migrations go up, match the models, and come back down on this run's database kind."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import inspect

from accessctl import migrate
from accessctl.db import make_engine
from accessctl.models import Base
from tests.databases import fresh_database


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_upgrade_check_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        assert set(Base.metadata.tables) <= asyncio.run(_tables(url))
        migrate.check(url)  # raises if models and migrations disagree
        migrate.downgrade(url, "base", quiet=True)
        assert asyncio.run(_tables(url)) <= {"alembic_version"}
        migrate.upgrade(url, quiet=True)
        assert set(Base.metadata.tables) <= asyncio.run(_tables(url))
