"""Purge records as verify reads them: the seq ranges each purge removed, per chain, and the earlier purges it carries.

Retention writes each purge record as its own one-record chain (seq 1 after the genesis hash) with a signed
checkpoint. A later purge that removes earlier purge records carries each one whole, as its canonical record, in
`detail["earlier_purges"]`: the earlier record's checkpoint is never removed, so verify recomputes the carried
record's hash against it and goes on trusting the ranges that record named.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accessctl.audit import actions
from accessctl.audit.chain import GENESIS_HASH, canonical_json, canonical_record
from accessctl.audit.events import ChainedEvent

EARLIER_PURGES = "earlier_purges"


class MalformedPurge(ValueError):
    """A purge record's detail that retention would not have written."""


@dataclass(frozen=True)
class PurgedRange:
    """`removed` records of one chain, all with seqs from `first` to `last` (late records may remain between)."""

    first: int
    last: int
    removed: int


@dataclass
class PurgedRanges:
    """Seqs the retention purges removed, per chain, from the purge records verify trusts."""

    ranges: dict[uuid.UUID, list[PurgedRange]] = field(default_factory=dict)
    # The purge chains whose ranges are counted: a purge record met twice (present and carried) counts once.
    purges: set[uuid.UUID] = field(default_factory=set)

    def covers(self, chain_id: uuid.UUID, first: int, last: int) -> bool:
        ranges = self.ranges.get(chain_id, [])
        return any(r.first <= first <= r.last for r in ranges) and any(r.first <= last <= r.last for r in ranges)

    def widen(self, chain_id: uuid.UUID, first: int, last: int | None) -> tuple[int, int | None]:
        """The seqs first..last (None: the chain's end) grown until no purged range sticks out of either end, so
        the records missing in it can be counted against whole purges."""
        changed = True
        while changed:
            changed = False
            for r in self.ranges.get(chain_id, []):
                if r.last >= first and (last is None or r.first <= last):
                    if r.first < first:
                        first, changed = r.first, True
                    if last is not None and r.last > last:
                        last, changed = r.last, True
        return first, last

    def within(self, chain_id: uuid.UUID, first: int, last: int | None) -> list[PurgedRange]:
        return [r for r in self.ranges.get(chain_id, []) if first <= r.first and (last is None or r.last <= last)]

    def add(self, purge_chain: uuid.UUID, detail: Mapping[str, Any]) -> None:
        """Count the ranges a purge record names (once per purge chain); MalformedPurge when they make no sense."""
        if purge_chain in self.purges:
            return
        self.purges.add(purge_chain)
        chains = detail.get("chains")
        if not isinstance(chains, Mapping):
            raise MalformedPurge("purge record names no chains")
        for chain, info in chains.items():
            self.ranges.setdefault(_uuid(chain), []).append(_range(info))


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise MalformedPurge(f"purge record names chain {value!r}") from exc


def _range(info: object) -> PurgedRange:
    if not isinstance(info, Mapping) or not all(type(info.get(k)) is int for k in ("first_seq", "last_seq", "removed")):
        raise MalformedPurge(f"purge record's range {info!r} is not three whole numbers")
    first, last, removed = info["first_seq"], info["last_seq"], info["removed"]
    if not 1 <= first <= last or not 1 <= removed <= last - first + 1:
        raise MalformedPurge(f"purge record's range {first}-{last} cannot hold {removed} removed record(s)")
    return PurgedRange(first, last, removed)


def in_purge_shape(chained: ChainedEvent) -> bool:
    """True for a record placed as retention places a purge record: first of its own chain."""
    return chained.seq == 1 and chained.prev_hash == GENESIS_HASH


def carried_record(chained: ChainedEvent) -> dict[str, Any]:
    """An earlier purge record, whole, as a later purge that removes it carries it."""
    return canonical_record(
        chained.event,
        chain_id=chained.chain_id,
        seq=chained.seq,
        prev_hash=chained.prev_hash,
        recorded_at=chained.recorded_at,
    )


def carried_records(detail: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    carried = detail.get(EARLIER_PURGES, [])
    if not isinstance(carried, list) or not all(isinstance(record, Mapping) for record in carried):
        raise MalformedPurge(f"purge record's {EARLIER_PURGES} is not a list of records")
    return carried


def carried_chain(record: Mapping[str, Any]) -> uuid.UUID:
    """The chain of a carried record, once it is known to be a purge record in retention's shape."""
    if (
        record.get("action") != actions.AUDIT_PURGED
        or record.get("seq") != 1
        or record.get("prev_hash") != GENESIS_HASH
    ):
        raise MalformedPurge("a carried earlier purge is not a purge record at seq 1 of its own chain")
    if not isinstance(record.get("detail"), Mapping):
        raise MalformedPurge("a carried earlier purge has no detail")
    return _uuid(record.get("chain_id"))


def carried_hash(record: Mapping[str, Any]) -> str:
    """The hash the carried record had in its chain: the digest of its canonical form (see accessctl.audit.chain)."""
    return hashlib.sha256(canonical_json(dict(record))).hexdigest()
