"""Manual role grants in two steps: one person asks, a second approves, and only then does the role count.

The approver is whoever approves (over HTTP, their token's subject), so nobody can name an approver who never
agreed. The asker, the approver and the user are three different people, compared as user ids are compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.sink import AuditSink
from accessctl.auth.people import same_person
from accessctl.db import serialise, utcnow
from accessctl.engine.types import CompiledPolicy
from accessctl.errors import Conflict, NotFound, SelfApproval
from accessctl.policies.audit_hook import record_policy_change
from accessctl.policies.manual_assignments import ManualGrant, checked_grant, grant
from accessctl.policies.models import RoleAssignment, RoleGrantRequest


@dataclass(frozen=True, slots=True)
class GrantAsked:
    """Who should get which role where, from when until when."""

    user: str
    role: str
    unit: str
    valid_from: datetime
    valid_to: datetime


async def ask_grant(
    session: AsyncSession,
    asked: GrantAsked,
    *,
    requested_by: str,
    policy: CompiledPolicy,
    audit: AuditSink | None = None,
) -> RoleGrantRequest:
    """Store a pending grant request; checked now as the grant will be, so a bad one is refused at once."""
    if same_person(asked.user, requested_by):
        raise SelfApproval("nobody may ask for a role for themselves", field="user")
    valid_from, valid_to = await checked_grant(
        session, policy, user=asked.user, role=asked.role, unit=asked.unit, window=(asked.valid_from, asked.valid_to)
    )
    row = RoleGrantRequest(
        user_id=asked.user,
        role_id=asked.role,
        unit_id=asked.unit,
        valid_from=valid_from,
        valid_to=valid_to,
        requested_by=requested_by,
        status="pending",
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    detail = {
        "change": "requested",
        "request_id": row.id,
        "user": row.user_id,
        "role": row.role_id,
        "unit": row.unit_id,
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat(),
    }
    await record_policy_change(
        audit, actions.ASSIGNMENT_CHANGED, actor=requested_by, policy_version=policy.version, detail=detail
    )
    return row


async def approve_grant(
    session: AsyncSession, request_id: int, *, approver: str, policy: CompiledPolicy, audit: AuditSink | None = None
) -> RoleAssignment:
    """Grant what a pending request asks for, with `approver` as its approver; 409 for the asker or the user."""
    # Two approvals at once would both find the request pending and grant the role twice.
    await serialise(session, f"role_grant_requests:{request_id}")
    row = await session.get(RoleGrantRequest, request_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no role grant request {request_id}", field="id")
    if row.status != "pending":
        raise Conflict(f"role grant request {request_id} is {row.status}", field="id")
    spec = ManualGrant(row.user_id, row.role_id, row.unit_id, row.valid_from, row.valid_to, approver)
    assignment = await grant(session, spec, granted_by=row.requested_by, policy=policy, audit=audit)
    row.status, row.approved_by, row.approved_at = "approved", approver, utcnow()
    await session.flush()
    return assignment


async def pending_requests(session: AsyncSession, *, limit: int = 100) -> list[RoleGrantRequest]:
    """Requests waiting for an approver, oldest first."""
    query = select(RoleGrantRequest).where(RoleGrantRequest.status == "pending").order_by(RoleGrantRequest.id)
    return list(await session.scalars(query.limit(limit)))
