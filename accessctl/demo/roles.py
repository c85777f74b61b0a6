"""The `roles` rows and the HR-derived `role_assignments` rows, by the role documents' position rules."""

from __future__ import annotations

from datetime import datetime

from accessctl.demo.policy_inputs import PolicyInputs
from accessctl.demo.specs import UnitSpec
from accessctl.engine.types import EmploymentFacts, UnitFacts
from accessctl.policies.assignments import derive_assignments

Row = dict[str, object]


def role_rows(inputs: PolicyInputs, stamp: datetime) -> list[Row]:
    if inputs.policy is None:
        return []
    return [
        {
            "id": role.id,
            "name": role.name,
            "description": inputs.role_descriptions.get(role.id, ""),
            "may_break_glass": role.break_glass,
            "updated_at": stamp,
        }
        for role in inputs.policy.roles.values()
    ]


def assignment_rows(inputs: PolicyInputs, units: list[UnitSpec], employments: list[Row], stamp: datetime) -> list[Row]:
    """What HR sync would derive from the employments: one row per (user, role, unit) window, source hr."""
    if inputs.policy is None:
        return []
    facts = {u.id: UnitFacts(u.id, u.organisation_id, None, frozenset(u.services)) for u in units}
    derived = derive_assignments(inputs.policy, (_employment(row) for row in employments), facts)
    return [
        {
            "user_id": a.user_id,
            "role_id": a.role_id,
            "unit_id": a.unit_id,
            "valid_from": a.valid_from,
            "valid_to": a.valid_to,
            "source": "hr",
            "approver": None,
            "created_at": stamp,
        }
        for a in derived
    ]


def _employment(row: Row) -> EmploymentFacts:
    valid_from, valid_to = row["valid_from"], row["valid_to"]
    assert isinstance(valid_from, datetime)
    assert valid_to is None or isinstance(valid_to, datetime)
    return EmploymentFacts(str(row["user_id"]), str(row["unit_id"]), str(row["position_code"]), valid_from, valid_to)
