"""AuthZEN search over the engine: who may do an action on a resource, and what a user may do with one.

Both answers are exact and complete by construction: every permit needs rule 2, a role held in the acting unit
that grants (resource type, action); so the candidates are exactly the (user, unit) pairs holding such a role
now, and each candidate is then put through `evaluate`, the rules an evaluation runs (bypassing the decision
cache, so a search does not evict the hot entries). Nothing is truncated: the caller pages through the sorted
result.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from accessctl.engine.engine import Engine
from accessctl.engine.evaluate import evaluate
from accessctl.engine.types import AccessRequest


def _granting_roles(engine: Engine, resource_type: str, action: str) -> frozenset[str]:
    permissions = engine.world.roles.permissions
    return frozenset(role for role, granted in permissions.items() if (resource_type, action) in granted)


def subjects_permitted(engine: Engine, template: AccessRequest, now: datetime) -> list[str]:
    """User ids that would be permitted `template` from at least one of their units, sorted."""
    roles = _granting_roles(engine, template.resource_type, template.action)
    if not roles:
        return []
    world = engine.world
    permitted: list[str] = []
    for user_id, units in world.directory.acting.items():
        for unit_id, facts in units.items():
            if not any(role in roles and start <= now < end for role, start, end in facts.assignments):
                continue
            if evaluate(world, replace(template, user_id=user_id, unit_id=unit_id), now)[0].allowed:
                permitted.append(user_id)
                break
    permitted.sort()
    return permitted


def actions_permitted(engine: Engine, template: AccessRequest, now: datetime) -> list[str]:
    """Actions the template's user may take on its resource from its acting unit, sorted."""
    permissions = engine.world.roles.permissions
    candidates = sorted(
        {action for granted in permissions.values() for rt, action in granted if rt == template.resource_type}
    )
    return [a for a in candidates if evaluate(engine.world, replace(template, action=a), now)[0].allowed]
