"""What `accessctl audit verify` reports: how much it walked, and the first problem it found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


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
