"""The impact of moving from one policy to another: what changes per role, and how many users gain or lose each.

Per role: permissions added and removed, and every other field that changes (address access, shielded services,
break the glass, services, position rules). Given the files, also every policy file that changes (catalogues,
access tests, role documents), so nothing an approver approves is left out.

A user gains (resource type, action) when, in some unit, the roles they hold there grant it under the new policy
and not under the old one; they lose it the other way round. A user who keeps it in that unit through another
role neither gains nor loses. Assignments count when they are valid at `now`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accessctl.engine.types import AssignmentFacts, CompiledPolicy
from accessctl.policies.document_diff import FieldChange, FileChange, field_changes, file_changes

PermissionTriple = tuple[str, str, str]  # (resource type, action, scope)
PermissionKey = tuple[str, str]  # (resource type, action)


@dataclass(frozen=True, slots=True)
class RoleChange:
    """One role's permissions added and removed (a scope change is one of each), and its other fields that change."""

    role: str
    status: str  # "added", "removed" or "changed"
    added: tuple[PermissionTriple, ...]
    removed: tuple[PermissionTriple, ...]
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True, slots=True)
class UserImpact:
    """How many distinct users gain and lose one (resource type, action)."""

    resource_type: str
    action: str
    gained: int
    lost: int


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    from_version: str
    to_version: str
    roles: tuple[RoleChange, ...]
    impact: tuple[UserImpact, ...]
    users_counted: int = field(default=0)
    files: tuple[FileChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.roles and not self.impact and not self.files

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.from_version,
            "to": self.to_version,
            "users_counted": self.users_counted,
            "roles": [
                {
                    "role": change.role,
                    "status": change.status,
                    "added": [_triple(p) for p in change.added],
                    "removed": [_triple(p) for p in change.removed],
                    "fields": [{"field": f.field, "before": f.before, "after": f.after} for f in change.fields],
                }
                for change in self.roles
            ],
            "impact": [
                {"resource_type": i.resource_type, "action": i.action, "gained": i.gained, "lost": i.lost}
                for i in self.impact
            ],
            "files": [change.as_json() for change in self.files],
        }


def diff(
    from_policy: CompiledPolicy,
    to_policy: CompiledPolicy,
    assignments: Iterable[AssignmentFacts],
    *,
    now: datetime,
    to_assignments: Iterable[AssignmentFacts] | None = None,
    from_files: Mapping[str, str] | None = None,
    to_files: Mapping[str, str] | None = None,
) -> PolicyDiff:
    """Compare two policies; `to_assignments` (default: the same) are the assignments under the new policy, and
    the files (when both are given) the documents each was compiled from."""
    before = _role_sets(assignments, now)
    after = before if to_assignments is None else _role_sets(to_assignments, now)
    gained: dict[PermissionKey, set[str]] = defaultdict(set)
    lost: dict[PermissionKey, set[str]] = defaultdict(set)
    old_grants, new_grants = _Grants(from_policy), _Grants(to_policy)
    for user_unit in before.keys() | after.keys():
        had = old_grants.of(before.get(user_unit, frozenset()))
        has = new_grants.of(after.get(user_unit, frozenset()))
        for key in has - had:
            gained[key].add(user_unit[0])
        for key in had - has:
            lost[key].add(user_unit[0])
    impact = tuple(
        UserImpact(key[0], key[1], len(gained.get(key, ())), len(lost.get(key, ())))
        for key in sorted(gained.keys() | lost.keys())
    )
    users = {user for user, _ in before.keys() | after.keys()}
    files = () if from_files is None or to_files is None else file_changes(from_files, to_files)
    roles = _role_changes(from_policy, to_policy)
    return PolicyDiff(from_policy.version, to_policy.version, roles, impact, len(users), files)


def _role_changes(old: CompiledPolicy, new: CompiledPolicy) -> tuple[RoleChange, ...]:
    changes: list[RoleChange] = []
    for role_id in sorted(old.roles.keys() | new.roles.keys()):
        before = _triples(old, role_id)
        after = _triples(new, role_id)
        fields = field_changes(old.roles.get(role_id), new.roles.get(role_id))
        if before == after and not fields:
            continue
        status = "added" if role_id not in old.roles else "removed" if role_id not in new.roles else "changed"
        added, removed = tuple(sorted(after - before)), tuple(sorted(before - after))
        changes.append(RoleChange(role_id, status, added, removed, fields))
    return tuple(changes)


def _triples(policy: CompiledPolicy, role_id: str) -> set[PermissionTriple]:
    role = policy.roles.get(role_id)
    if role is None:
        return set()
    return {(p.resource_type, p.action, p.scope) for p in role.permissions}


def _role_sets(assignments: Iterable[AssignmentFacts], now: datetime) -> dict[tuple[str, str], frozenset[str]]:
    """(user, unit) -> the roles held there at `now`."""
    held: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in assignments:
        if a.valid_from <= now and (a.valid_to is None or now < a.valid_to):
            held[(a.user_id, a.unit_id)].add(a.role_id)
    return {key: frozenset(roles) for key, roles in held.items()}


class _Grants:
    """What a set of roles grants under one policy, memoised: most users share a handful of role sets."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self._policy = policy
        self._memo: dict[frozenset[str], frozenset[PermissionKey]] = {}

    def of(self, roles: frozenset[str]) -> frozenset[PermissionKey]:
        found = self._memo.get(roles)
        if found is None:
            found = frozenset(
                (p.resource_type, p.action)
                for role_id in roles
                if (role := self._policy.roles.get(role_id)) is not None
                for p in role.permissions
            )
            self._memo[roles] = found
        return found


def _triple(permission: PermissionTriple) -> dict[str, str]:
    return {"resource_type": permission[0], "action": permission[1], "scope": permission[2]}


def diff_text(result: PolicyDiff) -> str:
    """The diff as a table for people."""
    lines = [f"policy {result.from_version} -> {result.to_version}"]
    if result.empty:
        return "\n".join([*lines, "no changes"])
    lines.append("roles:" if result.roles else "roles: no changes")
    for change in result.roles:
        lines.append(f"  {change.role} ({change.status})")
        lines.extend(f"    + {rt} {action} [{scope}]" for rt, action, scope in change.added)
        lines.extend(f"    - {rt} {action} [{scope}]" for rt, action, scope in change.removed)
        lines.extend(f"    {f.field}: {json.dumps(f.before)} -> {json.dumps(f.after)}" for f in change.fields)
    lines.append(f"users (of {result.users_counted} with a role now):")
    width = max((len(f"{i.resource_type} {i.action}") for i in result.impact), default=0)
    lines.append(f"  {'permission':<{width}}  {'gain':>6}  {'lose':>6}")
    lines.extend(f"  {f'{i.resource_type} {i.action}':<{width}}  {i.gained:>6}  {i.lost:>6}" for i in result.impact)
    if result.files:
        lines.append("files:")
        for file in result.files:
            lines.append(f"  {file.path} ({file.status})")
            lines.extend(f"    {line}" for line in file.lines[2:])  # [2:]: the ---/+++ header repeats the path
    return "\n".join(lines)
