"""Compiles valid role documents into the engine's `CompiledPolicy`; an invalid set is never compiled."""

from __future__ import annotations

from pathlib import Path

from accessctl.engine.types import CompiledPolicy, CompiledRole, Permission, PositionRule, ResourceType
from accessctl.errors import InvalidPolicy
from accessctl.policies.documents import RoleDocument
from accessctl.policies.source import PolicySource
from accessctl.policies.validate import checked_source


def load_policy(path: Path | str, *, version: str | None = None) -> CompiledPolicy:
    """Validate and compile the policy directory; raises `InvalidPolicy` listing every problem.

    The version defaults to a digest of the files, so the same documents always compile to the same version.
    """
    source, problems = checked_source(Path(path))
    if problems:
        raise InvalidPolicy(problems)
    return compile_policy(source, version=version or source.digest)


def compile_policy(source: PolicySource, *, version: str) -> CompiledPolicy:
    """The compiled form of a source that `checked_source` found no problem in."""
    assert source.resource_types is not None, "checked_source reports a missing resource-types.yaml"
    catalogue = source.resource_types.document.resource_types
    resource_types = {
        entry.name: ResourceType(name=entry.name, description=entry.description, patient_bound=entry.patient_bound)
        for entry in catalogue
    }
    roles = {role.document.id: compile_role(role.document) for role in source.roles}
    actions = frozenset(action for entry in catalogue for action in entry.actions)
    return CompiledPolicy(
        version=version, roles=dict(sorted(roles.items())), resource_types=resource_types, actions=actions
    )


def compile_role(document: RoleDocument) -> CompiledRole:
    """One role document as the engine reads it."""
    return CompiledRole(
        id=document.id,
        name=document.name,
        permissions=tuple(
            Permission(resource_type=permission.resource_type, action=action, scope=permission.scope)
            for permission in document.permissions
            for action in permission.actions
        ),
        services=frozenset(document.services),
        shielded_services=frozenset(document.shielded_services),
        position_rules=tuple(
            PositionRule(position_codes=frozenset(rule.positions), services=frozenset(rule.services))
            for rule in document.assign
        ),
        break_glass=document.break_glass.allowed,
        break_glass_max_minutes=document.break_glass.max_minutes if document.break_glass.allowed else 0,
        address_categories=frozenset(document.address_access),
    )
