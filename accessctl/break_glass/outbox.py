"""The notification outbox: written in the transaction that makes the news, sent later, kept until sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.break_glass.models import BreakGlassGrant, OutboxNotification

GRANT_MADE = "break_glass.granted"
REVIEW_OVERDUE = "break_glass.review_overdue"


def grant_summary(grant: BreakGlassGrant) -> dict[str, Any]:
    """What a notification says about a grant: who, where, why (the code), when; no patient, no free text."""
    return {
        "grant_id": grant.id,
        "user": grant.user_id,
        "unit": grant.unit_id,
        "organisation": grant.organisation_id,
        "role": grant.role_id,
        "reason_code": grant.reason_code,
        "granted_at": grant.granted_at.isoformat(),
        "expires_at": grant.expires_at.isoformat(),
    }


def enqueue(session: AsyncSession, kind: str, payload: dict[str, Any], now: datetime) -> OutboxNotification:
    """Queue a notification in the caller's transaction: it exists exactly when the news does."""
    row = OutboxNotification(kind=kind, payload=payload, created_at=now, next_attempt_at=now, attempts=0)
    session.add(row)
    return row
