"""The audit outbox: a change's audit events, written in the change's own transaction, until the log has them.

A policy, assignment, context or HR change commits with its audit events staged here. The audit writer then moves
them into the chain: in the transaction that inserts them it deletes their outbox rows (`store.take_staged`), and
inserts only those it deleted, so an event is chained exactly once however many processes try. If the process dies
between the change's commit and the audit commit, the staged rows survive and `OutboxDrain` (in every server
process) chains them. A staged `audit.purged` event is never chained (only the retention purge writes those): the
drain leaves its row in place, logs it as an error, and goes on with the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.chain import PLAIN_FIELDS, normalise_detail
from accessctl.audit.events import AuditEvent, refuse_purge_records
from accessctl.audit.store import OUTBOX
from accessctl.audit.writer import AuditWriter
from accessctl.db import Transactions, utcnow
from accessctl.errors import InvalidInput
from accessctl.periodic import Periodic

log = logging.getLogger(__name__)


def _as_json(event: AuditEvent) -> dict[str, Any]:
    body: dict[str, Any] = {name: getattr(event, name) for name in PLAIN_FIELDS}
    body.update(
        {
            "id": str(event.id),
            "occurred_at": event.occurred_at.isoformat(),
            "roles": list(event.roles),
            "decision_id": None if event.decision_id is None else str(event.decision_id),
            "detail": normalise_detail(event.detail),
        }
    )
    return body


def _from_json(body: dict[str, Any]) -> AuditEvent:
    fields = dict(body)
    fields["id"] = uuid.UUID(body["id"])
    fields["occurred_at"] = datetime.fromisoformat(body["occurred_at"])
    fields["roles"] = tuple(body["roles"])
    fields["decision_id"] = None if body["decision_id"] is None else uuid.UUID(body["decision_id"])
    return AuditEvent(**fields)


async def stage(session: AsyncSession, events: Sequence[AuditEvent]) -> None:
    """Write the events into the outbox in the session's transaction: they commit, or vanish, with the change."""
    refuse_purge_records(events)
    if events:
        now = utcnow()
        rows = [{"id": event.id, "staged_at": now, "event": _as_json(event)} for event in events]
        await session.execute(insert(OUTBOX), rows)


# The outbox is a plain table anyone with database access can insert into; a purge record staged there would be
# chained and signed by the writer, and verify would let it account for records someone deleted.
_STAGED_PURGE = func.coalesce(OUTBOX.c.event["action"].as_string(), "") == actions.AUDIT_PURGED


async def staged_before(
    transactions: Transactions, moment: datetime, limit: int, *, skip: Collection[uuid.UUID] = ()
) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """Staged rows older than `moment`, oldest first: left behind by a process that stopped before chaining.

    Staged purge records are left out (see `staged_purges`), and so are the rows in `skip` (ones that could not be
    read), so they never hold up the rows behind them.
    """
    async with transactions.connect() as conn:
        query = select(OUTBOX.c.id, OUTBOX.c.event).where(OUTBOX.c.staged_at < moment, ~_STAGED_PURGE)
        if skip:
            query = query.where(OUTBOX.c.id.not_in(list(skip)))
        rows = await conn.execute(query.order_by(OUTBOX.c.staged_at).limit(limit))
        return [(row_id, body) for row_id, body in rows.tuples()]


async def staged_purges(transactions: Transactions) -> list[uuid.UUID]:
    """Outbox rows that stage an `audit.purged` event: never chained, kept where they are for an investigation."""
    async with transactions.connect() as conn:
        rows = await conn.execute(select(OUTBOX.c.id).where(_STAGED_PURGE).order_by(OUTBOX.c.staged_at))
        return list(rows.scalars())


class OutboxDrain:
    """Chains what a stopped process left in the outbox: at start, then every `interval_s`.

    Only rows older than `grace_s` are taken, so a live process normally chains its own; if two race, `take`
    decides, and each event is chained once.
    """

    def __init__(
        self,
        transactions: Transactions,
        writer: AuditWriter,
        *,
        interval_s: float = 10.0,
        grace_s: float = 30.0,
        batch: int = 500,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.transactions = transactions
        self.writer = writer
        self.grace = timedelta(seconds=grace_s)
        self.batch = batch
        self.clock = clock
        self.refused: set[uuid.UUID] = set()
        self._rounds = Periodic(
            "accessctl-audit-outbox-drain",
            self._round,
            interval_s=interval_s,
            log=log,
            failure="draining the audit outbox failed; trying again next round",
        )

    async def run_once(self) -> int:
        """Chain every staged event older than the grace period; returns how many this process took."""
        await self._report_staged_purges()
        taken = 0
        while True:
            rows = await staged_before(self.transactions, self.clock() - self.grace, self.batch, skip=self.refused)
            if not rows:
                return taken
            if events := self._readable(rows):
                taken += await self.writer.record_staged(events)
            if len(rows) < self.batch:
                return taken

    def _readable(self, rows: Sequence[tuple[uuid.UUID, dict[str, Any]]]) -> list[AuditEvent]:
        """The rows' events; a row that is no event this code stages (edited in the table) is left in place and
        logged once, as an error, so it does not hold up the others."""
        events = []
        for row_id, body in rows:
            try:
                events.append(_from_json(body))
            except (InvalidInput, KeyError, TypeError, ValueError) as exc:
                self.refused.add(row_id)
                log.error(
                    "audit_outbox row %s is not an audit event this service stages (%s): left in place", row_id, exc
                )
        return events

    async def _report_staged_purges(self) -> None:
        """Log each staged purge record once per process, as an error: only tampering puts one there."""
        for row_id in await staged_purges(self.transactions):
            if row_id not in self.refused:
                self.refused.add(row_id)
                log.error(
                    "audit_outbox row %s stages an audit.purged event, which only the retention purge may write: "
                    "not chained, left in the outbox for investigation (it may be an attempt to pass a deletion "
                    "off as a purge)",
                    row_id,
                )

    def start(self) -> None:
        self._rounds.start()

    async def close(self) -> None:
        await self._rounds.close()

    async def _round(self) -> None:
        if taken := await self.run_once():
            log.warning("chained %d audit event(s) a stopped process had left in the outbox", taken)
