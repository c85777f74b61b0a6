"""DESIGN §2's seven rules over the indexes, in order; the first rule that decides, decides.

`evaluate` is pure: it reads the indexes and returns the decision with the window [lo, hi) over which that
decision stays true, built from the starts and ends of every fact it looked at (see `timeline`).

Requests that name no patient and no resource unit are the Casbin layer only, so that stock Casbin on the
exported policy, which sees just (user, unit, resource type, action), gives the same answer (DESIGN §3): rules 1
and 2 decide, and a permit names the broadest scope of the granting roles. A request that names where the data
lives (a report of another unit) is also held to the unit-based scopes of rule 5: a unit-subtree report viewer
does not see another subtree's reports by naming them. A patient-bound resource type without a patient is
`patient_required`.

For requests about a patient, a unit-based scope with no resource unit does not hold (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accessctl.engine.directory import Directory
from accessctl.engine.patients import PatientContext, PatientFacts, Window
from accessctl.engine.reasons import BREAK_GLASS_OPENS, PERMIT_FOR_SCOPE, SCOPE_PREFERENCE, Reason
from accessctl.engine.roles import RoleIndex
from accessctl.engine.timeline import BEGINNING, FOREVER, narrow
from accessctl.engine.types import ADDRESS_CATEGORIES, AccessRequest, BreakGlassOffer, Decision, Scope

Outcome = tuple[Decision, datetime, datetime]
Granting = list[tuple[str, tuple[Scope, ...]]]

_RANK = {scope: rank for rank, scope in enumerate(SCOPE_PREFERENCE)}
_NO_PERMISSIONS: dict[tuple[str, str], tuple[Scope, ...]] = {}
_NO_UNITS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class World:
    """Everything a decision reads: the indexes plus the bits of configuration the rules need."""

    directory: Directory
    roles: RoleIndex
    patients: PatientContext
    shielded_services: frozenset[str]
    break_glass_reasons: tuple[str, ...]


def _active(windows: tuple[Window, ...] | None, now: datetime) -> bool:
    return windows is not None and any(f <= now < t for f, t in windows)


def evaluate(world: World, request: AccessRequest, now: datetime) -> Outcome:
    """Decide one request at `now`."""
    version = world.roles.version
    lo, hi = BEGINNING, FOREVER
    d = world.directory
    user = d.users.get(request.user_id)
    # Rule 1: who is asking, from where.
    if user is None:
        return Decision(False, Reason.UNKNOWN_SUBJECT, version), lo, hi
    if not user.active:
        return Decision(False, Reason.SUBJECT_INACTIVE, version), lo, hi
    unit = request.unit_id
    per_unit = d.acting.get(user.id)
    facts = per_unit.get(unit) if per_unit is not None and unit is not None else None
    if facts is None or unit is None:
        return Decision(False, Reason.NOT_EMPLOYED_IN_UNIT, version), lo, hi
    lo, hi = narrow(facts.edges, now, lo, hi)
    held: list[str] = []
    for role_id, valid_from, valid_to in facts.assignments:
        if valid_from <= now < valid_to and (not held or held[-1] != role_id):
            held.append(role_id)
    if not held and not any(f <= now < t for f, t in facts.employments):
        return Decision(False, Reason.NOT_EMPLOYED_IN_UNIT, version), lo, hi
    live_from = d.unit_live_from(unit)
    if live_from is None or now < live_from:
        if live_from is not None:
            hi = min(hi, live_from)
        return Decision(False, Reason.ORGANISATION_NOT_LIVE, version), lo, hi
    lo = max(lo, live_from)

    # Rule 2: the role layer, what stock Casbin decides.
    patient_bound = world.roles.patient_bound.get(request.resource_type)
    if patient_bound is None:
        return Decision(False, Reason.UNKNOWN_RESOURCE_TYPE, version), lo, hi
    key = (request.resource_type, request.action)
    permissions = world.roles.permissions
    granting: Granting = []
    for role_id in held:
        scopes = permissions.get(role_id, _NO_PERMISSIONS).get(key)
        if scopes:
            granting.append((role_id, scopes))
    if not granting:
        return Decision(False, Reason.NO_PERMISSION, version), lo, hi
    patient = request.patient
    if patient is None:
        roles = tuple(r for r, _ in granting)
        if patient_bound:
            return Decision(False, Reason.PATIENT_REQUIRED, version, roles), lo, hi
        if request.resource_unit is not None:
            return _placed(world, request, granting, unit), lo, hi
        broadest = min((scopes[0] for _, scopes in granting), key=_RANK.__getitem__)
        return Decision(True, PERMIT_FOR_SCOPE[broadest], version, roles), lo, hi

    pf = world.patients.facts.get(patient)
    if pf is not None:
        lo, hi = narrow(pf.edges, now, lo, hi)
    return _patient_rules(world, request, now, held=held, granting=granting, pf=pf), lo, hi


def _patient_rules(
    world: World,
    request: AccessRequest,
    now: datetime,
    *,
    held: list[str],
    granting: Granting,
    pf: PatientFacts | None,
) -> Decision:
    """Rules 3 to 7, for a request that names a patient and passed rules 1 and 2."""
    version = world.roles.version
    user_id = request.user_id
    unit = request.unit_id
    assert unit is not None  # rule 1 denied a request without an acting unit
    denial: Reason | None = None
    if pf is not None:
        # Rule 3: blocks. A block naming the user is final; so is a protected address the roles may not see.
        if _active(pf.user_blocks.get(user_id), now):
            return Decision(False, Reason.BLOCKED_FOR_USER, version, tuple(r for r, _ in granting))
        blocked = [c for c in request.categories if _active(pf.category_blocks.get(c), now)]
        addresses = [c for c in blocked if c in ADDRESS_CATEGORIES]
        if addresses:
            roles = world.roles.roles
            granting = [(r, s) for r, s in granting if all(c in roles[r].address_categories for c in addresses)]
            if not granting:
                return Decision(False, Reason.PROTECTED_ADDRESS, version)
        lineage = world.directory.unit_lineage.get(unit, _NO_UNITS)
        if any(u in lineage and f <= now < t for u, f, t in pf.unit_blocks):
            denial = Reason.BLOCKED_FOR_UNIT
        elif len(addresses) < len(blocked):
            denial = Reason.BLOCKED_CATEGORY
    permit: Decision | None = None
    if denial is None:
        permit, denial = _service_and_scope(world, request, now, granting, pf)
    if permit is not None:
        return permit
    assert denial is not None
    roles_seen = tuple(r for r, _ in granting)
    # Rule 6: an active break-the-glass grant opens what is left (unit and category blocks, rules 4 and 5).
    if pf is not None:
        for valid_from, end, grant_id in pf.grants_by_user.get(user_id, ()):
            if valid_from <= now < end:
                return Decision(True, Reason.PERMIT_BREAK_GLASS, version, roles_seen, grant_id=grant_id)
    # Rule 7: deny, and offer break-the-glass when a role held in the acting unit allows it.
    return Decision(False, denial, version, roles_seen, break_glass=_offer(world, held, denial))


# Without a patient there is no care relation or own record to find: only these scopes can hold.
_PLACE_SCOPES = frozenset({"any", "unit", "unit_subtree", "organisation"})


def _placed(world: World, request: AccessRequest, granting: Granting, unit: str) -> Decision:
    """Rule 5 for data that concerns no patient but lives in a named unit: only unit-based scopes can hold."""
    d = world.directory
    passed = [
        (role_id, scope)
        for role_id, scopes in granting
        for scope in scopes
        if scope in _PLACE_SCOPES
        and _scope_holds(d, scope, unit, request.resource_unit, patient=None, national_id=None)
    ]
    version = world.roles.version
    if not passed:
        return Decision(False, Reason.OUTSIDE_SCOPE, version, tuple(r for r, _ in granting))
    best = min((scope for _, scope in passed), key=_RANK.__getitem__)
    return Decision(True, PERMIT_FOR_SCOPE[best], version, tuple(dict.fromkeys(r for r, _ in passed)))


def _service_and_scope(
    world: World,
    request: AccessRequest,
    now: datetime,
    granting: Granting,
    pf: PatientFacts | None,
) -> tuple[Decision | None, Reason | None]:
    """Rules 4 and 5: the permit, or the reason they deny."""
    unit = request.unit_id
    assert unit is not None
    service = request.service
    roles = world.roles.roles
    d = world.directory
    if service is not None and service in world.shielded_services:
        # Rule 4: only roles shielded for the service, in an acting unit that provides it.
        if service not in d.unit_services.get(unit, _NO_UNITS):
            return None, Reason.SHIELDED_SERVICE
        granting = [(r, s) for r, s in granting if service in roles[r].shielded_services]
        if not granting:
            return None, Reason.SHIELDED_SERVICE
    # Rule 5: the scope of each granting role's permission, broadest first.
    resource_unit = request.resource_unit
    patient = request.patient
    user_id = request.user_id
    national_id = d.users[user_id].national_id
    found: dict[Scope, bool] = {}
    relation_kind: str | None = None
    best = len(SCOPE_PREFERENCE)
    passed: list[str] = []
    wanted_relation = False
    for role_id, scopes in granting:
        for scope in scopes:
            holds = found.get(scope)
            if holds is None:
                if scope == "care_relation":
                    relation_kind = _relation_kind(pf, user_id, unit, now)
                    holds = relation_kind is not None
                else:
                    holds = _scope_holds(d, scope, unit, resource_unit, patient=patient, national_id=national_id)
                found[scope] = holds
            if scope == "care_relation":
                wanted_relation = True
            if holds:
                passed.append(role_id)
                best = min(best, _RANK[scope])
                break
    if not passed:
        return None, Reason.NO_CARE_RELATION if wanted_relation else Reason.OUTSIDE_SCOPE
    scope = SCOPE_PREFERENCE[best]
    kind = relation_kind if scope == "care_relation" else None
    decision = Decision(True, PERMIT_FOR_SCOPE[scope], world.roles.version, tuple(passed), care_relation_kind=kind)
    return decision, None


def _scope_holds(
    d: Directory,
    scope: Scope,
    unit: str,
    resource_unit: str | None,
    *,
    patient: str | None,
    national_id: str | None,
) -> bool:
    """Whether a scope other than care_relation holds (a missing resource unit: see the module docstring)."""
    if scope == "any":
        return True
    if scope == "self":
        return national_id is not None and national_id == patient
    if resource_unit is None:
        return False
    if scope == "unit":
        return resource_unit == unit
    if scope == "unit_subtree":
        return unit in d.unit_lineage.get(resource_unit, _NO_UNITS)
    # organisation
    org = d.unit_org.get(resource_unit)
    return org is not None and org == d.unit_org.get(unit)


def _relation_kind(pf: PatientFacts | None, user_id: str, unit: str, now: datetime) -> str | None:
    """The kind of the first active care relation with the user, else with the acting unit."""
    if pf is None:
        return None
    for entries in (pf.relations_by_user.get(user_id, ()), pf.relations_by_unit.get(unit, ())):
        for valid_from, valid_to, _, kind in entries:
            if valid_from <= now < valid_to:
                return kind
    return None


def _offer(world: World, held: list[str], denial: Reason) -> BreakGlassOffer | None:
    if denial not in BREAK_GLASS_OPENS:
        return None
    roles = world.roles.roles
    minutes = [roles[r].break_glass_max_minutes for r in held if r in roles and roles[r].break_glass]
    if not minutes:
        return None
    return BreakGlassOffer(True, world.break_glass_reasons, max(minutes))
