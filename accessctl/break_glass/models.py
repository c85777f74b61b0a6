"""Tables of break-the-glass: the grants, their reviews, and the notification outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from accessctl.db import Base, utcnow

REVIEW_STATUSES = ("pending", "justified", "unjustified", "follow_up")
REVIEW_OUTCOMES = ("justified", "unjustified", "follow_up")


class BreakGlassGrant(Base):
    """Emergency access of one user to one patient over [granted_at, expires_at), unless ended before."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (
        CheckConstraint("expires_at > granted_at", name="time_box"),
        CheckConstraint("duration_minutes > 0", name="duration"),
        # "Is a grant active for (user, patient)?" on every request, and the engine's load of active grants.
        Index("ix_break_glass_grants_user_id_patient", "user_id", "patient"),
        Index("ix_break_glass_grants_organisation_id_granted_at", "organisation_id", "granted_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # The role held in the unit whose document allowed breaking the glass (the one with the longest maximum).
    role_id: Mapped[str] = mapped_column(String(64))
    patient: Mapped[str] = mapped_column(String(11), index=True)
    reason_code: Mapped[str] = mapped_column(String(64))
    purpose_of_use: Mapped[str] = mapped_column(String(16))
    reason_text: Mapped[str] = mapped_column(Text)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(200))
    # When the end (early or by expiry) was audited as break_glass.ended; None while that is still to do.
    end_recorded_at: Mapped[datetime | None]
    client_system: Mapped[str | None] = mapped_column(String(128))
    workstation: Mapped[str | None] = mapped_column(String(128))
    # The break_glass.granted audit record, committed before this row was written.
    audit_event_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class BreakGlassReview(Base):
    """The privacy officer's or unit manager's follow-up of one grant: pending until someone reviews it."""

    __tablename__ = "break_glass_reviews"
    __table_args__ = (CheckConstraint(f"status IN {REVIEW_STATUSES!r}", name="status"),)

    grant_id: Mapped[str] = mapped_column(ForeignKey("break_glass_grants.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reviewer: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    # Set once the "review overdue" notification is queued, so it is queued only once.
    overdue_notified_at: Mapped[datetime | None]


class OutboxNotification(Base):
    """A notification waiting to be sent; it stays here until a sender confirms it, across restarts."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        # The sender's question: what is unsent and due?
        Index("ix_notification_outbox_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
    )

    # SQLite only autoincrements an INTEGER PRIMARY KEY, so the big integer is plain INTEGER there.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    # Stable across retries, so a receiver can drop a duplicate (delivery is at least once).
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
