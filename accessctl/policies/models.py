"""Tables for roles, role assignments and published policy versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from accessctl.db import Base, utcnow

ASSIGNMENT_SOURCES = ("hr", "manual")


class Role(Base):
    """A role as its approved document defines it; the document itself lives in a policy version."""

    __tablename__ = "roles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    may_break_glass: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoleAssignment(Base):
    """User x role x unit over [valid_from, valid_to); from HR rules or granted by hand with an approver."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        CheckConstraint(f"source IN {ASSIGNMENT_SOURCES!r}", name="source"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint(
            "source <> 'manual' OR (approver IS NOT NULL AND valid_to IS NOT NULL)", name="manual_needs_approver"
        ),
        Index("ix_role_assignments_user_unit", "user_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(16))
    approver: Mapped[str | None] = mapped_column(String(200))
    # Who granted a manual assignment (the caller), beside the approver who agreed to it.
    granted_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleGrantRequest(Base):
    """A role grant by hand as one person asked for it, until a second person (the approver) agrees to it.

    The approver is whoever approves it (their token's subject), never a name the asker typed in.
    """

    __tablename__ = "role_grant_requests"
    __table_args__ = (
        CheckConstraint("valid_to > valid_from", name="valid_range"),
        CheckConstraint("status IN ('pending', 'approved')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    role_id: Mapped[str] = mapped_column(
        String(64)
    )  # a role of the active policy when asked; checked again on approval
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


VERSION_STATUSES = ("pending", "active", "superseded", "rejected")


class PolicyVersion(Base):
    """One published set of policy files: exactly what was approved, so it can be re-compiled and rolled back to."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        CheckConstraint(f"status IN {VERSION_STATUSES!r}", name="status"),
        CheckConstraint("approved_by IS NULL OR approved_by <> author", name="four_eyes"),
        # At most one active version, whatever races two approvals into the database.
        Index(
            "uq_policy_versions_active",
            "status",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(String(71), index=True)
    # Every policy file (catalogues, role documents, access tests) as a JSON object of path -> text.
    source: Mapped[str] = mapped_column(Text)
    # The compiled rules as JSON, so engines load a version without parsing YAML.
    compiled: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    rollback_of: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
