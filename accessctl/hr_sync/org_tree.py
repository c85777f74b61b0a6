"""An organisation's whole unit tree, put at once: checked first (cycles, parents, numbers), then written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.changes import log_change
from accessctl.directory.models import Organisation, Service, Unit, UnitService
from accessctl.errors import Conflict, InvalidInput, NotFound
from accessctl.identifiers import is_valid_org_number


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


def tree_order(units: Sequence[UnitRecord]) -> list[UnitRecord]:
    """The units parents first; refuses duplicates, unknown parents and cycles, naming the unit."""
    by_id: dict[str, UnitRecord] = {}
    for index, unit in enumerate(units):
        if not unit.id.strip():
            raise InvalidInput(f"units[{index}]: id is required", field=f"units[{index}].id")
        if not unit.name.strip():
            raise InvalidInput(f"unit {unit.id}: name is required", field=f"units[{index}].name")
        if unit.id in by_id:
            raise InvalidInput(f"unit {unit.id} appears twice in the tree", field=f"units[{index}].id")
        by_id[unit.id] = unit
    for index, unit in enumerate(units):
        if unit.parent is not None and unit.parent not in by_id:
            raise InvalidInput(
                f"unit {unit.id}: parent {unit.parent} is not a unit of this tree", field=f"units[{index}].parent"
            )
    ordered: list[UnitRecord] = []
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
    ordered = sorted(units, key=lambda u: depth[u.id])
    return ordered


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
    whole put is refused, naming that unit.
    """
    organisation = await organisation_by_number(session, org_number)
    ordered = tree_order(units)
    result = TreeResult(organisation.id)
    stored = {u.id: u for u in await session.scalars(select(Unit).where(Unit.id.in_([u.id for u in units])))}
    for unit in ordered:
        elsewhere = stored.get(unit.id)
        if elsewhere is not None and elsewhere.organisation_id != organisation.id:
            raise Conflict(f"unit {unit.id} belongs to organisation {elsewhere.organisation_id}", field="id")
    await _check_services(session, units)
    for unit in ordered:
        await _put_unit(session, organisation.id, unit, stored.get(unit.id), result)
    await _remove_left_out(session, organisation.id, {u.id for u in units}, result)
    return result


async def _check_services(session: AsyncSession, units: Sequence[UnitRecord]) -> None:
    named = {s for u in units for s in (u.services or ())}
    known = set(await session.scalars(select(Service.id).where(Service.id.in_(named)))) if named else set()
    for index, unit in enumerate(units):
        for service_id in unit.services or ():
            if service_id not in known:
                raise InvalidInput(f"unit {unit.id}: no service {service_id!r}", field=f"units[{index}].services")


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
                await session.execute(delete(UnitService).where(UnitService.unit_id == unit.id))
                await session.execute(delete(Unit).where(Unit.id == unit.id))
        except IntegrityError:
            raise Conflict(
                f"unit {unit.id} is left out of the tree but employments, assignments or patient context still "
                "refer to it; move them first",
                field="units",
            ) from None
        result.removed.append(unit.id)
