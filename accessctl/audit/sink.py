"""Where audit events go: the sink protocols, and the outbox that holds a change's events until it commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import outbox
from accessctl.audit.events import AuditEvent


class AuditSink(Protocol):
    """What `accessctl.audit.writer.AuditWriter` offers; tests pass a list-backed one."""

    async def record(self, event: AuditEvent) -> None: ...

    async def record_many(self, events: Sequence[AuditEvent]) -> None: ...


@runtime_checkable
class StagedAuditSink(AuditSink, Protocol):
    """A sink that can chain events staged in the audit outbox (the audit writer)."""

    async def record_staged(self, events: Sequence[AuditEvent]) -> int: ...


class AuditOutbox:
    """Holds a change's audit events until its transaction commits, then hands them to the real sink.

    The audit writer commits on its own connection: on SQLite, writing there while the change's transaction
    holds the write lock would wait on ourselves, so events are delivered after the commit. `stage` first writes
    them into the audit outbox table in the change's transaction, so a crash between the two commits loses none.
    """

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self._staged = False

    async def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    async def record_many(self, events: Sequence[AuditEvent]) -> None:
        self.events.extend(events)

    async def stage(self, session: AsyncSession) -> None:
        """Write the held events into the audit outbox in `session`'s transaction; call just before its commit."""
        if self.events:
            await outbox.stage(session, self.events)
            self._staged = True

    async def deliver(self, sink: AuditSink | None) -> None:
        """Record every held event in `sink`, in order and in one commit (none when no sink is given)."""
        events, self.events = self.events, []
        if sink is None or not events:
            return
        if self._staged and isinstance(sink, StagedAuditSink):
            await sink.record_staged(events)
        else:
            await sink.record_many(events)
