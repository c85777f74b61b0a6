"""Read the engine's facts out of the database: the whole snapshot, or the facts behind one change."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.break_glass.models import BreakGlassGrant
from accessctl.context.models import CareRelation, PatientBlock
from accessctl.directory.models import Employment, Organisation, Service, Unit, UnitService, User
from accessctl.engine import (
    AssignmentFacts,
    BreakGlassGrantFacts,
    CareRelationFacts,
    EmploymentFacts,
    OrganisationFacts,
    PatientBlockFacts,
    Snapshot,
    UnitFacts,
    UserFacts,
)
from accessctl.policies.models import RoleAssignment


def organisation_facts(o: Organisation) -> OrganisationFacts:
    return OrganisationFacts(id=o.id, go_live=o.go_live, agreement_signed=o.agreement_signed)


def user_facts(u: User) -> UserFacts:
    return UserFacts(id=u.id, active=u.status == "active", hpr_number=u.hpr_number, name=u.display_name)


def employment_facts(e: Employment) -> EmploymentFacts:
    return EmploymentFacts(e.user_id, e.unit_id, e.position_code, e.valid_from, e.valid_to)


def assignment_facts(a: RoleAssignment) -> AssignmentFacts:
    return AssignmentFacts(a.user_id, a.role_id, a.unit_id, a.valid_from, a.valid_to)


def care_relation_facts(r: CareRelation) -> CareRelationFacts:
    return CareRelationFacts(
        id=r.id,
        patient=r.patient,
        kind=r.kind,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        user_id=r.user_id,
        unit_id=r.unit_id,
    )


def block_facts(b: PatientBlock) -> PatientBlockFacts:
    return PatientBlockFacts(
        id=b.id,
        patient=b.patient,
        valid_from=b.valid_from,
        valid_to=b.valid_to,
        user_id=b.user_id,
        unit_id=b.unit_id,
        category=b.category,
    )


def grant_facts(g: BreakGlassGrant) -> BreakGlassGrantFacts:
    return BreakGlassGrantFacts(
        id=g.id,
        user_id=g.user_id,
        patient=g.patient,
        unit_id=g.unit_id,
        reason_code=g.reason_code,
        valid_from=g.granted_at,
        expires_at=g.expires_at,
        ended_at=g.ended_at,
    )


async def load_snapshot(session: AsyncSession, now: datetime) -> Snapshot:
    """Everything the engine decides on; context that has already ended is left out."""
    services: dict[str, set[str]] = defaultdict(set)
    for unit_id, service_id in await session.execute(select(UnitService.unit_id, UnitService.service_id)):
        services[unit_id].add(service_id)
    units = tuple(
        UnitFacts(u.id, u.organisation_id, u.parent_id, frozenset(services.get(u.id, ())))
        for u in await session.scalars(select(Unit))
    )
    shielded = frozenset(await session.scalars(select(Service.id).where(Service.shielded.is_(True))))
    relations = await session.scalars(
        select(CareRelation).where(or_(CareRelation.valid_to.is_(None), CareRelation.valid_to > now))
    )
    blocks = await session.scalars(
        select(PatientBlock).where(or_(PatientBlock.valid_to.is_(None), PatientBlock.valid_to > now))
    )
    grants = await session.scalars(
        select(BreakGlassGrant).where(BreakGlassGrant.ended_at.is_(None), BreakGlassGrant.expires_at > now)
    )
    return Snapshot(
        organisations=tuple(organisation_facts(o) for o in await session.scalars(select(Organisation))),
        units=units,
        users=tuple(user_facts(u) for u in await session.scalars(select(User))),
        employments=tuple(employment_facts(e) for e in await session.scalars(select(Employment))),
        assignments=tuple(assignment_facts(a) for a in await session.scalars(select(RoleAssignment))),
        care_relations=tuple(care_relation_facts(r) for r in relations),
        blocks=tuple(block_facts(b) for b in blocks),
        grants=tuple(grant_facts(g) for g in grants),
        shielded_services=shielded,
    )


async def load_user(
    session: AsyncSession, user_id: str
) -> tuple[UserFacts | None, list[EmploymentFacts], list[AssignmentFacts]]:
    # Columns, not ORM objects: every process loads each changed user, so this runs once per HR write per process.
    found = (
        await session.execute(
            select(User.status, User.hpr_number, User.given_name, User.family_name).where(User.id == user_id)
        )
    ).one_or_none()
    if found is None:
        return None, [], []
    status, hpr_number, given_name, family_name = found
    user = UserFacts(id=user_id, active=status == "active", hpr_number=hpr_number, name=f"{given_name} {family_name}")
    jobs = await session.execute(
        select(
            Employment.user_id, Employment.unit_id, Employment.position_code, Employment.valid_from, Employment.valid_to
        ).where(Employment.user_id == user_id)
    )
    roles = await session.execute(
        select(
            RoleAssignment.user_id,
            RoleAssignment.role_id,
            RoleAssignment.unit_id,
            RoleAssignment.valid_from,
            RoleAssignment.valid_to,
        ).where(RoleAssignment.user_id == user_id)
    )
    return user, [EmploymentFacts(*row) for row in jobs], [AssignmentFacts(*row) for row in roles]


async def load_unit(session: AsyncSession, unit_id: str) -> UnitFacts | None:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        return None
    services = await session.scalars(select(UnitService.service_id).where(UnitService.unit_id == unit_id))
    return UnitFacts(unit.id, unit.organisation_id, unit.parent_id, frozenset(services))
