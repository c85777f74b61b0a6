"""Role assignments over HTTP (scope policy:admin): list, grant by hand with an approver and an end date, revoke."""

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
from accessctl.policies import manual_assignments as service
from accessctl.policies.models import RoleAssignment
from accessctl.web.auth import caller
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession, writing_sessions
from accessctl.web.directory import Limit
from accessctl.web.pagination import DEFAULT_LIMIT, Page, check_limit, decode_cursor, encode_cursor
from accessctl.web.policies import ADMIN


class RoleAssignmentIn(msgspec.Struct):
    user: str
    role: str
    unit: str
    valid_from: datetime
    valid_to: datetime
    approver: str

    def spec(self) -> service.ManualGrant:
        return service.ManualGrant(self.user, self.role, self.unit, self.valid_from, self.valid_to, self.approver)


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
    guards = [ADMIN]
    tags = ["policies"]
    dependencies = writing_sessions()

    @get("/")
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

    @post("/", status_code=201)
    async def grant(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        state: State,
        data: JSONBody[RoleAssignmentIn],
    ) -> RoleAssignmentOut:
        """Grant a role by hand: the caller, the approver and the user are three people; it ends on valid_to."""
        outbox = AuditOutbox()
        policy = await active_policy(db_session, fallback_dir=state.settings.policies_dir)
        row = await service.grant(db_session, data.spec(), granted_by=caller(request), policy=policy, audit=outbox)
        body = RoleAssignmentOut.of(row)
        await committed(db_session, state, outbox)
        return body

    @delete("/{assignment_id:int}", status_code=204)
    async def revoke(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, assignment_id: FromPath[int]
    ) -> None:
        """Revoke a manual assignment; the next decision no longer sees it."""
        outbox = AuditOutbox()
        await service.revoke(db_session, assignment_id, actor=caller(request), audit=outbox)
        await committed(db_session, state, outbox)
