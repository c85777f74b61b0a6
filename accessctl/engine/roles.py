"""The policy side of the indexes: each role's permissions, hashed from (resource type, action) to scopes."""

from __future__ import annotations

from dataclasses import dataclass

from accessctl.engine.reasons import SCOPE_PREFERENCE
from accessctl.engine.types import CompiledPolicy, CompiledRole, Scope

PermissionKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RoleIndex:
    """One compiled policy version, indexed so rule 2 is a dict lookup per held role, never a scan."""

    version: str
    roles: dict[str, CompiledRole]
    patient_bound: dict[str, bool]
    # role -> (resource type, action) -> its scopes, broadest first.
    permissions: dict[str, dict[PermissionKey, tuple[Scope, ...]]]


def build_role_index(policy: CompiledPolicy) -> RoleIndex:
    """Index a compiled policy; a permission on a resource type the policy does not know is kept out."""
    permissions: dict[str, dict[PermissionKey, tuple[Scope, ...]]] = {}
    for role_id, role in policy.roles.items():
        by_key: dict[PermissionKey, set[Scope]] = {}
        for p in role.permissions:
            if p.resource_type in policy.resource_types:
                by_key.setdefault((p.resource_type, p.action), set()).add(p.scope)
        permissions[role_id] = {
            key: tuple(s for s in SCOPE_PREFERENCE if s in scopes) for key, scopes in by_key.items()
        }
    return RoleIndex(
        version=policy.version,
        roles=dict(policy.roles),
        patient_bound={name: rt.patient_bound for name, rt in policy.resource_types.items()},
        permissions=permissions,
    )
