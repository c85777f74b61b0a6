"""Derives role assignments from employments by the role documents' position rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from accessctl.engine.types import AssignmentFacts, CompiledPolicy, EmploymentFacts, UnitFacts

_Window = tuple[datetime, datetime | None]


def derive_assignments(
    policy: CompiledPolicy, employments: Iterable[EmploymentFacts], units: Mapping[str, UnitFacts]
) -> list[AssignmentFacts]:
    """The roles each employment gives in its unit, over its validity window.

    A rule matches when it names the employment's position code and the unit provides one of the rule's
    services (any unit when the rule names none). Windows of the same (user, role, unit) that overlap or touch
    are merged, so the result has no duplicates; it is sorted by user, unit, role and start.
    """
    windows: dict[tuple[str, str, str], list[_Window]] = {}
    for employment in employments:
        unit = units.get(employment.unit_id)
        if unit is None or (employment.valid_to is not None and employment.valid_to <= employment.valid_from):
            continue
        for role in policy.roles.values():
            if any(
                employment.position_code in rule.position_codes and (not rule.services or rule.services & unit.services)
                for rule in role.position_rules
            ):
                key = (employment.user_id, unit.id, role.id)
                windows.setdefault(key, []).append((employment.valid_from, employment.valid_to))
    return [
        AssignmentFacts(user_id=user, role_id=role, unit_id=unit, valid_from=start, valid_to=end)
        for (user, unit, role), spans in sorted(windows.items())
        for start, end in _merged(spans)
    ]


def _merged(spans: list[_Window]) -> list[_Window]:
    """Half-open windows merged where they overlap or touch; None as an end means open-ended."""
    merged: list[_Window] = []
    for start, end in sorted(spans, key=lambda span: span[0]):
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None or start <= last_end:
                merged[-1] = (last_start, None if last_end is None or end is None else max(last_end, end))
                continue
        merged.append((start, end))
    return merged
