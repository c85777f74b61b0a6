"""Shared pieces of the break-the-glass API tests: request bodies, reviewer tokens, audit lookups."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.models import AuditEventRow
from accessctl.break_glass import BreakGlassGrant, BreakGlassReview
from tests.api.conftest import TokenFactory, bearer
from tests.api.world import DOCTOR, PATIENT, UNIT

REASON_TEXT = "Brought in unconscious, no relation yet"


def grant_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user": DOCTOR,
        "unit": UNIT,
        "patient": PATIENT,
        "reason_code": "unconscious_patient",
        "reason_text": REASON_TEXT,
        "duration_minutes": 60,
        "client_system": "emr",
        "workstation": "ws-17",
    }
    return {**body, **changes}


def officer(token: TokenFactory, sub: str = "po1", **claims: Any) -> dict[str, str]:
    """A btg:review token; a privacy officer of the test municipality unless other claims are given."""
    return bearer(token("btg:review", sub=sub, claims=claims or {"organisations": ["testby"]}))


async def break_glass(client: httpx.AsyncClient, headers: dict[str, str], **changes: Any) -> httpx.Response:
    return await client.post("/v1/break-glass", json=grant_body(**changes), headers=headers)


async def audit_rows(session: AsyncSession, action: str, grant_id: str | None = None) -> list[AuditEventRow]:
    query = select(AuditEventRow).where(AuditEventRow.action == action).order_by(AuditEventRow.recorded_at)
    if grant_id is not None:
        query = query.where(AuditEventRow.break_glass_grant_id == grant_id)
    return list(await session.scalars(query))


async def grants(session: AsyncSession) -> list[BreakGlassGrant]:
    return list(await session.scalars(select(BreakGlassGrant).execution_options(populate_existing=True)))


def past_grant(grant_id: str, granted_at: datetime, minutes: int = 30) -> BreakGlassGrant:
    """A grant made (and audited) in the past, as its row."""
    return BreakGlassGrant(
        id=grant_id,
        user_id=DOCTOR,
        unit_id=UNIT,
        organisation_id="testby",
        role_id="legevakt.lege",
        patient=PATIENT,
        reason_code="emergency",
        purpose_of_use="ETREAT",
        reason_text=REASON_TEXT,
        duration_minutes=minutes,
        granted_at=granted_at,
        expires_at=granted_at + timedelta(minutes=minutes),
        audit_event_id=uuid.uuid4(),
    )


async def add_past_grant(session: AsyncSession, grant_id: str, granted_at: datetime, minutes: int = 30) -> None:
    """A grant made (and audited) in the past, written straight to the tables."""
    session.add(past_grant(grant_id, granted_at, minutes))
    await session.flush()
    session.add(BreakGlassReview(grant_id=grant_id, status="pending"))
    await session.commit()
