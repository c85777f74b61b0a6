"""The committed schema and the starter role set: generated, complete and realistic."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from accessctl.policies.compile import load_policy
from accessctl.policies.documents import role_document_schema, role_document_schema_text


def test_committed_schema_equals_the_schema_generated_from_the_code(repo_policy_dir: Path) -> None:
    committed = (repo_policy_dir / "role-document.schema.json").read_text(encoding="utf-8")
    assert committed == role_document_schema_text(), (
        "regenerate: accessctl policies schema > policies/role-document.schema.json"
    )


def test_schema_requires_the_fields_every_role_document_must_have() -> None:
    schema = role_document_schema()
    role = schema["$defs"]["RoleDocument"]
    assert set(role["required"]) == {
        "id",
        "name",
        "description",
        "owner",
        "services",
        "permissions",
        "break_glass",
        "change_note",
    }
    assert role["additionalProperties"] is False
    scope = schema["$defs"]["PermissionDocument"]["properties"]["scope"]
    assert set(scope["enum"]) == {"care_relation", "unit", "unit_subtree", "organisation", "self", "any"}
    assert json.loads(role_document_schema_text()) == schema


def test_starter_set_has_at_least_forty_roles(repo_policy_dir: Path) -> None:
    assert len(load_policy(repo_policy_dir).roles) >= 40


def test_every_shielded_service_has_a_role_that_sees_it(repo_policy_dir: Path) -> None:
    catalogue = yaml.safe_load((repo_policy_dir / "services.yaml").read_text(encoding="utf-8"))
    shielded = {service["id"] for service in catalogue["services"] if service["shielded"]}
    policy = load_policy(repo_policy_dir)
    seen = set().union(*(role.shielded_services for role in policy.roles.values()))
    assert shielded <= seen, f"shielded services without a role: {sorted(shielded - seen)}"


def test_patient_portal_role_sees_only_the_patients_own_record(repo_policy_dir: Path) -> None:
    role = load_policy(repo_policy_dir).roles["pasient.innbygger"]
    assert role.permissions
    assert {permission.scope for permission in role.permissions} == {"self"}
    assert not role.break_glass
    assert not role.position_rules


def test_report_roles_grant_reports_by_unit_subtree_and_no_patient_data(repo_policy_dir: Path) -> None:
    policy = load_policy(repo_policy_dir)
    role = policy.roles["rapport.enhet"]
    assert {(p.resource_type, p.scope) for p in role.permissions} >= {("report.activity", "unit_subtree")}
    assert not any(policy.resource_types[p.resource_type].patient_bound for p in role.permissions)


def test_only_roles_that_declare_address_access_may_read_addresses(repo_policy_dir: Path) -> None:
    policy = load_policy(repo_policy_dir)
    readers = {
        role.id for role in policy.roles.values() if any(p.resource_type == "patient.address" for p in role.permissions)
    }
    assert readers
    assert all(policy.roles[role_id].address_categories for role_id in readers)


def test_break_glass_roles_have_a_time_box(repo_policy_dir: Path) -> None:
    roles = load_policy(repo_policy_dir).roles.values()
    assert any(role.break_glass for role in roles)
    assert all(0 < role.break_glass_max_minutes <= 720 for role in roles if role.break_glass)
    assert all(role.break_glass_max_minutes == 0 for role in roles if not role.break_glass)
