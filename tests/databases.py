"""Fresh databases for a test run: a SQLite file, or a new PostgreSQL database created and dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg


def _admin_dsn(url: str) -> tuple[str, str]:
    """The asyncpg DSN of the server's maintenance database, and the database named in `url`."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    base, _, name = dsn.rpartition("/")
    return f"{base}/postgres", name.split("?", 1)[0]


async def _run_admin(url: str, sql: str) -> None:
    admin, _ = _admin_dsn(url)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_postgres(server_url: str, prefix: str = "accessctl_t") -> Iterator[str]:
    """A new, empty database on the server of `server_url`, dropped afterwards."""
    base, _, _ = server_url.rpartition("/")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_run_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_run_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def fresh_database(server_url: str | None, tmp: Path) -> Iterator[str]:
    """A fresh database of this run's kind: PostgreSQL when a server URL is given, else a SQLite file."""
    if server_url:
        with fresh_postgres(server_url) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp / f'accessctl-{uuid.uuid4().hex[:8]}.db'}"
