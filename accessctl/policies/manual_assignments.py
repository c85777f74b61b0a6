"""Role assignments granted by hand: always with an approver (a third person) and an end date.

Over HTTP a grant is asked for and approved in two steps (`grant_requests`); `grant` is the step that adds it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.sink import AuditSink
from accessctl.auth.people import same_person
from accessctl.changes import log_change
from accessctl.db import utcnow
from accessctl.directory.models import Unit, User
from accessctl.engine.types import CompiledPolicy
from accessctl.errors import Conflict, InvalidInput, NotFound, SelfApproval
from accessctl.moments import utc_moment
from accessctl.policies.assignment_sync import sync_roles
from accessctl.policies.audit_hook import record_policy_change
from accessctl.policies.models import Role, RoleAssignment


@dataclass(frozen=True, slots=True)
class ManualGrant:
    """Who gets which role where, until when, and who agreed to it."""

    user: str
    role: str
    unit: str
    valid_from: datetime
    valid_to: datetime
    approver: str


async def grant(
    session: AsyncSession, spec: ManualGrant, *, granted_by: str, policy: CompiledPolicy, audit: AuditSink | None = None
) -> RoleAssignment:
    """Add a manual assignment; the caller, the approver and the user must be three different people."""
    _check_people(spec, granted_by)
    valid_from, valid_to = await checked_grant(
        session, policy, user=spec.user, role=spec.role, unit=spec.unit, window=(spec.valid_from, spec.valid_to)
    )
    spec = replace(spec, valid_from=valid_from, valid_to=valid_to)
    if await session.get(Role, spec.role) is None:
        await sync_roles(session, policy)
    row = RoleAssignment(
        user_id=spec.user,
        role_id=spec.role,
        unit_id=spec.unit,
        valid_from=spec.valid_from,
        valid_to=spec.valid_to,
        source="manual",
        approver=spec.approver,
        granted_by=granted_by,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    await log_change(session, "user", spec.user)
    await _audit(audit, row, granted_by, "granted", policy.version)
    return row


async def checked_grant(
    session: AsyncSession,
    policy: CompiledPolicy,
    *,
    user: str,
    role: str,
    unit: str,
    window: tuple[datetime, datetime],
) -> tuple[datetime, datetime]:
    """The window in UTC, once the user, the unit and the active policy's role exist and the window is one a manual
    grant may have (ending after it starts, and in the future); a 400 naming the field otherwise."""
    valid_from, valid_to = utc_moment(window[0], "valid_from"), utc_moment(window[1], "valid_to")
    if valid_to <= valid_from:
        raise InvalidInput("valid_to must be after valid_from", field="valid_to")
    if valid_to <= utcnow():
        raise InvalidInput("valid_to must be in the future", field="valid_to")
    if role not in policy.roles:
        raise InvalidInput(f"role {role!r} is not in the active policy {policy.version}", field="role")
    if await session.get(User, user) is None:
        raise InvalidInput(f"no user {user!r}", field="user")
    if await session.get(Unit, unit) is None:
        raise InvalidInput(f"no unit {unit!r}", field="unit")
    return valid_from, valid_to


async def revoke(session: AsyncSession, assignment_id: int, *, actor: str, audit: AuditSink | None = None) -> None:
    """Remove a manual assignment at once; hr assignments follow employments and cannot be removed by hand."""
    row = await session.get(RoleAssignment, assignment_id)
    if row is None:
        raise NotFound(f"no role assignment {assignment_id}", field="id")
    if row.source != "manual":
        raise Conflict("an hr role assignment follows the employments; change the employment instead", field="id")
    await session.delete(row)
    await session.flush()
    await log_change(session, "user", row.user_id)
    await _audit(audit, row, actor, "revoked", None)


async def assignments(
    session: AsyncSession,
    *,
    user: str | None = None,
    unit: str | None = None,
    role: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> list[RoleAssignment]:
    """Assignments (hr and manual) matching the filters, ordered by id, after the cursor's id."""
    query = select(RoleAssignment).order_by(RoleAssignment.id).limit(limit)
    if user is not None:
        query = query.where(RoleAssignment.user_id == user)
    if unit is not None:
        query = query.where(RoleAssignment.unit_id == unit)
    if role is not None:
        query = query.where(RoleAssignment.role_id == role)
    if after is not None:
        query = query.where(RoleAssignment.id > after)
    return list(await session.scalars(query))


def _check_people(spec: ManualGrant, granted_by: str) -> None:
    if not spec.approver.strip():
        raise InvalidInput("approver is required", field="approver")
    if same_person(spec.approver, granted_by):
        raise SelfApproval(
            "the approver must be someone other than the person who asked for the grant", field="approver"
        )
    if same_person(spec.user, granted_by):
        raise SelfApproval("nobody may grant a role to themselves", field="user")
    if same_person(spec.user, spec.approver):
        raise SelfApproval("nobody may approve a role for themselves", field="approver")


async def _audit(audit: AuditSink | None, row: RoleAssignment, actor: str, change: str, version: str | None) -> None:
    detail = {
        "change": change,
        "assignment_id": row.id,
        "user": row.user_id,
        "role": row.role_id,
        "unit": row.unit_id,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat() if row.valid_to else None,
        "approver": row.approver,
    }
    await record_policy_change(audit, actions.ASSIGNMENT_CHANGED, actor=actor, policy_version=version, detail=detail)
