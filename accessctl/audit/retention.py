"""Retention: the one delete path of the audit log. It removes whole months and leaves a signed purge record.

PostgreSQL: each monthly partition wholly before the cutoff is detached and dropped (no row is updated or deleted,
so the append-only trigger is never bypassed). SQLite, which has no partitions: inside one transaction the delete
trigger is dropped, the rows before the cutoff are deleted, and the trigger is recreated, so no other connection
ever sees the table without it (SQLite DDL is transactional; a failure rolls all three back).

Either way the same transaction writes an `audit.purged` event as a one-record chain with its own signed
checkpoint, naming per chain how many records went and their seq range, so `accessctl audit verify` can tell
the purge's gaps from tampering. Earlier purge records the purge removes go into it whole (see
accessctl.audit.purges), so the ranges they named stay accounted for, purge after purge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from accessctl.audit import actions, guards, store
from accessctl.audit.chain import GENESIS_HASH, iso_utc, link
from accessctl.audit.events import AuditEvent
from accessctl.audit.partitions import PartitionMaker, existing_partitions, month_of
from accessctl.audit.purges import EARLIER_PURGES, carried_record, in_purge_shape
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.store import EVENTS, chained_from_row
from accessctl.db import utcnow
from accessctl.errors import InvalidInput


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed; `event_id` is its audit.purged record (None when there was nothing to remove)."""

    before: datetime
    removed: int
    chains: int
    event_id: uuid.UUID | None


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """The first month to keep: records are kept at least `retention_days`, then go a whole month at a time."""
    return month_of(now - timedelta(days=retention_days))


def expired_cutoff(before: datetime, now: datetime, retention_days: int | None = None) -> datetime:
    """The purge's cutoff for `before` (the start of its month), refused when it would remove what must stay.

    A month that has not ended holds the purge's own record (and, on PostgreSQL, the live partition); a month
    after `retention_cutoff` holds records the retention period still keeps.
    """
    cutoff = month_of(before)
    if cutoff > month_of(now):
        raise InvalidInput("retention can only remove months that have ended", field="before")
    if retention_days is not None and cutoff > (latest := retention_cutoff(now, retention_days)):
        raise InvalidInput(
            f"a cutoff of {cutoff:%Y-%m-%d} would remove records the retention period still keeps "
            f"(ACCESSCTL_AUDIT_RETENTION_DAYS={retention_days}: the latest cutoff allowed today is {latest:%Y-%m-%d})",
            field="before",
        )
    return cutoff


async def purge_before(
    engine: AsyncEngine,
    signer: CheckpointSigner,
    before: datetime,
    *,
    actor: str | None = None,
    retention_days: int | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> PurgeResult:
    """Remove every record that occurred before the month of `before` begins (whole months only).

    With `retention_days`, a cutoff later than the retention period allows is refused before anything changes.
    """
    now = clock()
    cutoff = expired_cutoff(before, now, retention_days)
    await PartitionMaker(engine).ensure([now])
    async with engine.begin() as conn:
        chains = await _removed_per_chain(conn, cutoff)
        if not chains:
            return PurgeResult(before=cutoff, removed=0, chains=0, event_id=None)
        earlier = await _earlier_purges(conn, cutoff)
        if conn.dialect.name == "postgresql":
            partitions = await _drop_partitions(conn, cutoff)
        else:
            partitions = []
            await _delete_sqlite(conn, cutoff)
        detail = {"before": iso_utc(cutoff), "chains": chains, "partitions": partitions, EARLIER_PURGES: earlier}
        event = AuditEvent(action=actions.AUDIT_PURGED, occurred_at=now, user_id=actor, detail=detail)
        chained = link(event, chain_id=uuid.uuid4(), seq=1, prev_hash=GENESIS_HASH, recorded_at=now)
        checkpoint = signer.sign(chained.chain_id, 1, chained.hash, now)
        await store.append(conn, [chained], checkpoint)
    removed = sum(info["removed"] for info in chains.values())
    return PurgeResult(before=cutoff, removed=removed, chains=len(chains), event_id=event.id)


async def _removed_per_chain(conn: AsyncConnection, cutoff: datetime) -> dict[str, dict[str, int]]:
    query = (
        select(EVENTS.c.chain_id, func.count(), func.min(EVENTS.c.seq), func.max(EVENTS.c.seq))
        .where(EVENTS.c.occurred_at < cutoff)
        .group_by(EVENTS.c.chain_id)
    )
    return {
        str(chain_id): {"removed": int(count), "first_seq": int(first), "last_seq": int(last)}
        for chain_id, count, first, last in await conn.execute(query)
    }


async def _earlier_purges(conn: AsyncConnection, cutoff: datetime) -> list[dict[str, Any]]:
    """The purge records this purge removes, whole: the ranges they name must stay accounted for after they go."""
    query = select(EVENTS).where(EVENTS.c.action == actions.AUDIT_PURGED, EVENTS.c.occurred_at < cutoff)
    earlier = [chained_from_row(row._mapping) for row in await conn.execute(query.order_by(EVENTS.c.occurred_at))]
    return [carried_record(chained) for chained in earlier if in_purge_shape(chained)]


async def _drop_partitions(conn: AsyncConnection, cutoff: datetime) -> list[str]:
    dropped = []
    for month, name in sorted((await existing_partitions(conn)).items()):
        if month < cutoff:
            await conn.execute(text(f"ALTER TABLE {EVENTS.name} DETACH PARTITION {name}"))
            await conn.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped


async def _delete_sqlite(conn: AsyncConnection, cutoff: datetime) -> None:
    await conn.execute(text(f"DROP TRIGGER {EVENTS.name}_no_delete"))
    await conn.execute(delete(EVENTS).where(EVENTS.c.occurred_at < cutoff))
    await conn.execute(text(guards.sqlite_delete_trigger(EVENTS.name)))
