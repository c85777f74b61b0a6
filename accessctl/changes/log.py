"""Log a change in the writer's transaction; read changes since a sequence number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

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


# Where a session keeps the changes its transaction will log, and the highest sequence number it logged.
_PENDING = "accessctl_pending_changes"
_LOGGED = "accessctl_logged_through"
# The PostgreSQL advisory lock a transaction holds from writing its changes to its COMMIT (any constant will do).
_COMMIT_ORDER_LOCK = 0x61636C6C  # "acll"


async def log_change(session: AsyncSession, kind: ChangeKind, key: str) -> None:
    """Record a change in the caller's transaction; the row is written when that transaction commits.

    Engines read the log in sequence order and remember the highest number they applied. On PostgreSQL two
    transactions can take numbers in one order and commit in the other, and an engine that saw the later number
    would never read the earlier one. So the rows are written at COMMIT, under one advisory lock held until the
    commit ends: numbers are taken in commit order. The lock is the transaction's last, so it waits on nothing.
    """
    await session.connection()  # the change belongs to the transaction, begun now if it was not
    session.info.setdefault(_PENDING, []).append((kind, key, utcnow()))


@event.listens_for(Session, "before_commit")
def _write_pending_changes(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    # Everything else first (Session.commit would flush after this hook): once the lock is held, only the change
    # rows, the NOTIFY and the COMMIT follow, so a holder never waits for a lock another transaction holds.
    session.flush()
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _COMMIT_ORDER_LOCK})
    rows = [{"kind": kind, "key": key, "at": at} for kind, key, at in pending]
    seqs = session.scalars(insert(EngineChange).returning(EngineChange.seq), rows).all()
    last = max(int(seq) for seq in seqs)
    session.info[_LOGGED] = max(last, session.info.get(_LOGGED, 0))
    if postgres:
        # Delivered by PostgreSQL only when this transaction commits.
        session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(last)})


@event.listens_for(Session, "after_transaction_end")
def _drop_pending_changes(session: Session, transaction: SessionTransaction) -> None:
    # Only when the session's whole transaction ends (committed: written already; rolled back: never happened).
    # A savepoint rolled back keeps its changes: one logged and kept is harmless, an engine reloads the named facts.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def logged_through(session: AsyncSession) -> int | None:
    """The highest sequence number `session` logged (None: it logged nothing); an engine that has applied it has
    every change the session made."""
    found = session.info.get(_LOGGED)
    return None if found is None else int(found)


# Changes read at once; a reader that gets this many reads again, as more may follow.
CHANGES_READ_AT_ONCE = 10_000


async def changes_since(
    conn: AsyncConnection | AsyncSession, after: int, limit: int = CHANGES_READ_AT_ONCE
) -> list[ChangeRef]:
    rows = await conn.execute(
        select(EngineChange.seq, EngineChange.kind, EngineChange.key)
        .where(EngineChange.seq > after)
        .order_by(EngineChange.seq)
        .limit(limit)
    )
    return [ChangeRef(int(seq), kind, key) for seq, kind, key in rows]


async def latest_seq(conn: AsyncConnection | AsyncSession) -> int:
    return int(await conn.scalar(select(func.coalesce(func.max(EngineChange.seq), 0))) or 0)
