"""The demo region the benchmarks run on: migrated and loaded when empty, then read back as the engine's facts."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from accessctl import migrate
from accessctl.db import Database
from accessctl.engine import AssignmentFacts, CompiledPolicy, Snapshot
from accessctl.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegionFacts:
    """What the engine and the Casbin export are built from, read at one moment."""

    policy: CompiledPolicy
    snapshot: Snapshot
    live_assignments: list[AssignmentFacts]
    now: datetime


def sqlite_url(directory: str) -> str:
    return f"sqlite+aiosqlite:///{directory}/accessctl.db"


async def _create_postgres_database(url: str) -> None:
    """Create the database `url` names if the server does not have it yet (the caller chose the name)."""
    target = make_url(url)
    name = target.database or ""
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            found = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if not found:
                quoted = name.replace('"', '""')
                await conn.execute(text(f'CREATE DATABASE "{quoted}"'))
    finally:
        await admin.dispose()


async def _load_if_empty(settings: Settings, users: int, seed: int) -> bool:
    from accessctl.demo import build_population
    from accessctl.demo.load import load_population, tables_with_rows
    from accessctl.demo.policy_inputs import read_policy_inputs
    from accessctl.demo.region import load_region

    database = Database.from_settings(settings)
    try:
        async with database.engine.begin() as conn:
            if await tables_with_rows(conn):
                return False
            inputs = read_policy_inputs(settings.policies_dir)
            population = build_population(load_region(), inputs, users=users, seed=seed)
            await load_population(conn, population)
            return True
    finally:
        await database.dispose()


def prepare_region(settings: Settings, users: int, seed: int) -> bool:
    """Migrate the database to head, load the demo region when it is empty (True when it was loaded now), and on
    PostgreSQL have the server write it all back before anything is timed."""
    url = settings.database_url.reveal()
    postgres = url.startswith("postgresql")
    if postgres:
        asyncio.run(_create_postgres_database(url))
    migrate.upgrade(url, quiet=True)
    loaded = asyncio.run(_load_if_empty(settings, users, seed))
    if postgres:
        asyncio.run(_checkpoint_postgres(settings))
    return loaded


async def _checkpoint_postgres(settings: Settings) -> None:
    """Have PostgreSQL write the loaded region back to its files before anything is timed.

    Loading leaves a backlog of dirty pages that PostgreSQL would write back during the first scenario: seen as a
    p99 of 37-95 ms for single evaluations that is 8-12 ms once the backlog is written. (SQLite needs nothing: the
    load's last connection copies its WAL into the database file on closing.)
    """
    database = Database.from_settings(settings)
    try:
        async with database.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                await conn.execute(text("CHECKPOINT"))
            except DBAPIError as exc:  # CHECKPOINT needs a superuser or the pg_checkpoint role
                log.warning("no CHECKPOINT before timing (%s): the first scenario may see its write-back", exc.orig)
    finally:
        await database.dispose()


async def _read_facts(settings: Settings) -> RegionFacts:
    from accessctl.db import utcnow
    from accessctl.pdp.loader import load_snapshot
    from accessctl.pdp.policy_source import active_policy
    from accessctl.policies.live_assignments import live_assignments

    database = Database.from_settings(settings)
    try:
        async with database.sessions() as session:
            now = utcnow()
            policy = await active_policy(session, fallback_dir=settings.policies_dir)
            snapshot = await load_snapshot(session, now)
            assignments = await live_assignments(session, now)
        return RegionFacts(policy, snapshot, assignments, now)
    finally:
        await database.dispose()


def read_facts(settings: Settings) -> RegionFacts:
    """The policy the server would decide on, the snapshot, and the assignments Casbin's export holds, at now."""
    return asyncio.run(_read_facts(settings))
