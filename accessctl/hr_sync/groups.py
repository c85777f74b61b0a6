"""Groups are units, read-only: each with the users employed in it now. The org feed, not SCIM, owns units."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Employment, Unit, User
from accessctl.hr_sync.errors import InvalidFilter, ResourceNotFound
from accessctl.hr_sync.filters import And, Compare, Filter, Not, Or, Present
from accessctl.hr_sync.schemas import GROUP


@dataclass(frozen=True, slots=True)
class UnitGroup:
    id: str
    name: str
    updated_at: datetime
    members: tuple[tuple[str, str], ...]  # (user id, display name)


def _condition(node: Filter) -> ColumnElement[bool]:
    if isinstance(node, And):
        return and_(_condition(node.left), _condition(node.right))
    if isinstance(node, Or):
        return or_(_condition(node.left), _condition(node.right))
    if isinstance(node, Not):
        return not_(_condition(node.inner))
    columns = {"displayname": func.lower(Unit.name), "id": Unit.id}
    column = columns.get(node.attr.lower())
    if column is None or not isinstance(node, Compare | Present):
        raise InvalidFilter("Groups filter on id and displayName only", field="filter")
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


async def search_groups(
    session: AsyncSession, now: datetime, *, where: Filter | None, start_index: int, count: int
) -> tuple[int, list[UnitGroup]]:
    condition = _condition(where) if where is not None else true()
    total = int(await session.scalar(select(func.count()).select_from(Unit).where(condition)) or 0)
    units = list(
        await session.scalars(select(Unit).where(condition).order_by(Unit.id).offset(start_index - 1).limit(count))
    )
    members = await _members(session, [u.id for u in units], now) if units else {}
    return total, [UnitGroup(u.id, u.name, u.updated_at, tuple(members.get(u.id, []))) for u in units]


async def get_group(session: AsyncSession, unit_id: str, now: datetime) -> UnitGroup:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise ResourceNotFound(f"no group {unit_id}", field="id")
    members = await _members(session, [unit.id], now)
    return UnitGroup(unit.id, unit.name, unit.updated_at, tuple(members.get(unit.id, [])))


def group_to_scim(group: UnitGroup, base_url: str) -> dict[str, Any]:
    """The SCIM Group for a unit; members point at their /Users resource."""
    body: dict[str, Any] = {"schemas": [GROUP], "id": group.id, "displayName": group.name}
    if group.members:
        body["members"] = [
            {"value": user_id, "$ref": f"{base_url}/Users/{user_id}", "display": display, "type": "User"}
            for user_id, display in group.members
        ]
    body["meta"] = {
        "resourceType": "Group",
        "lastModified": group.updated_at.isoformat().replace("+00:00", "Z"),
        "location": f"{base_url}/Groups/{group.id}",
    }
    return body
