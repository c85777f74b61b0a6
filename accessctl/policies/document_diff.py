"""What changed between two sets of policy documents beyond permissions: each role's other fields, and every file.

Approvers approve documents, not only permissions: a role gaining protected-address access, a longer break-the-glass
limit, a new position rule or a catalogue edit (a service made unshielded) changes decisions as much as a permission
does, so each shows in the diff.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accessctl.engine.types import CompiledRole


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a role document, before and after, as JSON-ready values (None: the role did not exist)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class FileChange:
    """One policy file (role document, catalogue or access-test file) added, removed or changed, as a unified diff."""

    path: str
    status: str  # "added", "removed" or "changed"
    lines: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "lines": list(self.lines)}


def role_fields(role: CompiledRole | None) -> dict[str, Any]:
    """Every field of a compiled role but its permissions (the diff lists those apart), JSON-ready."""
    if role is None:
        return {}
    return {
        "name": role.name,
        "services": sorted(role.services),
        "shielded_services": sorted(role.shielded_services),
        "address_access": sorted(role.address_categories),
        "break_glass": {"allowed": role.break_glass, "max_minutes": role.break_glass_max_minutes},
        "assign": [
            {"positions": sorted(rule.position_codes), "services": sorted(rule.services)}
            for rule in role.position_rules
        ],
    }


def field_changes(old: CompiledRole | None, new: CompiledRole | None) -> tuple[FieldChange, ...]:
    """The fields whose value differs; a role added or removed lists every field against None."""
    before, after = role_fields(old), role_fields(new)
    return tuple(
        FieldChange(name, before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    )


def file_changes(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[FileChange, ...]:
    """Every file whose text differs, by path, with its unified diff."""
    changes: list[FileChange] = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "changed"
        lines = difflib.unified_diff(
            (before or "").splitlines(), (after or "").splitlines(), f"a/{path}", f"b/{path}", lineterm=""
        )
        changes.append(FileChange(path, status, tuple(lines)))
    return tuple(changes)
