"""Groups are units: read with the users employed in them now, and written through the org tree's checks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent
from accessctl.audit.sink import AuditSink
from accessctl.db import utcnow
from accessctl.directory.models import Employment, Organisation, Unit, UnitService, User
from accessctl.errors import InvalidInput, NotFound
from accessctl.hr_sync.errors import InvalidFilter, InvalidValue, ResourceNotFound, UniquenessViolation, VersionMismatch
from accessctl.hr_sync.filters import And, Compare, Filter, Not, Or, Present
from accessctl.hr_sync.hooks import AssignmentRecompute
from accessctl.hr_sync.mapping import (
    UNIT_KIND,
    UNIT_ORGANISATION,
    UNIT_PARENT,
    UNIT_SERVICES,
    group_from_scim,
    group_to_scim,
)
from accessctl.hr_sync.org_tree import UnitRecord, employed_in, put_unit, remove_unit
from accessctl.hr_sync.patch import GROUP_PATCH, apply_patch
from accessctl.hr_sync.records import UnitGroup

GroupOperation = Literal["create", "replace", "patch", "delete"]
# What a Group write can change, named in its audit event.
_AUDITED = ("name", "organisation", "parent", "kind", "services")
# The org tree names a unit's own fields; SCIM callers know them by these attributes.
_SCIM_FIELDS = {
    "id": "externalId",
    "name": "displayName",
    "org_number": UNIT_ORGANISATION,
    "parent": UNIT_PARENT,
    "kind": UNIT_KIND,
    "services": UNIT_SERVICES,
}


def _condition(node: Filter) -> ColumnElement[bool]:
    if isinstance(node, And):
        return and_(_condition(node.left), _condition(node.right))
    if isinstance(node, Or):
        return or_(_condition(node.left), _condition(node.right))
    if isinstance(node, Not):
        return not_(_condition(node.inner))
    columns = {"displayname": func.lower(Unit.name), "id": Unit.id, "externalid": Unit.id}
    column = columns.get(node.attr.lower())
    if column is None or not isinstance(node, Compare | Present):
        raise InvalidFilter("Groups filter on id, externalId and displayName only", field="filter")
    if isinstance(node, Present):
        return true()
    if not isinstance(node.value, str) or node.op not in {"eq", "ne", "co", "sw", "ew"}:
        raise InvalidFilter("Groups compare strings with eq, ne, co, sw or ew", field="filter")
    value = node.value.lower() if node.attr.lower() == "displayname" else node.value
    ops = {
        "eq": column == value,
        "ne": column != value,
        "co": column.contains(value, autoescape=True),
        "sw": column.startswith(value, autoescape=True),
        "ew": column.endswith(value, autoescape=True),
    }
    return ops[node.op]


async def _members(session: AsyncSession, unit_ids: list[str], now: datetime) -> dict[str, list[tuple[str, str]]]:
    rows = await session.execute(
        select(Employment.unit_id, User.id, User.given_name, User.family_name)
        .join(User, User.id == Employment.user_id)
        .where(
            Employment.unit_id.in_(unit_ids),
            Employment.valid_from <= now,
            or_(Employment.valid_to.is_(None), Employment.valid_to > now),
            User.status == "active",
        )
        .distinct()
        .order_by(User.id)
    )
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for unit_id, user_id, given, family in rows:
        members[unit_id].append((user_id, f"{given} {family}"))
    return members


async def _groups(session: AsyncSession, units: list[Unit], now: datetime) -> list[UnitGroup]:
    """The units as Groups: with their organisation's number, their services and their members now."""
    if not units:
        return []
    ids = [u.id for u in units]
    numbers = dict(
        (await session.execute(select(Organisation.id, Organisation.org_number).where(
            Organisation.id.in_({u.organisation_id for u in units})
        ))).tuples().all()
    )  # fmt: skip
    services: dict[str, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(UnitService.unit_id, UnitService.service_id)
        .where(UnitService.unit_id.in_(ids))
        .order_by(UnitService.service_id)
    )
    for unit_id, service_id in rows:
        services[unit_id].append(service_id)
    members = await _members(session, ids, now)
    return [
        UnitGroup(
            id=u.id,
            name=u.name,
            organisation=numbers[u.organisation_id],
            parent=u.parent_id,
            kind=u.kind,
            services=tuple(services.get(u.id, [])),
            updated_at=u.updated_at,
            members=tuple(members.get(u.id, [])),
        )
        for u in units
    ]


async def search_groups(
    session: AsyncSession, now: datetime, *, where: Filter | None, start_index: int, count: int
) -> tuple[int, list[UnitGroup]]:
    condition = _condition(where) if where is not None else true()
    total = int(await session.scalar(select(func.count()).select_from(Unit).where(condition)) or 0)
    units = list(
        await session.scalars(select(Unit).where(condition).order_by(Unit.id).offset(start_index - 1).limit(count))
    )
    return total, await _groups(session, units, now)


async def get_group(session: AsyncSession, unit_id: str, now: datetime, *, for_update: bool = False) -> UnitGroup:
    query = select(Unit).where(Unit.id == unit_id)
    unit = await session.scalar(query.with_for_update() if for_update else query)
    if unit is None:
        raise ResourceNotFound(f"no group {unit_id}", field="id")
    return (await _groups(session, [unit], now))[0]


class HrGroupService:
    """SCIM's writes to units: `create`, `replace`, `patch`, `delete`, each in the caller's transaction.

    The org tree's checks and writer do the work (one path for units, whichever door); this adds SCIM's rules
    (externalId and organisation immutable, ETags), re-derives roles when services change, and audits.
    """

    def __init__(self, session: AsyncSession, *, recompute: AssignmentRecompute, audit: AuditSink, actor: str) -> None:
        self.session = session
        self.recompute = recompute
        self.audit = audit
        self.actor = actor

    async def create(self, body: Any) -> UnitGroup:
        """A new unit; its externalId becomes the unit id (and the Group's id)."""
        organisation, record = group_from_scim(body)
        taken = UniquenessViolation(f"externalId {record.id!r}: a unit with this id exists", field="externalId")
        if await self.session.get(Unit, record.id) is not None:
            raise taken
        try:
            return await self._write(organisation, record, "create", None)
        except IntegrityError:  # created by a concurrent request since the check above
            raise taken from None

    async def replace(self, group_id: str, body: Any, if_match: int | None) -> UnitGroup:
        current = await self._current(group_id, if_match)
        organisation, record = group_from_scim(body, current)
        return await self._write(organisation, record, "replace", current)

    async def patch(self, group_id: str, body: Any, if_match: int | None) -> UnitGroup:
        """Operations applied to the current representation, then written like a PUT; all or none."""
        current = await self._current(group_id, if_match)
        organisation, record = group_from_scim(apply_patch(group_to_scim(current, ""), body, GROUP_PATCH), current)
        return await self._write(organisation, record, "patch", current)

    async def delete(self, group_id: str, if_match: int | None) -> None:
        """Remove the unit when nothing refers to it; otherwise 409 saying what does."""
        current = await self._current(group_id, if_match)
        await remove_unit(self.session, group_id)
        await self._audit("delete", current, None)

    async def _current(self, group_id: str, if_match: int | None) -> UnitGroup:
        current = await get_group(self.session, group_id, utcnow(), for_update=True)
        if if_match is not None and if_match != current.version:
            raise VersionMismatch(
                f"the group is at version {current.version}, not {if_match}; read it again", field="If-Match"
            )
        return current

    async def _write(
        self, organisation: str, record: UnitRecord, operation: GroupOperation, before: UnitGroup | None
    ) -> UnitGroup:
        try:
            result = await put_unit(self.session, organisation, record)
        except (InvalidInput, NotFound) as exc:
            raise InvalidValue(exc.message, field=_SCIM_FIELDS.get(exc.field or "", exc.field)) from None
        # Role documents assign roles by the services a unit provides: its staff are derived again.
        for user_id in await employed_in(self.session, result.service_changes):
            await self.recompute(self.session, user_id)
        after = await get_group(self.session, record.id, utcnow())
        await self._audit(operation, before, after)
        return after

    async def _audit(self, operation: GroupOperation, before: UnitGroup | None, after: UnitGroup | None) -> None:
        shown = after or before
        assert shown is not None
        old, new = _fields(before), _fields(after)
        detail = {
            "operation": operation,
            "unit": shown.id,
            "organisation": shown.organisation,
            "changes": {name: [old.get(name), new.get(name)] for name in _AUDITED if old.get(name) != new.get(name)},
        }
        await self.audit.record(
            AuditEvent(
                action=actions.HR_UNIT_CHANGED,
                occurred_at=utcnow(),
                user_id=self.actor,
                resource_type="Unit",
                resource_id=shown.id,
                detail=detail,
            )
        )


def _fields(group: UnitGroup | None) -> dict[str, Any]:
    """What a write can change, as JSON, for the audit detail."""
    if group is None:
        return {}
    kept = asdict(group)
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in kept.items() if name in _AUDITED
    }
