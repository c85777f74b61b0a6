"""Exports the compiled policy and the role assignments as stock Casbin files (`model.conf`, `policy.csv`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from accessctl.engine.types import AssignmentFacts, CompiledPolicy
from accessctl.errors import InvalidInput

# The same text as `policies/model.conf` (a test keeps them equal): RBAC with domains, the domain is the unit.
MODEL_CONF = """\
# accessctl's role permissions as a Casbin model: RBAC with domains, where the domain is the unit.
# A request is (user, acting unit, resource type, action). `g, user, role, unit` lines give a user a role in
# one unit; `p, role, resource_type, action` lines give a role a permission. Patient rules (care relations,
# blocks, shielding, break-the-glass) are data the engine looks up, not policy lines.
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.obj == p.obj && r.act == p.act
"""

# Casbin's CSV reader splits on commas outside brackets, strips spaces and skips lines starting with '#':
# an id that could be misread is refused rather than written.
_CASBIN_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@/+-]*$")


def policy_lines(policy: CompiledPolicy) -> list[str]:
    """`p, role, resource_type, action` for every permission of every role, sorted and without repeats."""
    lines = {
        f"p, {role.id}, {permission.resource_type}, {permission.action}"
        for role in policy.roles.values()
        for permission in role.permissions
    }
    return sorted(lines)


def grouping_lines(assignments: Iterable[AssignmentFacts], now: datetime, *, role_ids: Iterable[str] = ()) -> list[str]:
    """`g, user, role, unit` for each assignment valid at `now`, sorted and without repeats.

    The caller has already left out inactive users and organisations that are not live. `role_ids` are refused
    as user ids: Casbin's `g()` treats a name as holding itself, so such a user would hold that role anywhere.
    """
    roles = frozenset(role_ids)
    lines: set[str] = set()
    for assignment in assignments:
        if not (assignment.valid_from <= now and (assignment.valid_to is None or now < assignment.valid_to)):
            continue
        for field, value in (
            ("user_id", assignment.user_id),
            ("role_id", assignment.role_id),
            ("unit_id", assignment.unit_id),
        ):
            if not _CASBIN_SAFE_ID.match(value):
                raise InvalidInput(f"{field} {value!r} cannot be written to a Casbin policy line", field=field)
        if assignment.user_id in roles:
            raise InvalidInput(f"user id {assignment.user_id!r} is also a role id", field="user_id")
        lines.add(f"g, {assignment.user_id}, {assignment.role_id}, {assignment.unit_id}")
    return sorted(lines)


def write_export(
    out_dir: Path | str, policy: CompiledPolicy, assignments: Iterable[AssignmentFacts], now: datetime
) -> tuple[Path, Path]:
    """Write `model.conf` and `policy.csv` for stock Casbin into `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path, policy_path = out / "model.conf", out / "policy.csv"
    model_path.write_text(MODEL_CONF, encoding="utf-8")
    policy_path.write_text(policy_csv(policy, assignments, now), encoding="utf-8")
    return model_path, policy_path


def policy_csv(policy: CompiledPolicy, assignments: Iterable[AssignmentFacts], now: datetime) -> str:
    """The text of `policy.csv`: the policy's `p` lines and the `g` lines of the assignments valid at `now`."""
    header = [f"# accessctl policy {policy.version}, role assignments valid at {now.isoformat()}"]
    body = policy_lines(policy) + grouping_lines(assignments, now, role_ids=policy.roles)
    return "\n".join(header + body) + "\n"
