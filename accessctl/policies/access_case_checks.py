"""Checks a typed case against the fixtures and the catalogues, so a typo is an error, never a silent deny."""

from __future__ import annotations

from typing import Protocol

from accessctl.engine.reasons import Reason
from accessctl.policies.access_case_files import LocatedCase
from accessctl.policies.access_population import PolicyCatalogue, Population, job_problems, national_id_problem
from accessctl.policies.problems import Problem

# An inline subject without an `id` goes by this one.
INLINE_SUBJECT_ID = "subject"
_REASONS = frozenset(reason.value for reason in Reason)


def subject_id(located: LocatedCase) -> str:
    """The user id the case asks as."""
    subject = located.case.subject
    return subject.user or subject.unknown_user or subject.id or INLINE_SUBJECT_ID


def case_problems(located: LocatedCase, population: Population, catalogue: PolicyCatalogue) -> list[Problem]:
    """Everything wrong with one case; the case runs only when this is empty."""
    case = located.case
    found: list[Problem] = []

    def problem(message: str, *path: str | int) -> None:
        found.append(Problem(located.file, located.line_of(*path), located.field(*path), message))

    def known_unit(unit: str | None, *path: str | int) -> None:
        if unit is not None and unit not in population.units:
            problem(f"unknown unit {unit!r}; expected a unit of fixtures.yaml", *path)

    _check_subject(located, population, catalogue, problem)
    known_unit(case.unit, "unit")
    reason = case.expect.reason
    if case.resource_type not in catalogue.actions:
        # A type outside the catalogue is a typo, unless the case is about exactly that.
        if reason != Reason.UNKNOWN_RESOURCE_TYPE:
            message = f"unknown resource type {case.resource_type!r}; expected one of resource-types.yaml"
            problem(message, "resource_type")
    elif case.action not in catalogue.actions[case.resource_type]:
        valid = ", ".join(sorted(catalogue.actions[case.resource_type]))
        problem(f"unknown action {case.action!r} for {case.resource_type!r}; expected one of: {valid}", "action")
    resource = case.resource
    if (wrong_id := national_id_problem(resource.patient)) is not None:
        problem(wrong_id, "resource", "patient")
    known_unit(resource.unit, "resource", "unit")
    if resource.service is not None and resource.service not in catalogue.services:
        problem(f"unknown service {resource.service!r}; expected one of services.yaml", "resource", "service")
    users = {*population.users, subject_id(located)}
    context = bool(case.care_relations or case.blocks or case.break_glass)
    if context and resource.patient is None:
        problem("care relations, blocks and break_glass need a patient; expected resource.patient", "resource")
    for index, relation in enumerate(case.care_relations):
        if (relation.user is None) == (relation.unit is None):
            problem("expected exactly one of user or unit", "care_relations", index)
        if relation.user is not None and relation.user not in users:
            problem(f"unknown user {relation.user!r}", "care_relations", index, "user")
        known_unit(relation.unit, "care_relations", index, "unit")
    for index, block in enumerate(case.blocks):
        if sum(value is not None for value in (block.user, block.unit, block.category)) != 1:
            problem("expected exactly one of user, unit or category", "blocks", index)
        if block.user is not None and block.user not in users:
            problem(f"unknown user {block.user!r}", "blocks", index, "user")
        known_unit(block.unit, "blocks", index, "unit")
    grant = case.break_glass
    if grant is not None and grant.user is not None and grant.user not in users:
        problem(f"unknown user {grant.user!r}", "break_glass", "user")
    if reason not in _REASONS:
        problem(f"unknown reason {reason!r}; expected one of: {', '.join(sorted(_REASONS))}", "expect", "reason")
    elif reason.startswith("permit_") != (case.expect.decision == "permit"):
        problem(f"reason {reason!r} does not go with decision {case.expect.decision!r}", "expect", "reason")
    for index, role in enumerate(case.expect.roles or ()):
        if role not in catalogue.policy.roles:
            problem(f"unknown role {role!r}", "expect", "roles", index)
    return found


def _check_subject(located: LocatedCase, population: Population, catalogue: PolicyCatalogue, problem: _Report) -> None:
    subject = located.case.subject
    inline = bool(subject.id or subject.employments or subject.assignments or subject.national_id)
    inline = inline or subject.status != "active"
    modes = sum((subject.user is not None, subject.unknown_user is not None, inline))
    if modes != 1:
        problem("expected exactly one of user, unknown_user, or an inline user (employments, ...)", "subject")
        return
    if subject.user is not None and subject.user not in population.users:
        problem(f"unknown user {subject.user!r}; expected a user of fixtures.yaml", "subject", "user")
    if subject.unknown_user is not None and subject.unknown_user in population.users:
        problem(f"{subject.unknown_user!r} is a fixtures user; expected an id the directory lacks", "subject")
    if inline:
        if subject_id(located) in population.users:
            problem(f"inline subject id {subject_id(located)!r} is a fixtures user; expected a new id", "subject")
        if (message := national_id_problem(subject.national_id)) is not None:
            problem(message, "subject", "national_id")
        for path, message in job_problems(subject.employments, subject.assignments, population.units, catalogue):
            problem(message, "subject", *path)


class _Report(Protocol):
    """Records a problem at a field of the case."""

    def __call__(self, message: str, *path: str | int) -> None: ...
