"""Units, written whole per organisation or one at a time: checked first (cycles, parents, numbers), then written.

`PUT /v1/org/units` and the LDAP pull put an organisation's whole tree; SCIM Groups put or remove one unit. Both go
through the same checks and the same writer, so a unit is the same whichever door it came in by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent
from accessctl.break_glass.models import BreakGlassGrant
from accessctl.changes import log_change
from accessctl.context.models import CareRelation, PatientBlock
from accessctl.db import utcnow
from accessctl.directory.models import Employment, Organisation, Service, Unit, UnitService
from accessctl.errors import Conflict, InvalidInput, NotFound
from accessctl.identifiers import is_valid_org_number
from accessctl.policies.models import RoleAssignment

# Where a problem with the unit at `index` is reported: `units[3].parent` in a tree.
FieldAt = Callable[[int, str], str]
_LENGTHS = {"id": 64, "name": 200, "kind": 32}


def in_tree(index: int, attr: str) -> str:
    return f"units[{index}].{attr}"


def on_the_unit(_index: int, attr: str) -> str:
    """One unit put alone: its own attribute, with no index."""
    return attr


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """One unit as the org feed sends it; `kind` or `services` None keeps what the unit has (new: a department)."""

    id: str
    name: str
    parent: str | None = None
    kind: str | None = None
    services: tuple[str, ...] | None = None


@dataclass
class TreeResult:
    """What putting a tree changed; `service_changes` lists units whose services changed (roles may follow)."""

    organisation_id: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    service_changes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
        }


def _check_fields(index: int, unit: UnitRecord, at: FieldAt) -> None:
    if not unit.id.strip():
        raise InvalidInput(f"units[{index}]: id is required", field=at(index, "id"))
    if not unit.name.strip():
        raise InvalidInput(f"unit {unit.id}: name is required", field=at(index, "name"))
    for attr, longest in _LENGTHS.items():
        value = getattr(unit, attr)
        if value is not None and len(value) > longest:
            raise InvalidInput(
                f"unit {unit.id[:64]}: {attr} is longer than {longest} characters", field=at(index, attr)
            )
        if value is not None and "\x00" in value:  # PostgreSQL's text holds no NUL
            raise InvalidInput(f"unit {unit.id[:64]!r}: {attr} contains a NUL character", field=at(index, attr))
    if unit.parent is not None and "\x00" in unit.parent:
        raise InvalidInput(f"unit {unit.id[:64]!r}: parent contains a NUL character", field=at(index, "parent"))
    if any("\x00" in service for service in unit.services or ()):
        raise InvalidInput(f"unit {unit.id[:64]!r}: a service contains a NUL character", field=at(index, "services"))


def tree_order(units: Sequence[UnitRecord], at: FieldAt = in_tree) -> list[UnitRecord]:
    """The units parents first; refuses duplicates, unknown parents and cycles, naming the unit."""
    by_id: dict[str, UnitRecord] = {}
    for index, unit in enumerate(units):
        _check_fields(index, unit, at)
        if unit.id in by_id:
            raise InvalidInput(f"unit {unit.id} appears twice in the tree", field=at(index, "id"))
        by_id[unit.id] = unit
    for index, unit in enumerate(units):
        if unit.parent is not None and unit.parent not in by_id:
            raise InvalidInput(
                f"unit {unit.id}: parent {unit.parent} is not a unit of the organisation's tree",
                field=at(index, "parent"),
            )
    depth: dict[str, int] = {}
    for unit in units:
        path: list[str] = []
        current: str | None = unit.id
        while current is not None and current not in depth:
            if current in path:
                cycle = " -> ".join([*path[path.index(current) :], current])
                raise InvalidInput(f"unit {current}: the tree has a cycle ({cycle})", field="parent")
            path.append(current)
            current = by_id[current].parent
        base = -1 if current is None else depth[current]
        for offset, unit_id in enumerate(reversed(path), start=1):
            depth[unit_id] = base + offset
    return sorted(units, key=lambda u: depth[u.id])


async def organisation_by_number(session: AsyncSession, org_number: str) -> Organisation:
    """The organisation with this number; refuses an invalid number and names an unknown one."""
    if not is_valid_org_number(org_number):
        raise InvalidInput(f"organisation number {org_number!r} is not valid (9 digits, mod-11)", field="org_number")
    organisation = await session.scalar(select(Organisation).where(Organisation.org_number == org_number))
    if organisation is None:
        raise NotFound(f"no organisation with number {org_number}", field="org_number")
    return organisation


async def put_unit_tree(session: AsyncSession, org_number: str, units: Sequence[UnitRecord]) -> TreeResult:
    """Make the organisation's units exactly `units` (idempotent); nothing is written when any check fails.

    A unit left out is removed only when nothing refers to it (employments, assignments, context); otherwise the
    whole put is refused, naming that unit and what refers to it.
    """
    organisation = await organisation_by_number(session, org_number)
    ordered = tree_order(units)
    stored = await _owned(session, organisation.id, [u.id for u in units])
    await _check_services(session, units, in_tree)
    result = TreeResult(organisation.id)
    for unit in ordered:
        await _put_unit(session, organisation.id, unit, stored.get(unit.id), result)
    await _remove_left_out(session, organisation.id, {u.id for u in units}, result)
    return result


async def put_unit(session: AsyncSession, org_number: str, unit: UnitRecord) -> TreeResult:
    """Create or change one unit, checked as part of its organisation's tree; problems name the unit's own field."""
    organisation = await organisation_by_number(session, org_number)
    rows = await session.scalars(select(Unit).where(Unit.organisation_id == organisation.id))
    tree = [UnitRecord(u.id, u.name, u.parent_id) for u in rows if u.id != unit.id]
    tree_order([*tree, unit], on_the_unit)
    stored = await _owned(session, organisation.id, [unit.id])
    await _check_services(session, [unit], on_the_unit)
    result = TreeResult(organisation.id)
    await _put_unit(session, organisation.id, unit, stored.get(unit.id), result)
    return result


async def remove_unit(session: AsyncSession, unit_id: str) -> None:
    """Remove one unit that nothing refers to; otherwise refuse, saying what still refers to it."""
    in_use = await unit_dependents(session, unit_id)
    if in_use:
        raise Conflict(
            f"unit {unit_id} is still referred to by {', '.join(in_use)}; "
            "a unit is removed only when nothing refers to it",
            field="id",
        )
    await session.execute(delete(UnitService).where(UnitService.unit_id == unit_id))
    await session.execute(delete(Unit).where(Unit.id == unit_id))
    await log_change(session, "unit", unit_id)


async def unit_dependents(session: AsyncSession, unit_id: str) -> list[str]:
    """What refers to the unit (every foreign key to units.id but its services), counted; empty when nothing does.

    Ended employments and assignments count too: they are the history of who worked where and what they could do.
    """
    now = utcnow()
    running = or_(Employment.valid_to.is_(None), Employment.valid_to > now)
    counted: list[tuple[str, type[object], ColumnElement[bool]]] = [
        ("child unit", Unit, Unit.parent_id == unit_id),
        ("current or future employment", Employment, (Employment.unit_id == unit_id) & running),
        ("ended employment", Employment, (Employment.unit_id == unit_id) & ~running),
        ("role assignment", RoleAssignment, RoleAssignment.unit_id == unit_id),
        ("care relation", CareRelation, CareRelation.unit_id == unit_id),
        ("patient block", PatientBlock, PatientBlock.unit_id == unit_id),
        ("break-the-glass grant", BreakGlassGrant, BreakGlassGrant.unit_id == unit_id),
    ]
    found = []
    for what, model, condition in counted:
        count = int(await session.scalar(select(func.count()).select_from(model).where(condition)) or 0)
        if count:
            found.append(f"{count} {what}{'' if count == 1 else 's'}")
    return found


async def employed_in(session: AsyncSession, unit_ids: Sequence[str]) -> list[str]:
    """Users with an employment (any time) in these units: whose role assignments follow the units' services."""
    if not unit_ids:
        return []
    rows = await session.scalars(select(Employment.user_id).where(Employment.unit_id.in_(unit_ids)).distinct())
    return sorted(rows)


def tree_changed_event(result: TreeResult, org_number: str, *, actor: str, at: datetime) -> AuditEvent | None:
    """The audit event of a tree put that changed something (None when it changed nothing)."""
    if not (result.created or result.updated or result.removed):
        return None
    return AuditEvent(
        action=actions.HR_ORG_TREE_CHANGED,
        occurred_at=at,
        user_id=actor,
        resource_type="Organisation",
        resource_id=result.organisation_id,
        detail={
            "organisation": org_number,
            **result.counts(),
            "units": {"created": result.created, "updated": result.updated, "removed": result.removed},
        },
    )


async def _owned(session: AsyncSession, organisation_id: str, unit_ids: Sequence[str]) -> dict[str, Unit]:
    """The stored units among `unit_ids`; refuses one that belongs to another organisation."""
    stored = {u.id: u for u in await session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    for unit in stored.values():
        if unit.organisation_id != organisation_id:
            raise Conflict(f"unit {unit.id} belongs to organisation {unit.organisation_id}", field="id")
    return stored


async def _check_services(session: AsyncSession, units: Sequence[UnitRecord], at: FieldAt) -> None:
    named = {s for u in units for s in (u.services or ())}
    known = set(await session.scalars(select(Service.id).where(Service.id.in_(named)))) if named else set()
    for index, unit in enumerate(units):
        for service_id in unit.services or ():
            if service_id not in known:
                raise InvalidInput(f"unit {unit.id}: no service {service_id!r}", field=at(index, "services"))


async def _put_unit(
    session: AsyncSession, organisation_id: str, unit: UnitRecord, row: Unit | None, result: TreeResult
) -> None:
    if row is None:
        kind = unit.kind or "department"
        row = Unit(id=unit.id, organisation_id=organisation_id, parent_id=unit.parent, name=unit.name, kind=kind)
        session.add(row)
        await session.flush()
        result.created.append(unit.id)
        changed = True
    else:
        wanted = (unit.parent, unit.name, unit.kind or row.kind)
        changed = (row.parent_id, row.name, row.kind) != wanted
        if changed:
            row.parent_id, row.name, row.kind = wanted
            await session.flush()
            result.updated.append(unit.id)
    if unit.services is not None:
        have = set(await session.scalars(select(UnitService.service_id).where(UnitService.unit_id == unit.id)))
        if have != set(unit.services):
            await session.execute(delete(UnitService).where(UnitService.unit_id == unit.id))
            session.add_all(UnitService(unit_id=unit.id, service_id=s) for s in sorted(set(unit.services)))
            row.updated_at = utcnow()  # the unit row itself may be unchanged; lastModified must still move
            await session.flush()
            result.service_changes.append(unit.id)
            if not changed and unit.id not in result.created:
                result.updated.append(unit.id)
            changed = True
    if changed:
        await log_change(session, "unit", unit.id)
    else:
        result.unchanged += 1


async def _remove_left_out(session: AsyncSession, organisation_id: str, kept: set[str], result: TreeResult) -> None:
    """Remove the organisation's units the tree leaves out, leaves first; a unit still referred to refuses all."""
    rows = list(await session.scalars(select(Unit).where(Unit.organisation_id == organisation_id)))
    gone = [u for u in rows if u.id not in kept]
    parents = {u.id: u.parent_id for u in rows}

    def depth(unit_id: str) -> int:
        steps, current = 0, parents.get(unit_id)
        while current is not None and steps <= len(parents):
            steps, current = steps + 1, parents.get(current)
        return steps

    for unit in sorted(gone, key=lambda u: -depth(u.id)):
        try:
            async with session.begin_nested():
                await remove_unit(session, unit.id)
        except Conflict as exc:
            raise Conflict(f"{exc.message} (it is left out of the tree)", field="units") from None
        except IntegrityError:
            raise Conflict(
                f"unit {unit.id} is left out of the tree but something still refers to it; move it first",
                field="units",
            ) from None
        result.removed.append(unit.id)
