"""Which purge records verify trusts: only those in the shape retention writes, and those they carry.

A purge record accounts for missing records, so it is trusted only as retention writes it: the one record of its
own chain (seq 1 after the genesis hash), covered by a good signed checkpoint at seq 1, with no other record or
checkpoint in that chain. An `audit.purged` record anywhere else (say in a writer's chain, where the outbox once let
one in) is reported. Earlier purge records carried by a trusted one are checked against their own checkpoints.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl.audit import actions
from accessctl.audit.chain import record_hash
from accessctl.audit.events import ChainedEvent
from accessctl.audit.purges import (
    MalformedPurge,
    PurgedRanges,
    carried_chain,
    carried_hash,
    carried_records,
    in_purge_shape,
)
from accessctl.audit.signing import Checkpoint, signature_problem
from accessctl.audit.store import CHECKPOINTS, EVENTS, chained_from_row, checkpoint_from_row
from accessctl.audit.verify_report import Problem


class UntrustedPurge(Exception):
    """A purge record verify cannot trust; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def hash_problem(chained: ChainedEvent) -> str | None:
    recomputed = record_hash(
        chained.event,
        chain_id=chained.chain_id,
        seq=chained.seq,
        prev_hash=chained.prev_hash,
        recorded_at=chained.recorded_at,
    )
    return None if recomputed == chained.hash else "content does not match its hash (record changed)"


async def chain_checkpoints(conn: AsyncConnection, chain_id: uuid.UUID) -> dict[int, Checkpoint]:
    rows = await conn.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.chain_id == chain_id))
    return {row.seq: checkpoint_from_row(row._mapping) for row in rows}


def checkpoint_problem(checkpoint: Checkpoint | None, digest: str, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """What is wrong with the signed checkpoint that should name `digest` at seq 1, if anything."""
    if checkpoint is None or checkpoint.hash != digest:
        return "purge record is not covered by a signed checkpoint"
    return signature_problem(checkpoint, keys)


async def _shape_problem(
    conn: AsyncConnection, chained: ChainedEvent, checkpoints: dict[int, Checkpoint]
) -> str | None:
    if not in_purge_shape(chained):
        return "audit.purged record outside a one-record purge chain: only the retention purge writes these"
    records = select(func.count()).select_from(EVENTS).where(EVENTS.c.chain_id == chained.chain_id)
    if (await conn.execute(records)).scalar_one() != 1 or set(checkpoints) - {1}:
        return "purge record's chain holds more than the purge record: only the retention purge writes these"
    return None


async def _trust_present(
    conn: AsyncConnection, chained: ChainedEvent, keys: Mapping[str, Ed25519PublicKey], purges: PurgedRanges
) -> list[Mapping[str, Any]]:
    """Count a stored purge record's ranges; returns the earlier purges it carries."""
    checkpoints = await chain_checkpoints(conn, chained.chain_id)
    problem = hash_problem(chained) or await _shape_problem(conn, chained, checkpoints)
    problem = problem or checkpoint_problem(checkpoints.get(1), chained.hash, keys)
    if problem is not None:
        raise UntrustedPurge(Problem(chained.chain_id, chained.seq, chained.event.id, problem))
    detail = chained.event.detail or {}
    try:
        purges.add(chained.chain_id, detail)
        return carried_records(detail)
    except MalformedPurge as exc:
        raise UntrustedPurge(Problem(chained.chain_id, 1, chained.event.id, str(exc))) from exc


async def _trust_carried(
    conn: AsyncConnection,
    carrier: ChainedEvent,
    record: Mapping[str, Any],
    keys: Mapping[str, Ed25519PublicKey],
    purges: PurgedRanges,
) -> list[Mapping[str, Any]]:
    """Count a carried purge record's ranges once its hash matches its own signed checkpoint."""
    try:
        chain_id = carried_chain(record)
        checkpoint = (await chain_checkpoints(conn, chain_id)).get(1)
        problem = checkpoint_problem(checkpoint, carried_hash(record), keys)
        if problem is not None:
            raise MalformedPurge(f"carried earlier purge of chain {chain_id}: {problem}")
        purges.add(chain_id, record["detail"])
        return carried_records(record["detail"])
    except MalformedPurge as exc:
        raise UntrustedPurge(Problem(carrier.chain_id, carrier.seq, carrier.event.id, str(exc))) from exc


async def trusted_purges(conn: AsyncConnection, keys: Mapping[str, Ed25519PublicKey]) -> PurgedRanges:
    """The ranges every purge record accounts for; UntrustedPurge at the first one that cannot be trusted."""
    purges = PurgedRanges()
    rows = await conn.execute(select(EVENTS).where(EVENTS.c.action == actions.AUDIT_PURGED).order_by(EVENTS.c.chain_id))
    present = [chained_from_row(row._mapping) for row in rows]
    carried: list[tuple[ChainedEvent, Mapping[str, Any]]] = []
    for chained in present:
        carried.extend((chained, record) for record in await _trust_present(conn, chained, keys, purges))
    while carried:
        carrier, record = carried.pop()
        more = await _trust_carried(conn, carrier, record, keys, purges)
        carried.extend((carrier, inner) for inner in more)
    return purges
