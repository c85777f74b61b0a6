"""Which seqs of each chain verify walks: the whole chain, or for `--from/--to` the window and its edges.

A window picks records by when they occurred, but the chain is in seq order, and tampering at the edges is
found only around them. So the walk starts at the record before the window's first (the link into it) and
runs to the record after its last (the link out of it) and on to the first signed checkpoint at or after its
last record, which is what proves the window's records unchanged. A chain with no record left in the window is
still walked across the place the window would be (chains come from the checkpoints too), so removing all of
a chain's records in a window is found. Finally the span grows over any purged range it touches, so the records
missing in it can be counted against whole purges.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl.audit.purges import PurgedRanges
from accessctl.audit.store import CHECKPOINTS, EVENTS


@dataclass(frozen=True)
class Span:
    """Seqs `first` to `last` (None: to the chain's end) to walk; `counted` those that lie in the window."""

    first: int = 1
    last: int | None = None
    counted: tuple[int, int] | None = None

    @property
    def whole(self) -> bool:
        return self.first == 1 and self.last is None

    def counts(self, seq: int) -> bool:
        return self.counted is None or self.counted[0] <= seq <= self.counted[1]


async def _seq(conn: AsyncConnection, query: Select[tuple[int | None]]) -> int | None:
    found = (await conn.execute(query)).scalar_one_or_none()
    return None if found is None else int(found)


async def _first_after(conn: AsyncConnection, chain_id: uuid.UUID, seq: int) -> int | None:
    query = select(func.min(EVENTS.c.seq)).where(EVENTS.c.chain_id == chain_id, EVENTS.c.seq > seq)
    return await _seq(conn, query)


async def _last_before(conn: AsyncConnection, chain_id: uuid.UUID, seq: int) -> int | None:
    query = select(func.max(EVENTS.c.seq)).where(EVENTS.c.chain_id == chain_id, EVENTS.c.seq < seq)
    return await _seq(conn, query)


async def _last_occurred_before(conn: AsyncConnection, chain_id: uuid.UUID, since: datetime | None) -> int | None:
    if since is None:
        return None
    query = select(func.max(EVENTS.c.seq)).where(EVENTS.c.chain_id == chain_id, EVENTS.c.occurred_at < since)
    return await _seq(conn, query)


async def _first_checkpoint_from(conn: AsyncConnection, chain_id: uuid.UUID, seq: int) -> int | None:
    query = select(func.min(CHECKPOINTS.c.seq)).where(CHECKPOINTS.c.chain_id == chain_id, CHECKPOINTS.c.seq >= seq)
    return await _seq(conn, query)


async def _in_window(
    conn: AsyncConnection, since: datetime | None, until: datetime | None
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per chain, the lowest and highest seq of the records that occurred in the window."""
    query = select(EVENTS.c.chain_id, func.min(EVENTS.c.seq), func.max(EVENTS.c.seq)).group_by(EVENTS.c.chain_id)
    if since is not None:
        query = query.where(EVENTS.c.occurred_at >= since)
    if until is not None:
        query = query.where(EVENTS.c.occurred_at < until)
    return {row[0]: (int(row[1]), int(row[2])) for row in await conn.execute(query)}


async def _window_span(
    conn: AsyncConnection,
    chain_id: uuid.UUID,
    inside: tuple[int, int] | None,
    since: datetime | None,
    purges: PurgedRanges,
) -> Span:
    if inside is not None:
        first = await _last_before(conn, chain_id, inside[0]) or 1  # the link into the window
        last_inside = inside[1]
    else:
        # Nothing left in the window: walk from the last record before it across to the one after it.
        first = await _last_occurred_before(conn, chain_id, since) or 1
        last_inside = first
    after = await _first_after(conn, chain_id, last_inside)  # the link out of the window
    covering = await _first_checkpoint_from(conn, chain_id, last_inside)
    last = None if after is None else max(after, covering or 0)
    first, last = purges.widen(chain_id, first, last)
    return Span(first, last, counted=inside or (0, -1))


async def spans(
    conn: AsyncConnection, since: datetime | None, until: datetime | None, purges: PurgedRanges
) -> dict[uuid.UUID, Span]:
    """Each chain to walk, from the records and from the checkpoints, with the seqs to walk."""
    ids = union(select(EVENTS.c.chain_id).distinct(), select(CHECKPOINTS.c.chain_id).distinct())
    chains = sorted(row[0] for row in await conn.execute(ids))
    if since is None and until is None:
        return dict.fromkeys(chains, Span())
    inside = await _in_window(conn, since, until)
    return {chain_id: await _window_span(conn, chain_id, inside.get(chain_id), since, purges) for chain_id in chains}
