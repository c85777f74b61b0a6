"""The fixture population of the access tests as engine facts, with roles derived from the role documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from accessctl.engine.types import (
    AssignmentFacts,
    CompiledPolicy,
    EmploymentFacts,
    OrganisationFacts,
    UnitFacts,
    UserFacts,
)
from accessctl.identifiers import is_synthetic_national_id
from accessctl.policies.access_case_files import LocatedFixtures
from accessctl.policies.access_case_format import EmploymentEntry, ManualAssignmentEntry
from accessctl.policies.assignments import derive_assignments
from accessctl.policies.problems import Problem
from accessctl.policies.yaml_source import NodePath


@dataclass(frozen=True, slots=True)
class PolicyCatalogue:
    """The compiled policy plus the catalogue facts cases are checked against."""

    policy: CompiledPolicy
    services: Mapping[str, bool]  # service id -> shielded
    positions: frozenset[str]
    actions: Mapping[str, frozenset[str]]  # resource type -> its actions

    @property
    def shielded_services(self) -> frozenset[str]:
        return frozenset(service for service, shielded in self.services.items() if shielded)


@dataclass(frozen=True, slots=True)
class Population:
    """Organisations, units, users, employments and role assignments every case starts from."""

    at: datetime
    organisations: tuple[OrganisationFacts, ...]
    units: Mapping[str, UnitFacts]
    users: Mapping[str, UserFacts]
    employments: tuple[EmploymentFacts, ...]
    assignments: tuple[AssignmentFacts, ...]


def build_population(
    fixtures: LocatedFixtures, catalogue: PolicyCatalogue, problems: list[Problem]
) -> Population | None:
    """The fixtures as engine facts; None when anything in them is wrong (each problem recorded)."""
    document = fixtures.document
    found: list[Problem] = []
    organisations = {org.id: org for org in document.organisations}
    units: dict[str, UnitFacts] = {}
    for index, unit in enumerate(document.units):
        at: NodePath = ("units", index)
        if unit.id in units:
            found.append(fixtures.problem((*at, "id"), f"duplicate unit {unit.id!r}; expected each once"))
        if unit.organisation not in organisations:
            found.append(fixtures.problem((*at, "organisation"), f"unknown organisation {unit.organisation!r}"))
        for s_index, service in enumerate(unit.services):
            if service not in catalogue.services:
                message = f"unknown service {service!r}; expected one of services.yaml"
                found.append(fixtures.problem((*at, "services", s_index), message))
        units[unit.id] = UnitFacts(unit.id, unit.organisation, unit.parent, frozenset(unit.services))
    for index, unit in enumerate(document.units):
        if unit.parent is not None and unit.parent not in units:
            found.append(fixtures.problem(("units", index, "parent"), f"unknown unit {unit.parent!r}"))
    users: dict[str, UserFacts] = {}
    employments: list[EmploymentFacts] = []
    manual: list[AssignmentFacts] = []
    for index, user in enumerate(document.users):
        at = ("users", index)
        if user.id in users:
            found.append(fixtures.problem((*at, "id"), f"duplicate user {user.id!r}; expected each once"))
        if (wrong_id := national_id_problem(user.national_id)) is not None:
            found.append(fixtures.problem((*at, "national_id"), wrong_id))
        users[user.id] = UserFacts(user.id, user.status == "active", name=user.name, national_id=user.national_id)
        for problem_at, message in job_problems(user.employments, user.assignments, units, catalogue):
            found.append(fixtures.problem((*at, *problem_at), message))
        employments.extend(employment_facts(user.id, user.employments))
        manual.extend(assignment_facts(user.id, user.assignments))
    problems.extend(found)
    if found:
        return None
    organisation_facts = tuple(
        OrganisationFacts(org.id, None if org.go_live is None else org.go_live.date(), org.agreement_signed)
        for org in document.organisations
    )
    derived = derive_assignments(catalogue.policy, employments, units)
    return Population(document.at, organisation_facts, units, users, tuple(employments), (*derived, *manual))


def employment_facts(user_id: str, entries: Iterable[EmploymentEntry]) -> list[EmploymentFacts]:
    """A user's employment entries as engine facts."""
    return [EmploymentFacts(user_id, job.unit, job.position, job.from_, job.to) for job in entries]


def assignment_facts(user_id: str, entries: Iterable[ManualAssignmentEntry]) -> list[AssignmentFacts]:
    """A user's manual role assignments as engine facts."""
    return [AssignmentFacts(user_id, grant.role, grant.unit, grant.from_, grant.to) for grant in entries]


def job_problems(
    employments: list[EmploymentEntry],
    assignments: list[ManualAssignmentEntry],
    units: Mapping[str, UnitFacts],
    catalogue: PolicyCatalogue,
) -> list[tuple[NodePath, str]]:
    """What is wrong with a user's employments and manual assignments, by path under the user."""
    found: list[tuple[NodePath, str]] = []
    for index, job in enumerate(employments):
        if job.unit not in units:
            found.append((("employments", index, "unit"), f"unknown unit {job.unit!r}; expected a fixtures unit"))
        if job.position not in catalogue.positions:
            message = f"unknown position {job.position!r}; expected one of positions.yaml"
            found.append((("employments", index, "position"), message))
        if job.to is not None and job.to <= job.from_:
            found.append((("employments", index, "to"), "ends before it starts; expected to > from"))
    for index, grant in enumerate(assignments):
        if grant.role not in catalogue.policy.roles:
            found.append((("assignments", index, "role"), f"unknown role {grant.role!r}"))
        if grant.unit not in units:
            found.append((("assignments", index, "unit"), f"unknown unit {grant.unit!r}; expected a fixtures unit"))
        if grant.to <= grant.from_:
            found.append((("assignments", index, "to"), "ends before it starts; expected to > from"))
    return found


def national_id_problem(value: str | None) -> str | None:
    """A patient or worker number must be a valid synthetic national identity number (month + 80)."""
    if value is None or is_synthetic_national_id(value):
        return None
    return f"{value!r} is not a valid synthetic national identity number (month + 80, check digits)"
