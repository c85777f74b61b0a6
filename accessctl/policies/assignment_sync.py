"""Keeps the `hr` role assignments equal to what a policy derives from employments; `manual` rows are never touched.

The whole region is recomputed in a few set-based statements: load every employment and hr row once, derive in
memory, then delete and insert only the rows that differ. Engines learn of it from the change log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.changes import log_change
from accessctl.db import utcnow
from accessctl.directory.models import Employment, Unit, UnitService
from accessctl.engine.types import AssignmentFacts, CompiledPolicy, EmploymentFacts, UnitFacts
from accessctl.policies.assignments import derive_assignments
from accessctl.policies.models import Role, RoleAssignment

# (role, unit, valid_from, valid_to): one hr row, as compared between what is stored and what is derived.
_Row = tuple[str, str, datetime, datetime | None]
_BATCH = 5000
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a recompute changed."""

    users_changed: int
    rows_added: int
    rows_removed: int


async def sync_roles(session: AsyncSession, policy: CompiledPolicy) -> None:
    """Make every role of the policy a row of `roles` (assignments refer to it); roles that left stay, unused."""
    existing = set(await session.scalars(select(Role.id)))
    for role in policy.roles.values():
        values = {"name": role.name, "may_break_glass": role.break_glass, "updated_at": utcnow()}
        if role.id in existing:
            await session.execute(update(Role).where(Role.id == role.id).values(**values))
        else:
            await session.execute(insert(Role).values(id=role.id, description="", **values))


async def unit_facts(session: AsyncSession, unit_ids: Collection[str] | None = None) -> dict[str, UnitFacts]:
    """Units (every one, or those named) with the services they provide: what position rules match on."""
    query = select(Unit.id, Unit.organisation_id, Unit.parent_id, UnitService.service_id).outerjoin(
        UnitService, UnitService.unit_id == Unit.id
    )
    if unit_ids is not None:
        query = query.where(Unit.id.in_(unit_ids))
    places: dict[str, tuple[str, str | None]] = {}
    services: dict[str, set[str]] = defaultdict(set)
    for unit_id, org_id, parent_id, service_id in await session.execute(query):
        places[unit_id] = (org_id, parent_id)
        if service_id is not None:
            services[unit_id].add(service_id)
    return {
        unit_id: UnitFacts(unit_id, org_id, parent_id, frozenset(services.get(unit_id, ())))
        for unit_id, (org_id, parent_id) in places.items()
    }


async def employment_facts(session: AsyncSession, user_id: str | None = None) -> list[EmploymentFacts]:
    """Every employment (or one user's), as plain facts."""
    query = select(
        Employment.user_id, Employment.unit_id, Employment.position_code, Employment.valid_from, Employment.valid_to
    )
    if user_id is not None:
        query = query.where(Employment.user_id == user_id)
    return [EmploymentFacts(*row) for row in await session.execute(query)]


async def recompute_user(session: AsyncSession, policy: CompiledPolicy, user_id: str) -> bool:
    """Replace one user's hr rows with what the policy derives from their employments; True when anything changed.

    Logs a `user` change, so engines reload that user, only when a row changed.
    """
    # Only the units this user is employed in: a sync recomputes users one by one, over thousands of units.
    jobs = await employment_facts(session, user_id)
    derived = derive_assignments(policy, jobs, await unit_facts(session, {e.unit_id for e in jobs}))
    changed = await _apply(session, derived, user_ids={user_id})
    if changed.users_changed:
        await log_change(session, "user", user_id)
    return bool(changed.users_changed)


async def recompute_all(session: AsyncSession, policy: CompiledPolicy) -> SyncResult:
    """Recompute every user's hr rows; logs one `reload` change when any row changed."""
    derived = derive_assignments(policy, await employment_facts(session), await unit_facts(session))
    result = await _apply(session, derived, user_ids=None)
    if result.users_changed:
        await log_change(session, "reload", "role_assignments")
    return result


async def _apply(session: AsyncSession, derived: Iterable[AssignmentFacts], *, user_ids: set[str] | None) -> SyncResult:
    """Delete the stored hr rows that were not derived and insert the derived rows that are not stored."""
    wanted: dict[str, set[_Row]] = defaultdict(set)
    for a in derived:
        wanted[a.user_id].add((a.role_id, a.unit_id, a.valid_from, a.valid_to))
    query = select(
        RoleAssignment.id,
        RoleAssignment.user_id,
        RoleAssignment.role_id,
        RoleAssignment.unit_id,
        RoleAssignment.valid_from,
        RoleAssignment.valid_to,
    ).where(RoleAssignment.source == "hr")
    if user_ids is not None:
        query = query.where(RoleAssignment.user_id.in_(user_ids))
    stored: dict[str, dict[_Row, int]] = defaultdict(dict)
    for row_id, user_id, role_id, unit_id, valid_from, valid_to in await session.execute(query):
        stored[user_id][(role_id, unit_id, valid_from, valid_to)] = row_id
    stale: list[int] = []
    fresh: list[dict[str, object]] = []
    changed_users: set[str] = set()
    now = utcnow()
    for user_id in wanted.keys() | stored.keys():
        have, want = stored.get(user_id, {}), wanted.get(user_id, set())
        gone = [row_id for row, row_id in have.items() if row not in want]
        new = [row for row in want if row not in have]
        if gone or new:
            changed_users.add(user_id)
        stale.extend(gone)
        fresh.extend(_hr_row(user_id, row, now) for row in new)
    for batch in _batches(stale):
        await session.execute(delete(RoleAssignment).where(RoleAssignment.id.in_(batch)))
    for rows in _batches(fresh):
        await session.execute(insert(RoleAssignment), rows)
    return SyncResult(users_changed=len(changed_users), rows_added=len(fresh), rows_removed=len(stale))


def _hr_row(user_id: str, row: _Row, now: datetime) -> dict[str, object]:
    role_id, unit_id, valid_from, valid_to = row
    return {
        "user_id": user_id,
        "role_id": role_id,
        "unit_id": unit_id,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "source": "hr",
        "approver": None,
        "created_at": now,
    }


def _batches(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]
