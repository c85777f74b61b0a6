"""Builders and tamper tools for the audit tests; tampering goes around the append-only triggers on purpose."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit import actions, guards
from accessctl.audit.events import AuditEvent

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def decision(n: int = 0, *, at: datetime | None = None, **overrides: Any) -> AuditEvent:
    """A permit for a synthetic patient (birth month + 80), `n` minutes after T0 unless `at` is given."""
    decision_id = uuid.uuid4()
    fields: dict[str, Any] = {
        "action": actions.DECISION_PERMIT,
        "occurred_at": at or T0 + timedelta(minutes=n),
        "id": decision_id,
        "decision_id": decision_id,
        "user_id": f"user-{n}",
        "hpr_number": "1234567",
        "roles": ("nurse", "ward-clerk"),
        "unit_id": "unit-ward-7",
        "organisation_id": "org-hospital",
        "patient": "01817012345",
        "resource_type": "journal.note",
        "resource_id": f"note-{n}",
        "data_action": "read",
        "outcome": "permit",
        "reason": "care_relation",
        "purpose_of_use": "TREAT",
        "client_system": "record-system",
        "workstation": "ws-17",
        "policy_version": "v3",
    }
    fields.update(overrides)
    return AuditEvent(**fields)


async def tamper(engine: AsyncEngine, sql: str, params: dict[str, Any] | list[dict[str, Any]] | None = None) -> None:
    """Run SQL with the append-only triggers out of the way, as an attacker with database access could."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))  # triggers do not fire
            await conn.execute(text(sql), params)
            return
        for table in guards.TABLES:
            await conn.execute(text(f"DROP TRIGGER {table}_no_update"))
            await conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
        await conn.execute(text(sql), params)
        for table in guards.TABLES:
            await conn.execute(text(guards.sqlite_update_trigger(table)))
            await conn.execute(text(guards.sqlite_delete_trigger(table)))


def refused_by_the_database(event: AuditEvent) -> AuditEvent:
    """The event with a resource id too long for its column, set past the event's own check: a row PostgreSQL
    refuses, as a store fault would make it refuse any row."""
    object.__setattr__(event, "resource_id", "x" * 300)
    return event
