"""How a write through the API becomes visible: commit, audit, the engine catches up, and only then an answer."""

from __future__ import annotations

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import AuditWriter
from accessctl.audit.sink import AuditOutbox
from accessctl.changes import logged_through
from accessctl.pdp import DecisionPoint


async def committed(session: AsyncSession, state: State, outbox: AuditOutbox | None = None) -> None:
    """Commit the change with its audit events staged, chain the events, then let this process's engine catch up.

    The events are chained after the commit: the audit writer commits on its own connection, and on SQLite
    writing there while the change's transaction holds the write lock would wait on ourselves. Staged in the
    change's transaction, they reach the log even if this process dies in between (`accessctl.audit.outbox`).
    """
    if outbox is not None:
        await outbox.stage(session)
    await session.commit()
    if outbox is not None:
        writer: AuditWriter = state.audit_writer
        await outbox.deliver(writer)
    point: DecisionPoint = state.decision_point
    await point.catch_up(through=logged_through(session))
