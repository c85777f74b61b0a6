"""Walk every chain in order: recompute each hash, check links, seq continuity, and every signed checkpoint."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl.audit import actions
from accessctl.audit.chain import GENESIS_HASH, record_hash
from accessctl.audit.events import ChainedEvent
from accessctl.audit.signing import Checkpoint, signature_problem
from accessctl.audit.store import CHECKPOINTS, EVENTS, chained_from_row, checkpoint_from_row


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: which chain, which seq, which event (when it still exists), and what."""

    chain_id: uuid.UUID
    seq: int
    event_id: uuid.UUID | None
    what: str

    def __str__(self) -> str:
        event = self.event_id or "(no longer in the log)"
        return f"chain {self.chain_id} seq {self.seq} event {event}: {self.what}"


@dataclass
class Report:
    """What verify walked, and the first problem (None when the log is intact)."""

    chains: int = 0
    records: int = 0
    checkpoints: int = 0
    purged: int = 0
    unsigned: int = 0
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class _Purges:
    """Seqs the retention purge removed, per chain, from the signed purge records."""

    ranges: dict[uuid.UUID, list[tuple[int, int]]] = field(default_factory=dict)
    removed: dict[uuid.UUID, int] = field(default_factory=dict)

    def covers(self, chain_id: uuid.UUID, first: int, last: int) -> bool:
        ranges = self.ranges.get(chain_id, [])
        return any(lo <= first <= hi for lo, hi in ranges) and any(lo <= last <= hi for lo, hi in ranges)

    def add(self, detail: Mapping[str, Any]) -> None:
        for chain, info in detail.get("chains", {}).items():
            chain_id = uuid.UUID(chain)
            self.ranges.setdefault(chain_id, []).append((int(info["first_seq"]), int(info["last_seq"])))
            self.removed[chain_id] = self.removed.get(chain_id, 0) + int(info["removed"])


def _hash_problem(chained: ChainedEvent) -> str | None:
    recomputed = record_hash(
        chained.event,
        chain_id=chained.chain_id,
        seq=chained.seq,
        prev_hash=chained.prev_hash,
        recorded_at=chained.recorded_at,
    )
    return None if recomputed == chained.hash else "content does not match its hash (record changed)"


async def _checkpoints(conn: AsyncConnection, chain_id: uuid.UUID) -> dict[int, Checkpoint]:
    rows = await conn.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.chain_id == chain_id))
    return {row.seq: checkpoint_from_row(row._mapping) for row in rows}


async def _purges(conn: AsyncConnection, keys: Mapping[str, Ed25519PublicKey], report: Report) -> _Purges:
    """Purge records are trusted only when their own signed checkpoint covers them."""
    purges = _Purges()
    rows = await conn.execute(select(EVENTS).where(EVENTS.c.action == actions.AUDIT_PURGED))
    for row in rows:
        chained = chained_from_row(row._mapping)
        checkpoint = (await _checkpoints(conn, chained.chain_id)).get(chained.seq)
        problem = _hash_problem(chained)
        if problem is None and (checkpoint is None or checkpoint.hash != chained.hash):
            problem = "purge record is not covered by a signed checkpoint"
        if problem is None and checkpoint is not None:
            problem = signature_problem(checkpoint, keys)
        if problem is not None:
            report.problem = Problem(chained.chain_id, chained.seq, chained.event.id, problem)
            return purges
        purges.add(chained.event.detail or {})
    return purges


async def _windows(
    conn: AsyncConnection, since: datetime | None, until: datetime | None
) -> dict[uuid.UUID, tuple[int, int] | None]:
    """Each chain to walk, with the seq range to walk (None: the whole chain)."""
    if since is None and until is None:
        ids = union(select(EVENTS.c.chain_id).distinct(), select(CHECKPOINTS.c.chain_id).distinct())
        return {row[0]: None for row in await conn.execute(ids)}
    query = select(EVENTS.c.chain_id, func.min(EVENTS.c.seq), func.max(EVENTS.c.seq)).group_by(EVENTS.c.chain_id)
    if since is not None:
        query = query.where(EVENTS.c.occurred_at >= since)
    if until is not None:
        query = query.where(EVENTS.c.occurred_at < until)
    return {row[0]: (int(row[1]), int(row[2])) for row in await conn.execute(query)}


async def verify_log(
    conn: AsyncConnection,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """Verify every chain (or the records of each chain that fall in [since, until)); stop at the first problem."""
    report = Report()
    purges = await _purges(conn, keys, report)
    if report.problem is not None:
        return report
    windows = await _windows(conn, since, until)
    for chain_id in sorted(windows):
        report.chains += 1
        problem = await _verify_chain(conn, chain_id, windows[chain_id], keys, purges, report)
        if problem is not None:
            report.problem = problem
            break
    return report


async def _verify_chain(
    conn: AsyncConnection,
    chain_id: uuid.UUID,
    window: tuple[int, int] | None,
    keys: Mapping[str, Ed25519PublicKey],
    purges: _Purges,
    report: Report,
) -> Problem | None:
    checkpoints = await _checkpoints(conn, chain_id)
    signed_up_to = max(checkpoints, default=0)
    if window is not None:
        checkpoints = {seq: cp for seq, cp in checkpoints.items() if window[0] <= seq <= window[1]}
    query = select(EVENTS).where(EVENTS.c.chain_id == chain_id).order_by(EVENTS.c.seq)
    if window is not None:
        query = query.where(EVENTS.c.seq.between(*window))
    expected, prev_hash, missing = (window[0] if window else 1), GENESIS_HASH, 0
    stream = await conn.stream(query.execution_options(yield_per=1000))
    async for row in stream:
        chained = chained_from_row(row._mapping)
        seq, event_id = chained.seq, chained.event.id
        report.records += 1
        if (problem := _hash_problem(chained)) is not None:
            return Problem(chain_id, seq, event_id, problem)
        if seq < expected:
            return Problem(chain_id, seq, event_id, f"seq {seq} appears twice (record inserted or replayed)")
        if seq > expected:
            if not purges.covers(chain_id, expected, seq - 1):
                gap = f"seq {expected}" if seq - 1 == expected else f"seqs {expected}-{seq - 1}"
                return Problem(chain_id, seq, event_id, f"{gap} missing before this record (records removed)")
            missing += seq - expected
        elif chained.prev_hash != prev_hash and not (window and seq == window[0] and seq > 1):
            return Problem(
                chain_id,
                seq,
                event_id,
                f"prev_hash does not match seq {seq - 1} (records removed, swapped or inserted)",
            )
        if (checkpoint := checkpoints.pop(seq, None)) is not None:
            report.checkpoints += 1
            problem = signature_problem(checkpoint, keys)
            if problem is None and checkpoint.hash != chained.hash:
                problem = (
                    f"signed checkpoint names hash {checkpoint.hash[:16]}..., the record has {chained.hash[:16]}..."
                )
            if problem is not None:
                return Problem(chain_id, seq, event_id, problem)
        expected, prev_hash = seq + 1, chained.hash
    if window is None:
        report.unsigned += max(0, expected - 1 - signed_up_to)
    return _after_walk(chain_id, expected, checkpoints, keys, purges, missing, window is not None, report)


def _after_walk(
    chain_id: uuid.UUID,
    expected: int,
    checkpoints: dict[int, Checkpoint],
    keys: Mapping[str, Ed25519PublicKey],
    purges: _Purges,
    missing: int,
    windowed: bool,
    report: Report,
) -> Problem | None:
    """Checkpoints whose record was not met, purged tails, and whether the purges account for every gap."""
    for seq in sorted(checkpoints):
        checkpoint = checkpoints[seq]
        report.checkpoints += 1
        if (problem := signature_problem(checkpoint, keys)) is not None:
            return Problem(chain_id, seq, None, problem)
        if not purges.covers(chain_id, seq, seq):
            return Problem(
                chain_id,
                seq,
                None,
                f"signed checkpoint names seq {seq} (hash {checkpoint.hash[:16]}...), which is no longer in the log "
                "(records removed before it: truncated)",
            )
    tail_end = max((hi for _, hi in purges.ranges.get(chain_id, [])), default=0)
    missing += max(0, tail_end - expected + 1)
    removed = purges.removed.get(chain_id, 0)
    report.purged += removed
    if not windowed and missing != removed:
        return Problem(
            chain_id, expected, None, f"{missing} record(s) missing, but the signed purges account for {removed}"
        )
    return None
