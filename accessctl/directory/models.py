"""Tables for organisations, units, services, users and employments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accessctl.db import Base, utcnow

ORGANISATION_KINDS = ("health_trust", "municipality", "gp_office", "specialist", "physiotherapist", "other")
USER_STATUSES = ("active", "inactive")


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"kind IN {ORGANISATION_KINDS!r}", name="kind"),
        CheckConstraint("length(org_number) = 9", name="org_number_length"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_number: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    go_live: Mapped[date | None]
    agreement_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    units: Mapped[list[Unit]] = relationship(back_populates="organisation", lazy="raise")


class Unit(Base):
    """A node in one organisation's tree; the root has no parent."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="department")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="units", lazy="raise")
    services: Mapped[list[UnitService]] = relationship(lazy="raise", cascade="all, delete-orphan")


class Service(Base):
    """A service in the catalogue; records written in a shielded one are seen only from inside it."""

    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    group: Mapped[str] = mapped_column(String(200))
    shielded: Mapped[bool] = mapped_column(Boolean, default=False)


class UnitService(Base):
    __tablename__ = "unit_services"

    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), primary_key=True, index=True)


class User(Base):
    """A health worker, as HR knows them. Never hard-deleted: audit records point at them."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"status IN {USER_STATUSES!r}", name="status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hr_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_name: Mapped[str] = mapped_column(String(200), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    hpr_number: Mapped[str | None] = mapped_column(String(9), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    # HR's Enterprise User attributes (SCIM names), stored as sent and never used in decisions; NULL: none sent.
    enterprise: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # When HR last made the user inactive; NULL while active, and for users loaded inactive (the demo region).
    # The mass-change guard counts the leavers of its window by it.
    deactivated_at: Mapped[datetime | None] = mapped_column(index=True)

    employments: Mapped[list[Employment]] = relationship(back_populates="user", lazy="raise")

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


# SCIM compares userName and emails case-insensitively: its uniqueness checks and `eq` filters look them up by
# lower(...), which a plain or unique index on the column cannot answer.
Index("ix_users_lower_user_name", func.lower(User.user_name))
Index("ix_users_lower_email", func.lower(User.email))


class Employment(Base):
    """User x unit x position code, valid over [valid_from, valid_to)."""

    __tablename__ = "employments"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        UniqueConstraint("user_id", "unit_id", "position_code", "valid_from", name="uq_employments_slot"),
        Index("ix_employments_unit_valid", "unit_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    position_code: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="employments", lazy="raise")
