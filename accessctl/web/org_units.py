"""PUT /v1/org/units (scope hr:write): an organisation's whole unit tree, idempotent, checked before any write."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, put
from litestar.datastructures import State
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.sink import AuditOutbox
from accessctl.db import utcnow
from accessctl.engine.types import CompiledPolicy
from accessctl.hr_sync.org_tree import UnitRecord, employed_in, put_unit_tree, tree_changed_event
from accessctl.pdp.policy_source import active_policy
from accessctl.policies.assignment_sync import recompute_user
from accessctl.web.auth import caller, requires
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession, writing_sessions


class AssignmentsFromPolicy:
    """Recomputes a user's hr role assignments under the active policy, loaded once per request when needed."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.policy: CompiledPolicy | None = None

    async def __call__(self, session: AsyncSession, user_id: str) -> bool:
        if self.policy is None:
            self.policy = await active_policy(session, fallback_dir=self.state.settings.policies_dir)
        return await recompute_user(session, self.policy, user_id)


class UnitIn(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    parent: str | None = None
    # Left out: the unit keeps its kind (a new unit is a department).
    kind: str | None = None
    # Left out: the unit keeps the services it provides; given: exactly these (catalogue ids).
    services: list[str] | None = None

    def record(self) -> UnitRecord:
        services = None if self.services is None else tuple(self.services)
        return UnitRecord(self.id, self.name, self.parent, self.kind, services)


class UnitTreeIn(msgspec.Struct, forbid_unknown_fields=True):
    org_number: str
    units: list[UnitIn]


class UnitTreeOut(msgspec.Struct):
    organisation: str
    created: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int


class OrgUnitController(Controller):
    path = "/v1/org"
    guards = [requires("hr:write")]
    dependencies = writing_sessions()
    tags = ["hr"]

    @put("/units")
    async def put_units(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, data: JSONBody[UnitTreeIn]
    ) -> UnitTreeOut:
        """Make the organisation's units exactly these; refuses cycles, unknown parents and bad numbers by name."""
        result = await put_unit_tree(db_session, data.org_number, [unit.record() for unit in data.units])
        # Services decide which roles a position gets: the users employed there are derived again.
        recompute = AssignmentsFromPolicy(state)
        for user_id in await employed_in(db_session, result.service_changes):
            await recompute(db_session, user_id)
        outbox = AuditOutbox()
        event = tree_changed_event(result, data.org_number, actor=caller(request), at=utcnow())
        if event is not None:
            await outbox.record(event)
        await committed(db_session, state, outbox)
        return UnitTreeOut(result.organisation_id, result.created, result.updated, result.removed, result.unchanged)
