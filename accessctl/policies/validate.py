"""Checks that role documents agree with the catalogues and with each other, naming file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accessctl.policies.documents import BREAK_GLASS_MAX_MINUTES, RoleDocument
from accessctl.policies.problems import Problem
from accessctl.policies.source import Located, PolicySource, read_policy_dir
from accessctl.policies.yaml_source import NodePath, dotted


@dataclass(frozen=True, slots=True)
class _Catalogues:
    """What the catalogue files declare; a catalogue that did not parse is None, and is not checked against."""

    services: dict[str, bool] | None  # service id -> shielded
    positions: frozenset[str] | None
    actions: dict[str, frozenset[str]] | None  # resource type -> its actions
    patient_bound: dict[str, bool]


@dataclass(frozen=True, slots=True)
class _PositionClaim:
    role: Located[RoleDocument]
    rule: int
    index: int
    services: frozenset[str]  # empty: every service


def validate_policy_dir(path: Path | str) -> list[Problem]:
    """Every problem in the policy directory, sorted by file and line; empty when it may be compiled."""
    return checked_source(Path(path))[1]


def checked_source(root: Path) -> tuple[PolicySource, list[Problem]]:
    """Read and check the policy directory; the source may be compiled only when the problem list is empty."""
    source, problems = read_policy_dir(root)
    catalogues = _catalogues(source, problems)
    _check_roles(source.roles, catalogues, problems)
    return source, sorted(set(problems))


def _catalogues(source: PolicySource, problems: list[Problem]) -> _Catalogues:
    services: dict[str, bool] = {}
    if source.services:
        for index, service in enumerate(source.services.document.services):
            if service.id in services:
                problems.append(_duplicate(source.services, ("services", index, "id"), f"service {service.id!r}"))
            services[service.id] = service.shielded
    positions: set[str] = set()
    if source.positions:
        for index, position in enumerate(source.positions.document.positions):
            if position.code in positions:
                problems.append(_duplicate(source.positions, ("positions", index, "code"), f"code {position.code!r}"))
            positions.add(position.code)
    actions: dict[str, frozenset[str]] = {}
    patient_bound: dict[str, bool] = {}
    if source.resource_types:
        for index, entry in enumerate(source.resource_types.document.resource_types):
            if entry.name in actions:
                where = ("resource_types", index, "name")
                problems.append(_duplicate(source.resource_types, where, f"resource type {entry.name!r}"))
            actions[entry.name] = frozenset(entry.actions)
            patient_bound[entry.name] = entry.patient_bound
    return _Catalogues(
        services=services if source.services else None,
        positions=frozenset(positions) if source.positions else None,
        actions=actions if source.resource_types else None,
        patient_bound=patient_bound,
    )


def _duplicate(located: Located[object], path: NodePath, what: str) -> Problem:
    return Problem(located.file, located.line(*path), dotted(path), f"duplicate {what}; expected each once")


def _check_roles(roles: tuple[Located[RoleDocument], ...], catalogues: _Catalogues, problems: list[Problem]) -> None:
    first_file: dict[str, str] = {}
    claims: dict[str, list[_PositionClaim]] = {}
    for role in roles:
        document = role.document
        if role.file != f"roles/{document.id}.yaml":
            problems.append(
                _at(
                    role,
                    ("id",),
                    f"id {document.id!r} does not match the file name; expected it in roles/{document.id}.yaml",
                )
            )
        if document.id in first_file:
            problems.append(
                _at(
                    role,
                    ("id",),
                    f"duplicate role id {document.id!r}, also in {first_file[document.id]}; expected each role id once",
                )
            )
        first_file.setdefault(document.id, role.file)
        _check_owner(role, problems)
        _check_services(role, catalogues, problems)
        _check_permissions(role, catalogues, problems)
        _check_break_glass(role, problems)
        for rule_index, rule in enumerate(document.assign):
            for index, code in enumerate(rule.positions):
                if catalogues.positions is not None and code not in catalogues.positions:
                    where = ("assign", rule_index, "positions", index)
                    problems.append(_at(role, where, f"unknown position code {code!r}; expected one of positions.yaml"))
                elif not rule.additive:
                    claim = _PositionClaim(role, rule_index, index, frozenset(rule.services))
                    claims.setdefault(code, []).append(claim)
    _check_position_conflicts(claims, problems)


def _at(role: Located[RoleDocument], path: NodePath, message: str) -> Problem:
    return Problem(role.file, role.line(*path), dotted(path), message)


def _check_owner(role: Located[RoleDocument], problems: list[Problem]) -> None:
    owner = role.document.owner
    if owner.isdigit() and not _valid_organisation_number(owner):
        problems.append(_at(role, ("owner",), f"organisation number {owner} fails its mod-11 check digit"))


def _valid_organisation_number(number: str) -> bool:
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    remainder = sum(int(digit) * weight for digit, weight in zip(number[:8], weights, strict=True)) % 11
    check = (11 - remainder) % 11
    return check != 10 and check == int(number[8])


def _check_services(role: Located[RoleDocument], catalogues: _Catalogues, problems: list[Problem]) -> None:
    document = role.document
    known = catalogues.services
    for index, service in enumerate(document.services):
        if known is not None and service not in known:
            problems.append(
                _at(role, ("services", index), f"unknown service {service!r}; expected one of services.yaml")
            )
    for rule_index, rule in enumerate(document.assign):
        for index, service in enumerate(rule.services):
            if document.services and service not in document.services:
                where = ("assign", rule_index, "services", index)
                problems.append(
                    _at(
                        role,
                        where,
                        f"service {service!r} is not one of the role's services; expected one "
                        f"of: {', '.join(document.services)}",
                    )
                )
    for index, service in enumerate(document.shielded_services):
        shielded_at = ("shielded_services", index)
        if known is None:
            continue
        if service not in known:
            problems.append(_at(role, shielded_at, f"unknown service {service!r}; expected one of services.yaml"))
        elif not known[service]:
            problems.append(_at(role, shielded_at, f"service {service!r} is not shielded; expected a shielded service"))
        elif document.services and service not in document.services:
            problems.append(_at(role, shielded_at, f"shielded service {service!r} is not one of the role's services"))


def _check_permissions(role: Located[RoleDocument], catalogues: _Catalogues, problems: list[Problem]) -> None:
    granted: set[tuple[str, str]] = set()
    for index, permission in enumerate(role.document.permissions):
        resource_type = permission.resource_type
        if catalogues.actions is None:
            continue
        if resource_type not in catalogues.actions:
            problems.append(
                _at(
                    role,
                    ("permissions", index, "resource_type"),
                    f"unknown resource type {resource_type!r}; expected one of resource-types.yaml",
                )
            )
            continue
        if permission.scope == "care_relation" and not catalogues.patient_bound[resource_type]:
            problems.append(
                _at(
                    role,
                    ("permissions", index, "scope"),
                    f"scope care_relation needs patient data, but "
                    f"{resource_type!r} is not patient-bound; expected unit, unit_subtree, organisation, "
                    "self or any",
                )
            )
        valid = catalogues.actions[resource_type]
        for action_index, action in enumerate(permission.actions):
            where = ("permissions", index, "actions", action_index)
            if action not in valid:
                problems.append(
                    _at(
                        role,
                        where,
                        f"unknown action {action!r} for {resource_type!r}; expected one of: {', '.join(sorted(valid))}",
                    )
                )
            elif (resource_type, action) in granted:
                problems.append(
                    _at(
                        role,
                        where,
                        f"{resource_type} {action} is granted twice; expected each "
                        "(resource type, action) once, with one scope",
                    )
                )
            granted.add((resource_type, action))


def _check_break_glass(role: Located[RoleDocument], problems: list[Problem]) -> None:
    break_glass = role.document.break_glass
    where = ("break_glass", "max_minutes")
    if break_glass.allowed and not 1 <= break_glass.max_minutes <= BREAK_GLASS_MAX_MINUTES:
        problems.append(
            _at(
                role,
                where,
                f"max_minutes {break_glass.max_minutes} is out of range; expected 1 to "
                f"{BREAK_GLASS_MAX_MINUTES} when break glass is allowed",
            )
        )
    elif not break_glass.allowed and break_glass.max_minutes:
        problems.append(_at(role, where, "max_minutes is set but break glass is not allowed; expected 0 or no value"))


def _check_position_conflicts(claims: dict[str, list[_PositionClaim]], problems: list[Problem]) -> None:
    """Two roles giving one position in overlapping services conflict unless one of the rules is additive.

    The conflict is reported in both documents, each naming the other, since either may be the one to change.
    """
    for code, code_claims in claims.items():
        for later_index, later in enumerate(code_claims):
            for earlier in code_claims[:later_index]:
                if earlier.role.document.id == later.role.document.id:
                    continue
                if earlier.services and later.services and not earlier.services & later.services:
                    continue
                both = earlier.services and later.services
                overlap = ", ".join(sorted(earlier.services & later.services)) if both else "every service"
                problems.append(_conflict(code, overlap, later, earlier))
                problems.append(_conflict(code, overlap, earlier, later))


def _conflict(code: str, overlap: str, claim: _PositionClaim, other: _PositionClaim) -> Problem:
    other_line = other.role.line("assign", other.rule, "positions", other.index)
    return _at(
        claim.role,
        ("assign", claim.rule, "positions", claim.index),
        f"position {code} in {overlap} is also given by role {other.role.document.id!r} "
        f"({other.role.file}:{other_line}); expected one role per position and service, "
        "or `additive: true` on the rule that comes on top",
    )
