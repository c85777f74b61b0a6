"""Builds the engine's facts and request for one access test: the fixtures, the case's subject and context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from accessctl.engine.snapshot import Snapshot
from accessctl.engine.types import (
    AccessRequest,
    BreakGlassGrantFacts,
    CareRelationFacts,
    PatientBlockFacts,
    UserFacts,
)
from accessctl.policies.access_case_checks import subject_id
from accessctl.policies.access_case_files import LocatedCase
from accessctl.policies.access_population import (
    PolicyCatalogue,
    Population,
    assignment_facts,
    employment_facts,
)
from accessctl.policies.assignments import derive_assignments

# Context facts without a `from` started this long before the case's moment.
RELATION_LEAD = timedelta(days=30)
BLOCK_LEAD = timedelta(days=30)
GRANT_LEAD = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class CaseWorld:
    """What the engine is given for one case, and the moment it decides at."""

    snapshot: Snapshot
    request: AccessRequest
    now: datetime


def case_world(located: LocatedCase, population: Population, catalogue: PolicyCatalogue) -> CaseWorld:
    """The fixtures plus the case's inline subject, care relations, blocks and grant, and its request."""
    case = located.case
    now = case.at or population.at
    user_id = subject_id(located)
    subject = case.subject
    users = dict(population.users)
    employments = list(population.employments)
    assignments = list(population.assignments)
    if subject.user is None and subject.unknown_user is None:
        users[user_id] = UserFacts(user_id, subject.status == "active", national_id=subject.national_id)
        jobs = employment_facts(user_id, subject.employments)
        employments += jobs
        assignments += derive_assignments(catalogue.policy, jobs, population.units)
        assignments += assignment_facts(user_id, subject.assignments)
    patient = case.resource.patient or ""
    relations = tuple(
        CareRelationFacts(
            id=f"care-relation-{index}",
            patient=patient,
            kind=relation.kind,
            valid_from=relation.from_ or now - RELATION_LEAD,
            valid_to=relation.to,
            user_id=relation.user,
            unit_id=relation.unit,
        )
        for index, relation in enumerate(case.care_relations)
    )
    blocks = tuple(
        PatientBlockFacts(
            id=f"block-{index}",
            patient=patient,
            valid_from=block.from_ or now - BLOCK_LEAD,
            valid_to=block.to,
            user_id=block.user,
            unit_id=block.unit,
            category=block.category,
        )
        for index, block in enumerate(case.blocks)
    )
    grants: tuple[BreakGlassGrantFacts, ...] = ()
    if case.break_glass is not None:
        grant = case.break_glass
        start = grant.from_ or now - GRANT_LEAD
        grants = (
            BreakGlassGrantFacts(
                id="break-glass-grant",
                user_id=grant.user or user_id,
                patient=patient,
                unit_id=case.unit or "",
                reason_code=grant.reason_code,
                valid_from=start,
                expires_at=start + timedelta(minutes=grant.minutes),
                ended_at=grant.ended,
            ),
        )
    snapshot = Snapshot(
        organisations=population.organisations,
        units=tuple(population.units.values()),
        users=tuple(users.values()),
        employments=tuple(employments),
        assignments=tuple(assignments),
        care_relations=relations,
        blocks=blocks,
        grants=grants,
        shielded_services=catalogue.shielded_services,
    )
    request = AccessRequest(
        user_id=user_id,
        unit_id=case.unit,
        action=case.action,
        resource_type=case.resource_type,
        patient=case.resource.patient,
        resource_unit=case.resource.unit,
        service=case.resource.service,
        categories=frozenset(case.resource.categories),
        at=now,
    )
    return CaseWorld(snapshot, request, now)


def request_line(request: AccessRequest) -> str:
    """The request in one line, for a report."""
    where = [
        f"{name} {value}"
        for name, value in (
            ("patient", request.patient),
            ("unit", request.resource_unit),
            ("service", request.service),
        )
        if value is not None
    ]
    if request.categories:
        where.append("categories " + ",".join(sorted(request.categories)))
    tail = f" ({', '.join(where)})" if where else ""
    return f"{request.user_id} at {request.unit_id or '(no unit)'}: {request.action} {request.resource_type}{tail}"
