"""The background task that sends the outbox, queues overdue-review notices and audits grants that expired.

Rows leave the outbox only by being marked sent, so a crash or restart loses nothing: the next relay picks up
every unsent row (delivery is at least once, each notification with a stable event id). A failed send is retried
with exponential backoff.

Every write here begins as a writer and changes only rows it locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
database's write lock on SQLite), so replicas running rounds at once share the work instead of repeating it. No
transaction stays open across a send or the audit writer: on SQLite a transaction that read before another
connection committed can no longer write ("database is locked").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl.audit import AuditWriter
from accessctl.audit.sink import AuditOutbox
from accessctl.break_glass.models import BreakGlassGrant, BreakGlassReview, OutboxNotification
from accessctl.break_glass.outbox import REVIEW_OVERDUE, enqueue, grant_summary
from accessctl.break_glass.senders import Notification, NotificationSender
from accessctl.break_glass.service import ended_event
from accessctl.db import begin_writing, utcnow
from accessctl.periodic import Periodic

log = logging.getLogger("accessctl.break_glass.relay")


def backoff(attempts: int, *, base_s: float, max_s: float) -> timedelta:
    """How long to wait after the n-th failed attempt: base, 2 x base, 4 x base, ... up to max."""
    return timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class _Claimed:
    """An outbox row this relay took for one round: what to send, and when it was due before the claim."""

    id: int
    due_at: datetime
    notification: Notification


class NotificationRelay:
    """`run_once()` does one round; `start()` runs rounds every `interval_s` (or sooner on `wake()`).

    A round claims the due notifications for `claim_s` before sending them: a relay killed mid-round leaves its
    claim to lapse, and they are sent again then. It sends for at most half the claim, and puts the rest back.
    """

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
        claim_s: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.sender = sender
        self._audit = audit
        self._overdue_after = timedelta(days=overdue_days)
        self._batch = batch
        self._base_backoff_s = base_backoff_s
        self._max_backoff_s = max_backoff_s
        self._claim = timedelta(seconds=claim_s)
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
        """Claim the due notifications, send them with no transaction open, then mark each sent or failed."""
        claimed = await self._claim_due(now)
        outcomes: dict[int, str | None] = {}  # row id -> the send's error, None when it was sent
        stop_at = time.monotonic() + self._claim.total_seconds() / 2
        try:
            for row in claimed:
                if time.monotonic() > stop_at:
                    break  # the rest go back, due at once, well before the claim lapses
                try:
                    await self.sender.send(row.notification)
                except Exception as exc:  # any failure of the receiver: keep the row, try again later
                    outcomes[row.id] = f"{type(exc).__name__}: {exc}"[:500]
                    log.warning("notification %s failed: %s", row.notification.event_id, outcomes[row.id])
                else:
                    outcomes[row.id] = None
        finally:
            # Also when the relay is stopped mid-send: what was not confirmed goes back, due at once.
            await self._settle(claimed, outcomes, now)
        return sum(1 for error in outcomes.values() if error is None)

    async def _claim_due(self, now: datetime) -> list[_Claimed]:
        async with self._sessions() as session:
            await begin_writing(session)
            o = OutboxNotification
            due = list(
                await session.scalars(
                    select(o)
                    .where(o.sent_at.is_(None), o.next_attempt_at <= now)
                    .order_by(o.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)  # replicas share the outbox; each row goes to one of them
                )
            )
            claimed = [
                _Claimed(row.id, row.next_attempt_at, Notification(row.event_id, row.kind, row.payload, row.created_at))
                for row in due
            ]
            for row in due:
                row.next_attempt_at = now + self._claim
            await session.commit()
        return claimed

    async def _settle(self, claimed: list[_Claimed], outcomes: dict[int, str | None], now: datetime) -> None:
        if not claimed:
            return
        async with self._sessions() as session:
            await begin_writing(session)
            o = OutboxNotification
            rows = await session.scalars(
                select(o).where(o.id.in_([row.id for row in claimed]), o.sent_at.is_(None)).with_for_update()
            )
            by_id = {row.id: row for row in rows}
            for claim in claimed:
                row = by_id.get(claim.id)
                if row is None:
                    continue  # sent by another relay after this claim had lapsed
                if claim.id not in outcomes:
                    row.next_attempt_at = claim.due_at
                    continue
                row.attempts += 1
                error = outcomes[claim.id]
                if error is None:
                    row.sent_at = now
                else:
                    row.last_error = error
                    row.next_attempt_at = now + backoff(
                        row.attempts, base_s=self._base_backoff_s, max_s=self._max_backoff_s
                    )
            await session.commit()

    async def queue_overdue(self, now: datetime) -> int:
        """Queue one "review overdue" notice per grant whose review is still pending after the limit."""
        async with self._sessions() as session:
            await begin_writing(session)
            g, r = BreakGlassGrant, BreakGlassReview
            late = await session.execute(
                select(g, r)
                .join(r, r.grant_id == g.id)
                .where(r.status == "pending", r.overdue_notified_at.is_(None), g.granted_at < now - self._overdue_after)
                .order_by(g.granted_at)
                .limit(self._batch)
                .with_for_update(of=r, skip_locked=True)
            )
            count = 0
            for grant, review in late:
                enqueue(session, REVIEW_OVERDUE, {**grant_summary(grant), "review_status": review.status}, now)
                review.overdue_notified_at = now
                count += 1
            await session.commit()
        return count

    async def record_expiries(self, now: datetime) -> int:
        """Audit break_glass.ended (DICOM 110138) for grants that ran out; early ends were audited when ended.

        A grant is marked and its record staged in the audit outbox in one transaction, so each expiry is audited
        once; the records are chained after the commit (by the outbox drain, if this process stops first).
        """
        audit = AuditOutbox()
        async with self._sessions() as session:
            await begin_writing(session)
            g = BreakGlassGrant
            expired = await session.scalars(
                select(g)
                .where(g.end_recorded_at.is_(None), g.ended_at.is_(None), g.expires_at <= now)
                .order_by(g.expires_at)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            )
            for grant in expired:
                await audit.record(ended_event(grant, grant.expires_at, how="expired", by=None))
                grant.end_recorded_at = now
            count = len(audit.events)
            await audit.stage(session)
            await session.commit()
        await audit.deliver(self._audit)
        return count

    def wake(self) -> None:
        """Run the next round now (after a grant, so its notification leaves at once)."""
        self._rounds.wake()

    def start(self) -> None:
        self._rounds.start()

    async def close(self) -> None:
        """Stop; whatever is unsent stays in the outbox for the next relay."""
        await self._rounds.close()
