"""Tables for care relations and patient blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from accessctl.db import Base, utcnow

CARE_RELATION_KINDS = ("admission", "appointment", "referral", "home_care_decision", "gp_list")
BLOCK_CATEGORIES = ("protected_address", "strictly_protected_address", "psychiatry", "sexual_health", "genetics")


class CareRelation(Base):
    """Patient x (user or unit) over [valid_from, valid_to), with its kind."""

    __tablename__ = "care_relations"
    __table_args__ = (
        CheckConstraint(f"kind IN {CARE_RELATION_KINDS!r}", name="kind"),
        CheckConstraint("(user_id IS NULL) <> (unit_id IS NULL)", name="user_or_unit"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        Index("ix_care_relations_patient_user", "patient", "user_id"),
        Index("ix_care_relations_patient_unit", "patient", "unit_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient: Mapped[str] = mapped_column(String(11))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PatientBlock(Base):
    """A patient's restriction against one named user, one unit, or a category of the record."""

    __tablename__ = "patient_blocks"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN unit_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN category IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        CheckConstraint(f"category IS NULL OR category IN {BLOCK_CATEGORIES!r}", name="category"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient: Mapped[str] = mapped_column(String(11), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    category: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
