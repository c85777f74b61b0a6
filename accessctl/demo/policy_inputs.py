"""The policy directory as the demo needs it: the service and position catalogues and the compiled roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from accessctl.engine.types import CompiledPolicy
from accessctl.errors import InvalidPolicy
from accessctl.policies.compile import compile_policy
from accessctl.policies.documents import PositionEntry, ServiceEntry
from accessctl.policies.source import ROLES_DIR
from accessctl.policies.validate import checked_source


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """`policy` is None when the directory has no role documents yet: the demo then loads no roles."""

    services: tuple[ServiceEntry, ...]
    positions: tuple[PositionEntry, ...]
    policy: CompiledPolicy | None = None
    role_descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def professions(self) -> dict[str, str]:
        """Position code -> profession."""
        return {p.code: p.profession for p in self.positions}


def read_policy_inputs(root: Path) -> PolicyInputs:
    """Read and check `root` once; role documents that do not validate raise `InvalidPolicy`."""
    source, problems = checked_source(root)
    has_roles = any((root / ROLES_DIR).glob("*.yaml"))
    if source.services is None or source.positions is None or (has_roles and problems):
        raise InvalidPolicy(problems)
    services = tuple(source.services.document.services)
    positions = tuple(source.positions.document.positions)
    if not has_roles:
        return PolicyInputs(services, positions)
    return PolicyInputs(
        services,
        positions,
        policy=compile_policy(source, version=source.digest),
        role_descriptions={role.document.id: role.document.description for role in source.roles},
    )
