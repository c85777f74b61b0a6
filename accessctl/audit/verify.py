"""Walk every chain in order: recompute each hash, check links, seq continuity, and every signed checkpoint."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl.audit.chain import GENESIS_HASH
from accessctl.audit.purges import PurgedRanges
from accessctl.audit.signing import Checkpoint, signature_problem
from accessctl.audit.store import EVENTS, chained_from_row
from accessctl.audit.verify_purges import UntrustedPurge, chain_checkpoints, hash_problem, trusted_purges
from accessctl.audit.verify_report import Problem, Report
from accessctl.audit.verify_spans import Span, spans

__all__ = ["Problem", "Report", "verify_log"]


async def verify_log(
    conn: AsyncConnection,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """Verify every chain (or each chain around the records that fall in [since, until)); stop at the first problem."""
    report = Report()
    if (misspelled := await _misspelled_moment(conn)) is not None:
        report.problem = misspelled
        return report
    try:
        purges = await trusted_purges(conn, keys)
    except UntrustedPurge as untrusted:
        report.problem = untrusted.problem
        return report
    walks = await spans(conn, since, until, purges)
    for chain_id, span in walks.items():
        report.chains += 1
        problem = await _verify_chain(conn, chain_id, span, keys, purges, report)
        if problem is not None:
            report.problem = problem
            break
    return report


# How SQLAlchemy stores a moment in SQLite (text, UTC, no zone). The hash covers the moment, not its spelling, and
# the same moment read back from "2026-11-26T10:00:00+01:00" would hash alike yet sort elsewhere as text, moving a
# record out of a privacy officer's time range or into an earlier month's purge.
_SQLITE_MOMENT = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"
)


async def _misspelled_moment(conn: AsyncConnection) -> Problem | None:
    """On SQLite, the first record whose stored time is not in the one spelling the service writes."""
    if conn.dialect.name != "sqlite":
        return None  # PostgreSQL stores a timestamp, not its spelling
    row = (
        await conn.execute(
            select(EVENTS.c.chain_id, EVENTS.c.seq, EVENTS.c.id)
            .where(
                ~func.coalesce(cast(EVENTS.c.occurred_at, String).op("GLOB")(_SQLITE_MOMENT), False)
                | ~func.coalesce(cast(EVENTS.c.recorded_at, String).op("GLOB")(_SQLITE_MOMENT), False)
            )
            .order_by(EVENTS.c.chain_id, EVENTS.c.seq)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    what = (
        "occurred_at or recorded_at is stored in another spelling than the service writes (edited: it sorts elsewhere)"
    )
    return Problem(row.chain_id, row.seq, row.id, what)


@dataclass
class _Walk:
    """Where the walk of one chain has got to."""

    expected: int
    prev_hash: str = GENESIS_HASH
    missing: int = 0


async def _verify_chain(
    conn: AsyncConnection,
    chain_id: uuid.UUID,
    span: Span,
    keys: Mapping[str, Ed25519PublicKey],
    purges: PurgedRanges,
    report: Report,
) -> Problem | None:
    checkpoints = await chain_checkpoints(conn, chain_id)
    signed_up_to = max(checkpoints, default=0)
    checkpoints = {s: cp for s, cp in checkpoints.items() if s >= span.first and (span.last is None or s <= span.last)}
    query = select(EVENTS).where(EVENTS.c.chain_id == chain_id, EVENTS.c.seq >= span.first).order_by(EVENTS.c.seq)
    if span.last is not None:
        query = query.where(EVENTS.c.seq <= span.last)
    walk = _Walk(expected=span.first)
    stream = await conn.stream(query.execution_options(yield_per=1000))
    async for row in stream:
        chained = chained_from_row(row._mapping)
        seq, event_id = chained.seq, chained.event.id
        report.records += span.counts(seq)
        if (problem := hash_problem(chained)) is not None:
            return Problem(chain_id, seq, event_id, problem)
        if seq < walk.expected:
            return Problem(chain_id, seq, event_id, f"seq {seq} appears twice (record inserted or replayed)")
        if seq > walk.expected:
            if (gap := _gap_problem(chain_id, walk.expected, seq - 1, purges)) is not None:
                return Problem(chain_id, seq, event_id, f"{gap} before this record (records removed)")
            walk.missing += seq - walk.expected
        elif chained.prev_hash != walk.prev_hash and (seq != span.first or seq == 1):
            # A span that starts later begins at the link into the window: its own predecessor is not walked.
            return Problem(
                chain_id,
                seq,
                event_id,
                f"prev_hash does not match seq {seq - 1} (records removed, swapped or inserted)",
            )
        if (checkpoint := checkpoints.pop(seq, None)) is not None:
            report.checkpoints += 1
            if (problem := _checkpoint_problem(checkpoint, chained.hash, keys)) is not None:
                return Problem(chain_id, seq, event_id, problem)
        walk.expected, walk.prev_hash = seq + 1, chained.hash
    if span.whole:
        report.unsigned += max(0, walk.expected - 1 - signed_up_to)
    return _after_walk(chain_id, span, walk, checkpoints, keys, purges, report)


def _gap_problem(chain_id: uuid.UUID, first: int, last: int, purges: PurgedRanges) -> str | None:
    if purges.covers(chain_id, first, last):
        return None
    return f"seq {first} missing" if first == last else f"seqs {first}-{last} missing"


def _checkpoint_problem(checkpoint: Checkpoint, digest: str, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    problem = signature_problem(checkpoint, keys)
    if problem is None and checkpoint.hash != digest:
        problem = f"signed checkpoint names hash {checkpoint.hash[:16]}..., the record has {digest[:16]}..."
    return problem


def _after_walk(
    chain_id: uuid.UUID,
    span: Span,
    walk: _Walk,
    checkpoints: dict[int, Checkpoint],
    keys: Mapping[str, Ed25519PublicKey],
    purges: PurgedRanges,
    report: Report,
) -> Problem | None:
    """Checkpoints whose record was not met, the span's missing end, and whether purges account for every gap."""
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
    ranges = purges.within(chain_id, span.first, span.last)
    if span.last is not None and walk.expected <= span.last:
        # The span ends at a record that should be there (the one after the window, or a checkpoint's).
        if (gap := _gap_problem(chain_id, walk.expected, span.last, purges)) is not None:
            return Problem(chain_id, span.last, None, f"{gap} at the end of the walk (records removed)")
        walk.missing += span.last - walk.expected + 1
    elif span.last is None:
        tail_end = max((r.last for r in ranges), default=0)
        walk.missing += max(0, tail_end - walk.expected + 1)
    removed = sum(r.removed for r in ranges)
    report.purged += removed
    if walk.missing != removed:
        return Problem(
            chain_id,
            walk.expected,
            None,
            f"{walk.missing} record(s) missing, but the signed purges account for {removed}",
        )
    return None
