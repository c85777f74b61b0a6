"""Loading compiles a valid set into the engine's form, and refuses an invalid one whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from accessctl.engine.types import Permission, PositionRule
from accessctl.errors import InvalidPolicy
from accessctl.policies.compile import load_policy

Edit = Callable[[str, str, str], int]


def test_load_policy_compiles_each_role_with_one_permission_per_action(policy_dir: Path) -> None:
    policy = load_policy(policy_dir)
    gp = policy.roles["fastlege.lege"]
    assert Permission("journal.note", "sign", "care_relation") in gp.permissions
    assert Permission("patient.appointment", "write", "unit") in gp.permissions
    assert gp.position_rules == (PositionRule(frozenset({"7002", "7003"}), frozenset({"fastlege"})),)
    assert (gp.break_glass, gp.break_glass_max_minutes) == (True, 120)
    assert gp.services == frozenset({"fastlege"})


def test_compiled_policy_carries_shielding_address_access_and_resource_types(policy_dir: Path) -> None:
    policy = load_policy(policy_dir)
    assert policy.roles["krisesenter.ansatt"].shielded_services == frozenset({"krisesenter"})
    assert policy.roles["krisesenter.ansatt"].address_categories == frozenset(
        {"protected_address", "strictly_protected_address"}
    )
    assert policy.resource_types["report.activity"].patient_bound is False
    assert policy.resource_types["journal.note"].patient_bound is True
    assert {"read", "write", "sign", "print", "export", "view"} <= policy.actions


def test_policy_version_is_a_digest_of_the_documents(policy_dir: Path, edit_policy: Edit) -> None:
    first = load_policy(policy_dir).version
    assert first == load_policy(policy_dir).version
    edit_policy("roles/fastlege.lege.yaml", "max_minutes: 120", "max_minutes: 90")
    assert load_policy(policy_dir).version != first
    assert load_policy(policy_dir, version="2025-01-15.1").version == "2025-01-15.1"


def test_invalid_set_is_not_compiled_and_the_error_lists_every_problem(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy("roles/fastlege.lege.yaml", "services: [fastlege]\n", "services: [fastlege, tannlege]\n")
    edit_policy("roles/sykehus.lege.yaml", "max_minutes: 240", "max_minutes: 0")
    with pytest.raises(InvalidPolicy) as raised:
        load_policy(policy_dir)
    assert raised.value.code == "invalid_policy"
    assert [problem.file for problem in raised.value.problems] == [
        "roles/fastlege.lege.yaml",
        "roles/sykehus.lege.yaml",
    ]
    assert "tannlege" in raised.value.message
