"""The role assignments the engine's role layer uses now, read from the database, for export and impact diffs.

An assignment counts when it is valid now, its user is active and its unit's organisation is live (go-live date
reached, agreement signed): the same facts rules 1 and 2 of DESIGN §2 read, so exported `g` lines and the engine
agree on who holds which role where.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Employment, Organisation, Unit, User
from accessctl.engine.types import AssignmentFacts, CompiledPolicy
from accessctl.policies.assignment_sync import employment_facts, unit_facts
from accessctl.policies.assignments import derive_assignments
from accessctl.policies.models import RoleAssignment


async def live_assignments(session: AsyncSession, now: datetime, *, source: str | None = None) -> list[AssignmentFacts]:
    """Every assignment valid at `now` of an active user in a unit of a live organisation (optionally one source)."""
    query = (
        select(
            RoleAssignment.user_id,
            RoleAssignment.role_id,
            RoleAssignment.unit_id,
            RoleAssignment.valid_from,
            RoleAssignment.valid_to,
        )
        .join(User, User.id == RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .join(Organisation, Organisation.id == Unit.organisation_id)
        .where(
            RoleAssignment.valid_from <= now,
            or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to > now),
            *_live_user_and_organisation(now),
        )
    )
    if source is not None:
        query = query.where(RoleAssignment.source == source)
    return [AssignmentFacts(*row) for row in await session.execute(query)]


async def projected_assignments(session: AsyncSession, policy: CompiledPolicy, now: datetime) -> list[AssignmentFacts]:
    """The assignments valid at `now` once `policy` is active: manual rows as they are, hr rows derived anew."""
    manual = await live_assignments(session, now, source="manual")
    allowed = await _live_pairs(session, now)
    derived = derive_assignments(policy, await employment_facts(session), await unit_facts(session))
    return manual + [a for a in _valid(derived, now) if (a.user_id, a.unit_id) in allowed]


def _live_user_and_organisation(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        User.status == "active",
        Organisation.agreement_signed.is_(True),
        Organisation.go_live <= now.date(),
    )


async def _live_pairs(session: AsyncSession, now: datetime) -> set[tuple[str, str]]:
    """(active user, unit of a live organisation) for every user and unit an employment joins."""
    rows = await session.execute(
        select(Employment.user_id, Employment.unit_id)
        .join(User, User.id == Employment.user_id)
        .join(Unit, Unit.id == Employment.unit_id)
        .join(Organisation, Organisation.id == Unit.organisation_id)
        .where(*_live_user_and_organisation(now))
        .distinct()
    )
    return {(user, unit) for user, unit in rows}


def _valid(assignments: Iterable[AssignmentFacts], now: datetime) -> list[AssignmentFacts]:
    return [a for a in assignments if a.valid_from <= now and (a.valid_to is None or now < a.valid_to)]
