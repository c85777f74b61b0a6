"""Privacy officers' reads of the audit log: filtered, in (occurred_at, id) order, paged by keyset, never whole."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from accessctl.audit.events import ChainedEvent
from accessctl.audit.store import EVENTS, chained_from_row

Executor = AsyncSession | AsyncConnection
# Where a page ended: the (occurred_at, id) of its last event; the next page starts strictly after it.
Position = tuple[datetime, uuid.UUID]
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class EventFilter:
    """What a privacy officer asks for; `organisations` None means every organisation (regional officer).

    `since` is inclusive and `until` exclusive, as in `accessctl audit export`. With `organisations` set, events
    that name no organisation (policy changes, purges) are left out: only a regional officer sees those.
    """

    organisations: frozenset[str] | None
    patient: str | None = None
    user: str | None = None
    unit: str | None = None
    organisation: str | None = None
    action: str | None = None
    outcome: str | None = None
    break_glass: bool | None = None
    resource_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Select[tuple[object, ...]], wanted: EventFilter) -> Select[tuple[object, ...]]:
    c = EVENTS.c
    if wanted.organisations is not None:
        query = query.where(c.organisation_id.in_(sorted(wanted.organisations)))
    equal = {
        c.patient: wanted.patient,
        c.user_id: wanted.user,
        c.unit_id: wanted.unit,
        c.organisation_id: wanted.organisation,
        c.action: wanted.action,
        c.outcome: wanted.outcome,
        c.resource_type: wanted.resource_type,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    if wanted.break_glass is not None:
        grant = c.break_glass_grant_id
        query = query.where(grant.is_not(None) if wanted.break_glass else grant.is_(None))
    if wanted.since is not None:
        query = query.where(c.occurred_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(c.occurred_at < wanted.until)
    return query


async def events_page(db: Executor, wanted: EventFilter, *, after: Position | None, limit: int) -> list[ChainedEvent]:
    """Up to `limit` events matching `wanted`, in (occurred_at, id) order, strictly after `after`."""
    if wanted.organisations is not None and not wanted.organisations:
        return []
    c = EVENTS.c
    query = _filtered(select(EVENTS), wanted)
    if after is not None:
        at, last_id = after
        # Spelled out rather than a row-value comparison so both dialects bind the uuid through its column type.
        query = query.where(or_(c.occurred_at > at, and_(c.occurred_at == at, c.id > last_id)))
    rows = await db.execute(query.order_by(c.occurred_at, c.id).limit(limit))
    return [chained_from_row(row._mapping) for row in rows]


async def all_events(db: Executor, wanted: EventFilter, *, batch: int = EXPORT_BATCH) -> AsyncIterator[ChainedEvent]:
    """Every matching event in order, one keyset page of `batch` rows at a time (memory bounded by `batch`)."""
    after: Position | None = None
    while True:
        page = await events_page(db, wanted, after=after, limit=batch)
        for chained in page:
            yield chained
        if len(page) < batch:
            return
        last = page[-1].event
        after = (last.occurred_at, last.id)
