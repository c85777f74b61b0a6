"""Log a change in the writer's transaction; read changes since a sequence number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from accessctl.changes.models import EngineChange
from accessctl.db import utcnow

CHANNEL = "accessctl_changes"

ChangeKind = Literal[
    "care_relation", "patient_block", "break_glass", "user", "policy", "organisation", "unit", "reload"
]


@dataclass(frozen=True, slots=True)
class ChangeRef:
    seq: int
    kind: ChangeKind
    key: str


# Where a session keeps the highest sequence number it logged (`logged_through`).
_LOGGED = "accessctl_logged_through"


async def log_change(session: AsyncSession, kind: ChangeKind, key: str) -> int:
    """Record a change inside the caller's transaction; returns its sequence number."""
    seq = await session.scalar(insert(EngineChange).values(kind=kind, key=key, at=utcnow()).returning(EngineChange.seq))
    assert seq is not None
    session.info[_LOGGED] = max(int(seq), session.info.get(_LOGGED, 0))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Delivered by PostgreSQL only when this transaction commits.
        await session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(seq)})
    return int(seq)


def logged_through(session: AsyncSession) -> int | None:
    """The highest sequence number `session` logged (None: it logged nothing); an engine that has applied it has
    every change the session made."""
    found = session.info.get(_LOGGED)
    return None if found is None else int(found)


async def changes_since(conn: AsyncConnection | AsyncSession, after: int, limit: int = 10_000) -> list[ChangeRef]:
    rows = await conn.execute(
        select(EngineChange.seq, EngineChange.kind, EngineChange.key)
        .where(EngineChange.seq > after)
        .order_by(EngineChange.seq)
        .limit(limit)
    )
    return [ChangeRef(int(seq), kind, key) for seq, kind, key in rows]


async def latest_seq(conn: AsyncConnection | AsyncSession) -> int:
    return int(await conn.scalar(select(func.coalesce(func.max(EngineChange.seq), 0))) or 0)
