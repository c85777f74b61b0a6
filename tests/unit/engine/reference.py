"""A small, obviously correct reference for DESIGN §2: straight-line, scans every fact, no indexes, no cache.

The engine must agree with it on every request (hypothesis checks); where they differ, read this first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accessctl.engine import (
    ADDRESS_CATEGORIES,
    DEFAULT_BREAK_GLASS_REASONS,
    AccessRequest,
    BreakGlassOffer,
    CompiledPolicy,
    Decision,
    Snapshot,
)

BROADEST_FIRST = ["any", "organisation", "unit_subtree", "unit", "care_relation", "self"]
OPENED_BY_BREAK_GLASS = {
    "blocked_for_unit",
    "blocked_category",
    "shielded_service",
    "no_care_relation",
    "outside_scope",
}


def reference_decide(
    policy: CompiledPolicy,
    world: Snapshot,
    request: AccessRequest,
    now: datetime,
    break_glass_reasons: tuple[str, ...] = DEFAULT_BREAK_GLASS_REASONS,
) -> Decision:
    version = policy.version

    def valid(valid_from: datetime, valid_to: datetime | None) -> bool:
        return valid_from <= now and (valid_to is None or now < valid_to)

    def deny(reason: str, roles: list[str] | None = None, offer: BreakGlassOffer | None = None) -> Decision:
        return Decision(False, reason, version, tuple(roles or ()), break_glass=offer)

    # Rule 1
    users = [u for u in world.users if u.id == request.user_id]
    if not users:
        return deny("unknown_subject")
    user = users[0]
    if not user.active:
        return deny("subject_inactive")
    unit = request.unit_id
    employed = any(
        e.user_id == user.id and e.unit_id == unit and valid(e.valid_from, e.valid_to) for e in world.employments
    )
    held = sorted(
        {
            a.role_id
            for a in world.assignments
            if a.user_id == user.id and a.unit_id == unit and valid(a.valid_from, a.valid_to)
        }
    )
    if unit is None or not (employed or held):
        return deny("not_employed_in_unit")
    acting = [u for u in world.units if u.id == unit]
    orgs = [o for o in world.organisations if acting and o.id == acting[0].organisation_id]
    today = now.astimezone(UTC).date()
    if not orgs or orgs[0].go_live is None or orgs[0].go_live > today or not orgs[0].agreement_signed:
        return deny("organisation_not_live")

    # Rule 2
    if request.resource_type not in policy.resource_types:
        return deny("unknown_resource_type")
    granting: dict[str, set[str]] = {}
    for role_id in held:
        if role_id in policy.roles:
            scopes: set[str] = {
                p.scope
                for p in policy.roles[role_id].permissions
                if p.resource_type == request.resource_type and p.action == request.action
            }
            if scopes:
                granting[role_id] = scopes
    if not granting:
        return deny("no_permission")
    if request.patient is None:
        if policy.resource_types[request.resource_type].patient_bound:
            return deny("patient_required", sorted(granting))
        if request.resource_unit is not None:
            return _placed(world, request, granting, acting[0].organisation_id, version)
        all_scopes = {s for scopes in granting.values() for s in scopes}
        best = next(s for s in BROADEST_FIRST if s in all_scopes)
        return Decision(True, f"permit_{best}", version, tuple(sorted(granting)))

    patient = request.patient
    # Rule 3
    blocks = [b for b in world.blocks if b.patient == patient and valid(b.valid_from, b.valid_to)]
    if any(b.user_id == user.id for b in blocks):
        return deny("blocked_for_user", sorted(granting))
    addresses = {b.category for b in blocks if b.category in request.categories and b.category in ADDRESS_CATEGORIES}
    if addresses:
        granting = {r: s for r, s in granting.items() if addresses <= policy.roles[r].address_categories}
        if not granting:
            return deny("protected_address")
    lineage = []
    current: str | None = unit
    while current is not None and current not in lineage:
        parents = [u.parent_id for u in world.units if u.id == current]
        if not parents:
            break
        lineage.append(current)
        current = parents[0]
    denial = None
    permit = None
    if any(b.unit_id is not None and b.unit_id in lineage for b in blocks):
        denial = "blocked_for_unit"
    elif any(b.category in request.categories and b.category not in ADDRESS_CATEGORIES for b in blocks):
        denial = "blocked_category"
    else:
        # Rule 4
        candidates = dict(granting)
        if request.service is not None and request.service in world.shielded_services:
            if request.service not in acting[0].services:
                candidates = {}
            candidates = {r: s for r, s in candidates.items() if request.service in policy.roles[r].shielded_services}
            if not candidates:
                denial = "shielded_service"
        if denial is None:
            # Rule 5
            relations = [r for r in world.care_relations if r.patient == patient and valid(r.valid_from, r.valid_to)]
            mine = sorted((r for r in relations if r.user_id == user.id), key=lambda r: r.id)
            units = sorted((r for r in relations if r.unit_id == unit), key=lambda r: r.id)
            relation = (mine + units)[0] if mine + units else None
            unit_of = {u.id: u for u in world.units}
            where = request.resource_unit

            def holds(scope: str) -> bool:
                if scope == "any":
                    return True
                if scope == "self":
                    return user.national_id is not None and user.national_id == patient
                if scope == "care_relation":
                    return relation is not None
                if where is None:
                    return False
                if scope == "unit":
                    return where == unit
                if scope == "unit_subtree":
                    walk: str | None = where
                    seen: list[str] = []
                    while walk is not None and walk in unit_of and walk not in seen:
                        seen.append(walk)
                        walk = unit_of[walk].parent_id
                    return unit in seen
                return where in unit_of and unit_of[where].organisation_id == acting[0].organisation_id

            passing = {r: [s for s in scopes if holds(s)] for r, scopes in candidates.items()}
            passing = {r: s for r, s in passing.items() if s}
            if passing:
                found = {s for scopes in passing.values() for s in scopes}
                best = next(s for s in BROADEST_FIRST if s in found)
                kind = relation.kind if best == "care_relation" and relation is not None else None
                permit = Decision(True, f"permit_{best}", version, tuple(sorted(passing)), care_relation_kind=kind)
            elif any("care_relation" in s for s in candidates.values()):
                denial = "no_care_relation"
            else:
                denial = "outside_scope"
    if permit is not None:
        return permit
    assert denial is not None
    # Rule 6
    grants = sorted(
        (
            g
            for g in world.grants
            if g.user_id == user.id
            and g.patient == patient
            and g.valid_from <= now < g.expires_at
            and (g.ended_at is None or now < g.ended_at)
        ),
        key=lambda g: g.id,
    )
    if grants:
        return Decision(True, "permit_break_glass", version, tuple(sorted(granting)), grant_id=grants[0].id)
    # Rule 7
    offer = None
    glass = [policy.roles[r] for r in held if r in policy.roles and policy.roles[r].break_glass]
    if denial in OPENED_BY_BREAK_GLASS and glass:
        offer = BreakGlassOffer(True, break_glass_reasons, max(r.break_glass_max_minutes for r in glass))
    return deny(denial, sorted(granting), offer)


def _placed(world: Any, request: AccessRequest, granting: dict[str, set[str]], org: str, version: str) -> Decision:
    """Rule 5 for data of no patient that lives in a named unit: walk the tree by hand."""
    unit_of = {u.id: u for u in world.units}
    where = request.resource_unit

    def holds(scope: str) -> bool:
        if scope == "any":
            return True
        if scope == "unit":
            return where == request.unit_id
        if scope == "unit_subtree":
            walk, seen = where, []
            while walk is not None and walk in unit_of and walk not in seen:
                seen.append(walk)
                walk = unit_of[walk].parent_id
            return request.unit_id in seen
        if scope == "organisation":
            return where in unit_of and unit_of[where].organisation_id == org
        return False

    passing = {r: {s for s in scopes if holds(s)} for r, scopes in granting.items()}
    passing = {r: s for r, s in passing.items() if s}
    if not passing:
        return Decision(False, "outside_scope", version, tuple(sorted(granting)))
    found = {s for scopes in passing.values() for s in scopes}
    best = next(s for s in BROADEST_FIRST if s in found)
    return Decision(True, f"permit_{best}", version, tuple(sorted(passing)))
