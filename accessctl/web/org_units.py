"""PUT /v1/org/units (scope hr:write): an organisation's whole unit tree, idempotent, checked before any write."""

from __future__ import annotations

import msgspec
from litestar import Controller, put
from litestar.datastructures import State
from litestar.params import JSONBody
from sqlalchemy import select

from accessctl.directory.models import Employment
from accessctl.hr_sync.org_tree import UnitRecord, put_unit_tree
from accessctl.pdp.policy_source import active_policy
from accessctl.policies.assignment_sync import recompute_user
from accessctl.web.auth import requires
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession


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
    tags = ["hr"]

    @put("/units")
    async def put_units(self, db_session: DbSession, state: State, data: JSONBody[UnitTreeIn]) -> UnitTreeOut:
        """Make the organisation's units exactly these; refuses cycles, unknown parents and bad numbers by name."""
        result = await put_unit_tree(db_session, data.org_number, [unit.record() for unit in data.units])
        if result.service_changes:
            # Services decide which roles a position gets: the users employed there are derived again.
            policy = await active_policy(db_session, fallback_dir=state.settings.policies_dir)
            users = await db_session.scalars(
                select(Employment.user_id).where(Employment.unit_id.in_(result.service_changes)).distinct()
            )
            for user_id in list(users):
                await recompute_user(db_session, policy, user_id)
        await committed(db_session, state)
        return UnitTreeOut(result.organisation_id, result.created, result.updated, result.removed, result.unchanged)
