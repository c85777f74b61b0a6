"""Tables of the audit log: the hash-chained events and the signed checkpoints (append-only, see guards)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from accessctl.audit.events import MAX_LENGTHS
from accessctl.db import Base


class AuditEventRow(Base):
    """One chained audit event. No foreign keys: the log outlives the users, units and grants it names.

    On PostgreSQL the table is partitioned by month of `occurred_at` (so the key includes it), and retention
    drops whole partitions; `(chain_id, seq)` is unique by construction of the writer, checked by verify.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # The privacy officer's and the patient portal's queries: one subject over a time range.
        Index("ix_audit_events_patient_occurred_at", "patient", "occurred_at"),
        Index("ix_audit_events_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_audit_events_unit_id_occurred_at", "unit_id", "occurred_at"),
        Index("ix_audit_events_organisation_id_occurred_at", "organisation_id", "occurred_at"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
        # Break-glass follow-up and purge records, by kind of event over time.
        Index("ix_audit_events_action_occurred_at", "action", "occurred_at"),
        # verify walks each chain in order.
        Index("ix_audit_events_chain_id_seq", "chain_id", "seq"),
        Index("ix_audit_events_break_glass_grant_id", "break_glass_grant_id"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(primary_key=True)
    chain_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(MAX_LENGTHS["action"]))
    user_id: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["user_id"]))
    hpr_number: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["hpr_number"]))
    roles: Mapped[list[str]] = mapped_column(JSON)
    unit_id: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["unit_id"]))
    organisation_id: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["organisation_id"]))
    patient: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["patient"]))
    resource_type: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["resource_type"]))
    resource_id: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["resource_id"]))
    data_action: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["data_action"]))
    outcome: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["reason"]))
    purpose_of_use: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["purpose_of_use"]))
    break_glass_grant_id: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["break_glass_grant_id"]))
    break_glass_reason_code: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["break_glass_reason_code"]))
    client_system: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["client_system"]))
    workstation: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["workstation"]))
    policy_version: Mapped[str | None] = mapped_column(String(MAX_LENGTHS["policy_version"]))
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditCheckpointRow(Base):
    """A signature over (chain, seq, hash): proves the chain up to `seq` existed as it was when signed."""

    __tablename__ = "audit_checkpoints"

    chain_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))


class AuditOutboxRow(Base):
    """A change's audit event, staged in the change's transaction until the writer chains it (then deleted).

    Not part of the log: a queue in front of it, so a change never commits without its audit record to follow.
    """

    __tablename__ = "audit_outbox"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    staged_at: Mapped[datetime] = mapped_column(index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
