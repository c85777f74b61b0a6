"""Measure the audit writer's throughput: many concurrent callers, each awaiting its own committed record."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent, new_event_id
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.writer import AuditWriter
from accessctl.db import make_engine


@dataclass(frozen=True)
class BenchResult:
    """Events committed, how long it took, and what that makes per second."""

    events: int
    callers: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def sample_decision(n: int) -> AuditEvent:
    """A realistic permit: one clinician reading one synthetic patient's note."""
    decision_id = new_event_id()
    return AuditEvent(
        action=actions.DECISION_PERMIT,
        occurred_at=datetime.now(UTC),
        id=decision_id,
        decision_id=decision_id,
        user_id=f"u{n % 34_000:05d}",
        hpr_number=f"{1_000_000 + n % 34_000}",
        roles=("nurse",),
        unit_id=f"unit-{n % 900}",
        organisation_id=f"org-{n % 60}",
        patient=f"{(n % 28) + 1:02d}{81 + n % 12:02d}90{n % 100_000:05d}",
        resource_type="journal.note",
        resource_id=f"note-{n}",
        data_action="read",
        outcome="permit",
        reason="care_relation",
        purpose_of_use="TREAT",
        client_system="dips-arena",
        workstation=f"ws-{n % 4000}",
        policy_version="v42",
    )


async def bench_writer(url: str, *, events: int = 20_000, callers: int = 64, max_batch: int = 500) -> BenchResult:
    """`callers` tasks each `record` one event at a time until `events` are committed, on a migrated database."""
    engine = make_engine(url)
    writer = AuditWriter(engine, CheckpointSigner.generate(), max_batch=max_batch)
    await writer.start()
    per_caller = events // callers

    async def caller(c: int) -> None:
        for i in range(per_caller):
            await writer.record(sample_decision(c * per_caller + i))

    started = time.perf_counter()
    try:
        await asyncio.gather(*(caller(c) for c in range(callers)))
        elapsed = time.perf_counter() - started
    finally:
        await writer.close()
        await engine.dispose()
    return BenchResult(events=per_caller * callers, callers=callers, seconds=elapsed)


def main() -> None:
    """`python -m accessctl.audit.bench URL [EVENTS] [CALLERS]` on a database migrated to head."""
    import sys

    url = sys.argv[1]
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    callers = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    result = asyncio.run(bench_writer(url, events=events, callers=callers))
    print(
        f"{result.events} events, {result.callers} callers, {result.seconds:.2f} s: {result.per_second:,.0f} events/s"
    )


if __name__ == "__main__":
    main()
