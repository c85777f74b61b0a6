"""A synthetic region of realistic size, for benchmarks: organisations, a unit tree, users, roles, patients.

Patient ids are synthetic (month + 80, as the national register does for synthetic persons); nothing here
could be a real person.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from accessctl.engine.snapshot import Snapshot
from accessctl.engine.types import (
    SCOPES,
    AccessRequest,
    AssignmentFacts,
    BreakGlassGrantFacts,
    CareRelationFacts,
    CompiledPolicy,
    CompiledRole,
    EmploymentFacts,
    OrganisationFacts,
    PatientBlockFacts,
    Permission,
    ResourceType,
    UnitFacts,
    UserFacts,
)

SERVICES = ("legevakt", "fastlege", "sykehjem", "akuttmottak", "poliklinikk", "helsestasjon", "intensiv")
SHIELDED = ("krisesenter", "psykisk-helsevern-spesialist", "helsestasjon-for-ungdom")
ACTIONS = ("read", "write", "sign", "print", "export")
START = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SyntheticWorld:
    policy: CompiledPolicy
    snapshot: Snapshot
    patients: tuple[str, ...]


def synthetic_patient(n: int) -> str:
    """An 11-digit synthetic national id: day, month + 80, year, then a serial (no valid check digits)."""
    day = 1 + n % 28
    month = 81 + (n // 28) % 12
    return f"{day:02d}{month:02d}{(n // 336) % 100:02d}{n % 100_000:05d}"


def _policy(rng: random.Random, roles: int, resource_types: int) -> CompiledPolicy:
    types = {
        f"rt{i}": ResourceType(f"rt{i}", f"resource type {i}", patient_bound=i % 4 != 3) for i in range(resource_types)
    }
    compiled = {}
    for i in range(roles):
        perms = {
            (rt, action): rng.choice(SCOPES)
            for rt in rng.sample(sorted(types), k=min(len(types), rng.randint(5, 20)))
            for action in rng.sample(ACTIONS, k=rng.randint(1, 3))
        }
        compiled[f"role{i}"] = CompiledRole(
            id=f"role{i}",
            name=f"Role {i}",
            permissions=tuple(Permission(rt, a, s) for (rt, a), s in sorted(perms.items())),
            shielded_services=frozenset(rng.sample(SHIELDED, k=1)) if i % 7 == 0 else frozenset(),
            break_glass=i % 3 == 0,
            break_glass_max_minutes=240 if i % 3 == 0 else 0,
            address_categories=frozenset({"protected_address"}) if i % 11 == 0 else frozenset(),
        )
    return CompiledPolicy(version="synthetic-1", roles=compiled, resource_types=types, actions=frozenset(ACTIONS))


def synthetic_world(
    *,
    users: int = 34_000,
    units: int = 3_000,
    roles: int = 40,
    organisations: int = 740,
    patients: int = 100_000,
    resource_types: int = 30,
    seed: int = 0,
) -> SyntheticWorld:
    """A region shaped like DESIGN's: ~740 organisations with unit trees, users with one or two jobs."""
    rng = random.Random(seed)
    policy = _policy(rng, roles, resource_types)
    orgs = tuple(
        OrganisationFacts(f"org{i}", date(2024, 1, 1), agreement_signed=i % 50 != 49) for i in range(organisations)
    )
    unit_list: list[UnitFacts] = []
    for i in range(units):
        if i < organisations:
            org, parent = f"org{i}", None
        else:
            parent_unit = unit_list[rng.randrange(min(len(unit_list), organisations * 2))]
            org, parent = parent_unit.organisation_id, parent_unit.id
        services = set(rng.sample(SERVICES, k=rng.randint(0, 2)))
        if i % 40 == 0:
            services.add(rng.choice(SHIELDED))
        unit_list.append(UnitFacts(f"unit{i}", org, parent, frozenset(services)))
    people: list[UserFacts] = []
    jobs: list[EmploymentFacts] = []
    assignments: list[AssignmentFacts] = []
    role_ids = sorted(policy.roles)
    for i in range(users):
        user_id = f"user{i}"
        people.append(UserFacts(user_id, active=i % 100 != 0, national_id=synthetic_patient(10_000_000 + i)))
        for unit in rng.sample(unit_list, k=rng.choice((1, 1, 1, 2))):
            end = None if rng.random() < 0.9 else START + timedelta(days=rng.randint(2000, 4000))
            jobs.append(EmploymentFacts(user_id, unit.id, "P1", START, end))
            for role_id in rng.sample(role_ids, k=rng.randint(1, 3)):
                assignments.append(AssignmentFacts(user_id, role_id, unit.id, START, end))
    patient_ids = tuple(synthetic_patient(n) for n in range(patients))
    relations = []
    for n in range(patients):
        a = assignments[rng.randrange(len(assignments))]
        target = {"user_id": a.user_id} if n % 2 else {"unit_id": a.unit_id}
        relations.append(
            CareRelationFacts(f"cr{n}", patient_ids[n], "admission", START, START + timedelta(days=3000), **target)
        )
    blocks = [
        PatientBlockFacts(f"b{n}", patient_ids[rng.randrange(patients)], START, None, category="protected_address")
        for n in range(patients // 50)
    ]
    grants = [
        BreakGlassGrantFacts(
            f"g{n}",
            f"user{rng.randrange(users)}",
            patient_ids[rng.randrange(patients)],
            "unit0",
            "emergency",
            START,
            START + timedelta(days=5000),
        )
        for n in range(patients // 200)
    ]
    snapshot = Snapshot(
        organisations=orgs,
        units=tuple(unit_list),
        users=tuple(people),
        employments=tuple(jobs),
        assignments=tuple(assignments),
        care_relations=tuple(relations),
        blocks=tuple(blocks),
        grants=tuple(grants),
        shielded_services=frozenset(SHIELDED),
    )
    return SyntheticWorld(policy, snapshot, patient_ids)


def synthetic_requests(world: SyntheticWorld, count: int, *, seed: int = 1) -> list[AccessRequest]:
    """Distinct requests a clinical system might send: a user in one of their units, mostly on a patient."""
    rng = random.Random(seed)
    snap = world.snapshot
    types = sorted(world.policy.resource_types)
    units = [u.id for u in snap.units]
    requests: dict[tuple[object, ...], AccessRequest] = {}
    while len(requests) < count:
        a = snap.assignments[rng.randrange(len(snap.assignments))]
        role = world.policy.roles[a.role_id]
        perm = rng.choice(role.permissions) if rng.random() < 0.8 else None
        rt = perm.resource_type if perm else rng.choice(types)
        action = perm.action if perm else rng.choice(ACTIONS)
        with_patient = world.policy.resource_types[rt].patient_bound or rng.random() < 0.3
        request = AccessRequest(
            user_id=a.user_id,
            unit_id=a.unit_id,
            action=action,
            resource_type=rt,
            patient=world.patients[rng.randrange(len(world.patients))] if with_patient else None,
            resource_unit=rng.choice((a.unit_id, rng.choice(units))),
            service=rng.choice((None, None, None, *SERVICES, *SHIELDED)),
            categories=frozenset({"protected_address"}) if rng.random() < 0.05 else frozenset(),
        )
        requests[
            (
                request.user_id,
                request.unit_id,
                action,
                rt,
                request.patient,
                request.resource_unit,
                request.service,
                request.categories,
            )
        ] = request
    return list(requests.values())
