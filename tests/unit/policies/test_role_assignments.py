"""Employments give roles by the role documents' position rules, in units that provide the rule's services."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from accessctl.engine.types import AssignmentFacts, CompiledPolicy, EmploymentFacts, UnitFacts
from accessctl.policies.assignments import derive_assignments
from accessctl.policies.compile import load_policy

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
APR = datetime(2025, 4, 1, tzinfo=UTC)

UNITS = {
    "gp-office": UnitFacts("gp-office", "org-gp", None, frozenset({"fastlege"})),
    "legevakt": UnitFacts("legevakt", "org-kommune", None, frozenset({"legevakt"})),
    "nursing-home": UnitFacts("nursing-home", "org-kommune", None, frozenset({"sykehjem", "sykehjem-korttid"})),
    "hospital-ward": UnitFacts("hospital-ward", "org-hf", None, frozenset({"sengepost-medisin"})),
    "admin": UnitFacts("admin", "org-kommune", None, frozenset({"styring-og-rapportering"})),
}


@pytest.fixture(scope="module")
def policy(repo_policy_dir: Path) -> CompiledPolicy:
    return load_policy(repo_policy_dir)


def employment(user: str, unit: str, code: str, start: datetime = JAN, end: datetime | None = None) -> EmploymentFacts:
    return EmploymentFacts(user_id=user, unit_id=unit, position_code=code, valid_from=start, valid_to=end)


def roles_of(assignments: list[AssignmentFacts]) -> set[tuple[str, str, str]]:
    return {(a.user_id, a.role_id, a.unit_id) for a in assignments}


def test_a_gp_who_also_works_shifts_gets_a_role_in_each_unit(policy: CompiledPolicy) -> None:
    employments = [employment("u-gp", "gp-office", "7002"), employment("u-gp", "legevakt", "7002", FEB, MAR)]
    assert derive_assignments(policy, employments, UNITS) == [
        AssignmentFacts("u-gp", "fastlege.lege", "gp-office", JAN, None),
        AssignmentFacts("u-gp", "legevakt.lege", "legevakt", FEB, MAR),
    ]


def test_the_same_position_gives_different_roles_in_units_with_different_services(policy: CompiledPolicy) -> None:
    employments = [
        employment("u-1", "nursing-home", "7010"),
        employment("u-2", "hospital-ward", "7010"),
        employment("u-3", "gp-office", "7010"),
    ]
    assert roles_of(derive_assignments(policy, employments, UNITS)) == {
        ("u-1", "sykehjem.sykepleier", "nursing-home"),
        ("u-2", "sykehus.sykepleier", "hospital-ward"),
        ("u-3", "fastlege.sykepleier", "gp-office"),
    }


def test_a_position_without_a_rule_for_the_units_services_gives_no_role(policy: CompiledPolicy) -> None:
    assert derive_assignments(policy, [employment("u-1", "admin", "7010")], UNITS) == []


def test_a_rule_without_services_applies_in_any_unit_and_additive_rules_add_a_role(policy: CompiledPolicy) -> None:
    employments = [employment("u-boss", "admin", "7050"), employment("u-ward-boss", "hospital-ward", "7051")]
    assert roles_of(derive_assignments(policy, employments, UNITS)) == {
        ("u-boss", "leder.enhet", "admin"),
        ("u-ward-boss", "leder.enhet", "hospital-ward"),
        ("u-ward-boss", "sykehus.sykepleier", "hospital-ward"),
    }


def test_overlapping_employments_giving_one_role_are_merged_into_one_window(policy: CompiledPolicy) -> None:
    employments = [
        employment("u-1", "hospital-ward", "7010", JAN, MAR),
        employment("u-1", "hospital-ward", "7011", FEB, APR),  # promoted: a new position, the same role
    ]
    assert derive_assignments(policy, employments, UNITS) == [
        AssignmentFacts("u-1", "sykehus.sykepleier", "hospital-ward", JAN, APR)
    ]


def test_windows_that_touch_merge_and_windows_with_a_gap_stay_apart(policy: CompiledPolicy) -> None:
    touching = [employment("u-1", "legevakt", "7006", JAN, FEB), employment("u-1", "legevakt", "7006", FEB, None)]
    assert derive_assignments(policy, touching, UNITS) == [
        AssignmentFacts("u-1", "legevakt.lege", "legevakt", JAN, None)
    ]
    gap = [employment("u-1", "legevakt", "7006", JAN, FEB), employment("u-1", "legevakt", "7006", MAR, APR)]
    assert [(a.valid_from, a.valid_to) for a in derive_assignments(policy, gap, UNITS)] == [(JAN, FEB), (MAR, APR)]


def test_unknown_units_and_empty_windows_give_nothing(policy: CompiledPolicy) -> None:
    employments = [employment("u-1", "no-such-unit", "7010"), employment("u-2", "hospital-ward", "7010", MAR, MAR)]
    assert derive_assignments(policy, employments, UNITS) == []


def test_result_is_sorted_and_independent_of_input_order(policy: CompiledPolicy) -> None:
    employments = [
        employment("u-b", "hospital-ward", "7004"),
        employment("u-a", "nursing-home", "7020"),
        employment("u-a", "gp-office", "7040"),
        employment("u-b", "admin", "7062"),
    ]
    forward = derive_assignments(policy, employments, UNITS)
    assert forward == derive_assignments(policy, list(reversed(employments)), UNITS)
    assert [(a.user_id, a.unit_id, a.role_id) for a in forward] == sorted(
        (a.user_id, a.unit_id, a.role_id) for a in forward
    )
    assert len(forward) == 4
