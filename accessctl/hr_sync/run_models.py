"""The table of HR sync runs: one row per run (LDAP pull or bulk change), with its counts and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from accessctl.db import Base

RUN_OUTCOMES = ("running", "applied", "dry_run", "stopped", "failed")
RUN_MODES = ("full", "delta")


class SyncRun(Base):
    """One HR sync run: when, from which source, what it found and changed, and whether anyone confirmed it."""

    __tablename__ = "hr_sync_runs"
    __table_args__ = (
        CheckConstraint(f"outcome IN {RUN_OUTCOMES!r}", name="outcome"),
        CheckConstraint(f"mode IN {RUN_MODES!r}", name="mode"),
        # The delta sync asks for the last applied run of its source.
        Index("ix_hr_sync_runs_source_started_at", "source", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Why a run stopped (the guard) or failed; None when it applied.
    stop_reason: Mapped[str | None] = mapped_column(String(500))
