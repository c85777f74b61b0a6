"""Every HR sync run is recorded: when, from where, what it counted, what failed, and whether it was confirmed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.db import utcnow
from accessctl.hr_sync.run_models import SyncRun

Outcome = Literal["applied", "dry_run", "stopped", "failed"]
Mode = Literal["full", "delta"]


@dataclass(frozen=True, slots=True)
class RecordError:
    """One rejected record: which record (a DN, an HR id or a unit), which field, and why."""

    record: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"record": self.record, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"{self.record}: {self.field}: {self.message}"


@dataclass
class RunReport:
    """What a run found and did; becomes one `hr_sync_runs` row."""

    source: str
    mode: Mode
    started_at: datetime
    dry_run: bool = False
    confirmed: bool = False
    outcome: Outcome = "applied"
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    stop_reason: str | None = None
    finished_at: datetime | None = None
    id: int | None = None

    @property
    def duration_s(self) -> float:
        end = self.finished_at or utcnow()
        return (end - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "mode": self.mode,
            "outcome": self.outcome,
            "dry_run": self.dry_run,
            "confirmed": self.confirmed,
            "started_at": self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "counts": self.counts,
            "errors": [e.as_dict() for e in self.errors],
            "stop_reason": self.stop_reason,
        }


async def record_run(session: AsyncSession, report: RunReport) -> SyncRun:
    """Store the finished run (in the caller's transaction) and give the report its id."""
    report.finished_at = report.finished_at or utcnow()
    row = SyncRun(
        source=report.source,
        mode=report.mode,
        started_at=report.started_at,
        finished_at=report.finished_at,
        outcome=report.outcome,
        dry_run=report.dry_run,
        confirmed=report.confirmed,
        counts=dict(report.counts),
        errors=[e.as_dict() for e in report.errors],
        stop_reason=report.stop_reason,
    )
    session.add(row)
    await session.flush()
    report.id = row.id
    return row


async def last_applied_start(session: AsyncSession, source: str) -> datetime | None:
    """When the last applied run of `source` started: a delta sync asks for what changed since then."""
    started: datetime | None = await session.scalar(
        select(SyncRun.started_at)
        .where(SyncRun.source == source, SyncRun.outcome == "applied", SyncRun.dry_run.is_(False))
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )
    return started


async def recent_runs(session: AsyncSession, source: str | None = None, limit: int = 20) -> Sequence[SyncRun]:
    query = select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(limit)
    if source is not None:
        query = query.where(SyncRun.source == source)
    return list(await session.scalars(query))
