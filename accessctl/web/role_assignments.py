"""Role assignments over HTTP: list and revoke (policy:admin); a grant by hand is asked for (policy:admin) and
approved by a second person (policy:approve), the approver being the approving token's subject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody

from accessctl.audit.sink import AuditOutbox
from accessctl.errors import InvalidInput
from accessctl.pdp.policy_source import active_policy
from accessctl.policies import grant_requests as requests
from accessctl.policies import manual_assignments as service
from accessctl.policies.models import RoleAssignment, RoleGrantRequest
from accessctl.web.auth import caller
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession, writing_sessions
from accessctl.web.directory import Limit
from accessctl.web.pagination import DEFAULT_LIMIT, Page, check_limit, decode_cursor, encode_cursor
from accessctl.web.policies import ADMIN, APPROVER, READERS


class RoleAssignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    user: str
    role: str
    unit: str
    valid_from: datetime
    valid_to: datetime

    def asked(self) -> requests.GrantAsked:
        return requests.GrantAsked(self.user, self.role, self.unit, self.valid_from, self.valid_to)


class GrantRequestOut(msgspec.Struct):
    id: int
    user: str
    role: str
    unit: str
    valid_from: datetime
    valid_to: datetime
    status: str
    requested_by: str
    approved_by: str | None

    @classmethod
    def of(cls, row: RoleGrantRequest) -> GrantRequestOut:
        return cls(
            row.id,
            row.user_id,
            row.role_id,
            row.unit_id,
            row.valid_from,
            row.valid_to,
            row.status,
            row.requested_by,
            row.approved_by,
        )


class GrantRequestList(msgspec.Struct):
    items: list[GrantRequestOut]


class RoleAssignmentOut(msgspec.Struct):
    id: int
    user: str
    role: str
    unit: str
    valid_from: datetime
    valid_to: datetime | None
    source: str
    approver: str | None
    granted_by: str | None

    @classmethod
    def of(cls, row: RoleAssignment) -> RoleAssignmentOut:
        return cls(
            row.id,
            row.user_id,
            row.role_id,
            row.unit_id,
            row.valid_from,
            row.valid_to,
            row.source,
            row.approver,
            row.granted_by,
        )


def _after(cursor: str | None) -> int | None:
    position = decode_cursor(cursor)
    if position is not None and not isinstance(position, int):
        raise InvalidInput("cursor is not one this service issued", field="cursor")
    return position


class RoleAssignmentController(Controller):
    path = "/v1/role-assignments"
    tags = ["policies"]
    dependencies = writing_sessions()

    @get("/", guards=[ADMIN])
    async def list_assignments(
        self,
        db_session: DbSession,
        user: FromQuery[str | None] = None,
        unit: FromQuery[str | None] = None,
        role: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[RoleAssignmentOut]:
        """Assignments, hr and manual, ordered by id."""
        rows = await service.assignments(
            db_session, user=user, unit=unit, role=role, after=_after(cursor), limit=check_limit(limit) + 1
        )
        items = [RoleAssignmentOut.of(row) for row in rows]
        more = len(items) > limit
        items = items[:limit]
        return Page(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)

    @post("/", guards=[ADMIN], status_code=201)
    async def ask(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        state: State,
        data: JSONBody[RoleAssignmentIn],
    ) -> GrantRequestOut:
        """Ask for a role by hand, with an end date; it counts once a second person approves it."""
        outbox = AuditOutbox()
        policy = await active_policy(db_session, fallback_dir=state.settings.policies_dir)
        row = await requests.ask_grant(
            db_session, data.asked(), requested_by=caller(request), policy=policy, audit=outbox
        )
        body = GrantRequestOut.of(row)
        await committed(db_session, state, outbox)
        return body

    @get("/requests", guards=[READERS])
    async def pending(self, db_session: DbSession) -> GrantRequestList:
        """Grant requests waiting for an approver, oldest first."""
        return GrantRequestList([GrantRequestOut.of(row) for row in await requests.pending_requests(db_session)])

    @post("/requests/{request_id:int}/approve", guards=[APPROVER], status_code=201)
    async def approve(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, request_id: FromPath[int]
    ) -> RoleAssignmentOut:
        """Approve a grant request: the caller is the approver, neither the asker nor the user; effective at once."""
        outbox = AuditOutbox()
        policy = await active_policy(db_session, fallback_dir=state.settings.policies_dir)
        row = await requests.approve_grant(
            db_session, request_id, approver=caller(request), policy=policy, audit=outbox
        )
        body = RoleAssignmentOut.of(row)
        await committed(db_session, state, outbox)
        return body

    @delete("/{assignment_id:int}", guards=[ADMIN], status_code=204)
    async def revoke(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, assignment_id: FromPath[int]
    ) -> None:
        """Revoke a manual assignment; the next decision no longer sees it."""
        outbox = AuditOutbox()
        await service.revoke(db_session, assignment_id, actor=caller(request), audit=outbox)
        await committed(db_session, state, outbox)
