"""The background task that sends the outbox, queues overdue-review notices and audits grants that expired.

Rows leave the outbox only by being marked sent, so a crash or restart loses nothing: the next relay picks up
every unsent row (delivery is at least once). A failed send is retried with exponential backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl.audit import AuditWriter
from accessctl.break_glass.models import BreakGlassGrant, BreakGlassReview, OutboxNotification
from accessctl.break_glass.outbox import REVIEW_OVERDUE, enqueue, grant_summary
from accessctl.break_glass.senders import Notification, NotificationSender
from accessctl.break_glass.service import ended_event
from accessctl.db import utcnow
from accessctl.periodic import Periodic

log = logging.getLogger("accessctl.break_glass.relay")


def backoff(attempts: int, *, base_s: float, max_s: float) -> timedelta:
    """How long to wait after the n-th failed attempt: base, 2 x base, 4 x base, ... up to max."""
    return timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


class NotificationRelay:
    """`run_once()` does one round; `start()` runs rounds every `interval_s` (or sooner on `wake()`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: NotificationSender,
        audit: AuditWriter,
        *,
        overdue_days: int,
        interval_s: float = 5.0,
        batch: int = 50,
        base_backoff_s: float = 5.0,
        max_backoff_s: float = 3600.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.sender = sender
        self._audit = audit
        self._overdue_after = timedelta(days=overdue_days)
        self._batch = batch
        self._base_backoff_s = base_backoff_s
        self._max_backoff_s = max_backoff_s
        self._clock = clock
        # The relay must outlive a database or receiver hiccup; the next round retries.
        self._rounds = Periodic(
            "accessctl-break-glass-relay",
            self.run_once,
            interval_s=interval_s,
            log=log,
            failure="break-the-glass relay round failed; retrying",
        )

    async def run_once(self) -> int:
        """Audit expiries, queue overdue notices, then send what is due; returns how many were sent."""
        now = self._clock()
        await self.record_expiries(now)
        await self.queue_overdue(now)
        return await self.deliver(now)

    async def deliver(self, now: datetime) -> int:
        sent = 0
        async with self._sessions() as session:
            o = OutboxNotification
            due = await session.scalars(
                select(o)
                .where(o.sent_at.is_(None), o.next_attempt_at <= now)
                .order_by(o.id)
                .limit(self._batch)
                .with_for_update(skip_locked=True)  # replicas share the outbox; each row goes to one of them
            )
            for row in due:
                try:
                    await self.sender.send(Notification(row.event_id, row.kind, row.payload, row.created_at))
                except Exception as exc:  # any failure of the receiver: keep the row, try again later
                    row.attempts += 1
                    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    row.next_attempt_at = now + backoff(
                        row.attempts, base_s=self._base_backoff_s, max_s=self._max_backoff_s
                    )
                    log.warning("notification %s failed (attempt %d): %s", row.event_id, row.attempts, row.last_error)
                    continue
                row.attempts += 1
                row.sent_at = now
                sent += 1
            await session.commit()
        return sent

    async def queue_overdue(self, now: datetime) -> int:
        """Queue one "review overdue" notice per grant whose review is still pending after the limit."""
        async with self._sessions() as session:
            g, r = BreakGlassGrant, BreakGlassReview
            late = await session.execute(
                select(g, r)
                .join(r, r.grant_id == g.id)
                .where(r.status == "pending", r.overdue_notified_at.is_(None), g.granted_at < now - self._overdue_after)
                .limit(self._batch)
            )
            count = 0
            for grant, review in late:
                enqueue(session, REVIEW_OVERDUE, {**grant_summary(grant), "review_status": review.status}, now)
                review.overdue_notified_at = now
                count += 1
            await session.commit()
        return count

    async def record_expiries(self, now: datetime) -> int:
        """Audit break_glass.ended (DICOM 110138) for grants that ran out; early ends were audited when ended."""
        async with self._sessions() as session:
            g = BreakGlassGrant
            expired = await session.scalars(
                select(g)
                .where(g.end_recorded_at.is_(None), g.ended_at.is_(None), g.expires_at <= now)
                .limit(self._batch)
            )
            count = 0
            for grant in expired:
                await self._audit.record(ended_event(grant, grant.expires_at, how="expired", by=None))
                grant.end_recorded_at = now
                count += 1
            await session.commit()
        return count

    def wake(self) -> None:
        """Run the next round now (after a grant, so its notification leaves at once)."""
        self._rounds.wake()

    def start(self) -> None:
        self._rounds.start()

    async def close(self) -> None:
        """Stop; whatever is unsent stays in the outbox for the next relay."""
        await self._rounds.close()
