"""The impact diff: permissions per role, and distinct users who gain or lose each (resource type, action)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accessctl.engine.types import AssignmentFacts, CompiledPolicy, CompiledRole, Permission, ResourceType, Scope
from accessctl.policies.diff import diff, diff_text

NOW = datetime(2026, 6, 1, tzinfo=UTC)
NOTE = ResourceType("journal.note", "", True)
REPORT = ResourceType("report.activity", "", False)


def policy(version: str, **roles: list[tuple[str, str, Scope]]) -> CompiledPolicy:
    compiled = {
        role_id: CompiledRole(role_id, role_id, tuple(Permission(rt, a, s) for rt, a, s in perms))
        for role_id, perms in roles.items()
    }
    return CompiledPolicy(version, compiled, {NOTE.name: NOTE, REPORT.name: REPORT})


def held(user: str, role: str, unit: str = "u1", *, ended: bool = False) -> AssignmentFacts:
    end = NOW - timedelta(days=1) if ended else None
    return AssignmentFacts(user, role, unit, NOW - timedelta(days=30), end)


READ: tuple[str, str, Scope] = ("journal.note", "read", "care_relation")
VIEW: tuple[str, str, Scope] = ("report.activity", "view", "unit")


def test_role_changes_list_added_and_removed_permissions() -> None:
    result = diff(policy("a", nurse=[READ]), policy("b", nurse=[VIEW]), [], now=NOW)
    [change] = result.roles
    assert (change.role, change.status, change.added, change.removed) == ("nurse", "changed", (VIEW,), (READ,))


def test_users_who_lose_a_permission_are_counted_once() -> None:
    assignments = [held("ann", "nurse"), held("ann", "nurse", "u2"), held("bob", "nurse")]
    result = diff(policy("a", nurse=[READ]), policy("b", nurse=[]), assignments, now=NOW)
    assert [(i.resource_type, i.action, i.gained, i.lost) for i in result.impact] == [("journal.note", "read", 0, 2)]


def test_a_user_who_keeps_it_through_another_role_neither_gains_nor_loses() -> None:
    assignments = [held("ann", "nurse"), held("ann", "doctor"), held("bob", "nurse")]
    old = policy("a", nurse=[READ], doctor=[READ])
    new = policy("b", nurse=[], doctor=[READ])
    [impact] = diff(old, new, assignments, now=NOW).impact
    assert (impact.gained, impact.lost) == (0, 1)  # bob only


def test_assignments_not_valid_now_do_not_count() -> None:
    result = diff(policy("a", nurse=[]), policy("b", nurse=[VIEW]), [held("ann", "nurse", ended=True)], now=NOW)
    assert result.impact == ()
    assert result.roles[0].added == (VIEW,)


def test_added_and_removed_roles_are_named() -> None:
    result = diff(policy("a", old=[READ]), policy("b", new=[READ]), [], now=NOW)
    assert [(c.role, c.status) for c in result.roles] == [("new", "added"), ("old", "removed")]


def test_new_position_rules_count_through_the_projected_assignments() -> None:
    result = diff(
        policy("a", nurse=[VIEW]),
        policy("b", nurse=[VIEW]),
        [],
        now=NOW,
        to_assignments=[held("ann", "nurse")],
    )
    assert [(i.gained, i.lost) for i in result.impact] == [(1, 0)]


def test_text_and_json_name_the_versions_and_counts() -> None:
    result = diff(policy("v1", nurse=[READ]), policy("v2", nurse=[]), [held("ann", "nurse")], now=NOW)
    text = diff_text(result)
    assert "v1 -> v2" in text and "- journal.note read [care_relation]" in text
    data = result.as_json()
    assert data["impact"] == [{"resource_type": "journal.note", "action": "read", "gained": 0, "lost": 1}]


def test_a_role_field_change_without_a_permission_change_is_listed() -> None:
    old = policy("v1", nurse=[READ])
    nurse = old.roles["nurse"]
    widened = CompiledRole(
        "nurse",
        "nurse",
        nurse.permissions,
        break_glass=True,
        break_glass_max_minutes=720,
        address_categories=frozenset({"protected_address"}),
    )
    new = CompiledPolicy("v2", {"nurse": widened}, old.resource_types)
    [change] = diff(old, new, [], now=NOW).roles
    fields = {f.field: (f.before, f.after) for f in change.fields}
    assert fields == {
        "address_access": ([], ["protected_address"]),
        "break_glass": ({"allowed": False, "max_minutes": 0}, {"allowed": True, "max_minutes": 720}),
    }
    assert "address_access" in diff_text(diff(old, new, [], now=NOW))


def test_every_changed_file_is_listed_with_its_lines() -> None:
    same = policy("v1", nurse=[READ])
    old_files = {"services.yaml": "- id: hfu\n  shielded: true\n", "tests/a.yaml": "cases: []\n"}
    new_files = {"services.yaml": "- id: hfu\n  shielded: false\n"}
    result = diff(same, same, [], now=NOW, from_files=old_files, to_files=new_files)
    assert not result.empty
    files = {change["path"]: change for change in result.as_json()["files"]}
    assert files["tests/a.yaml"]["status"] == "removed"
    assert "-  shielded: true" in files["services.yaml"]["lines"]
    assert "+  shielded: false" in files["services.yaml"]["lines"]
