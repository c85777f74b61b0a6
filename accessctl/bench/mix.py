"""A realistic mix of decision requests drawn from a loaded region's own users, units and patients."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from accessctl.engine import AccessRequest, CompiledPolicy, Permission, Snapshot
from accessctl.engine.directory import live_from

# Share of each kind in the mix: patients on a user's own list, patients of the user's unit (admitted, home care,
# appointments), patients the user has no relation to, reports, and resource types no role of the user grants.
SHARES = (("own_patient", 0.35), ("unit_patient", 0.25), ("other_patient", 0.20), ("report", 0.10), ("no_role", 0.10))
PATIENT_KINDS = frozenset({"own_patient", "unit_patient", "other_patient"})


@dataclass(frozen=True, slots=True)
class MixedRequest:
    """One request of the mix, with the kind of situation it stands for."""

    kind: str
    request: AccessRequest


@dataclass(frozen=True, slots=True)
class _Acting:
    user_id: str
    unit_id: str
    roles: tuple[str, ...]


def _valid(valid_from: datetime, valid_to: datetime | None, now: datetime) -> bool:
    return valid_from <= now and (valid_to is None or now < valid_to)


def acting_pairs(snapshot: Snapshot, now: datetime) -> list[_Acting]:
    """(active user, unit of a live organisation, roles held there now), in a stable order."""
    active = {u.id for u in snapshot.users if u.active}
    live = {o.id for o in snapshot.organisations if (start := live_from(o)) is not None and start <= now}
    unit_org = {u.id: u.organisation_id for u in snapshot.units}
    roles: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in snapshot.assignments:
        if a.user_id in active and unit_org.get(a.unit_id) in live and _valid(a.valid_from, a.valid_to, now):
            roles[(a.user_id, a.unit_id)].add(a.role_id)
    return [_Acting(user, unit, tuple(sorted(r))) for (user, unit), r in sorted(roles.items())]


class _Builder:
    """Draws requests of each kind from the region's facts."""

    def __init__(self, policy: CompiledPolicy, snapshot: Snapshot, now: datetime, rng: random.Random) -> None:
        self.policy, self.rng = policy, rng
        self.acting = acting_pairs(snapshot, now)
        if not self.acting:
            raise ValueError("the region has no active user with a role in a live organisation now")
        self.by_user: dict[str, list[_Acting]] = defaultdict(list)
        self.by_unit: dict[str, list[_Acting]] = defaultdict(list)
        for pair in self.acting:
            self.by_user[pair.user_id].append(pair)
            self.by_unit[pair.unit_id].append(pair)
        relations = [r for r in snapshot.care_relations if _valid(r.valid_from, r.valid_to, now)]
        self.user_relations = [r for r in relations if r.user_id in self.by_user]
        self.unit_relations = [r for r in relations if r.unit_id in self.by_unit]
        self.patients = sorted({r.patient for r in snapshot.care_relations})
        if not self.patients:
            raise ValueError("the region has no patients")
        self.all_permissions = sorted({(rt, action) for rt in policy.resource_types for action in policy.actions})

    def _permissions(self, pair: _Acting, patient_bound: bool) -> list[Permission]:
        types = self.policy.resource_types
        return [
            p
            for role in pair.roles
            for p in self.policy.roles[role].permissions
            if p.resource_type in types and types[p.resource_type].patient_bound == patient_bound
        ]

    def _about_patient(self, pair: _Acting, patient: str, resource_unit: str) -> AccessRequest | None:
        permissions = self._permissions(pair, patient_bound=True)
        if not permissions:
            return None
        permission = self.rng.choice(permissions)
        return AccessRequest(
            user_id=pair.user_id,
            unit_id=pair.unit_id,
            action=permission.action,
            resource_type=permission.resource_type,
            resource_id=f"doc-{self.rng.randrange(10**9)}",
            patient=patient,
            resource_unit=resource_unit,
            purpose_of_use="TREAT",
        )

    def draw(self, kind: str) -> AccessRequest | None:
        rng = self.rng
        if kind == "own_patient":
            if not self.user_relations:
                return None
            relation = rng.choice(self.user_relations)
            assert relation.user_id is not None
            pair = rng.choice(self.by_user[relation.user_id])
            return self._about_patient(pair, relation.patient, pair.unit_id)
        if kind == "unit_patient":
            if not self.unit_relations:
                return None
            relation = rng.choice(self.unit_relations)
            assert relation.unit_id is not None
            pair = rng.choice(self.by_unit[relation.unit_id])
            return self._about_patient(pair, relation.patient, relation.unit_id)
        pair = rng.choice(self.acting)
        if kind == "other_patient":
            return self._about_patient(pair, rng.choice(self.patients), rng.choice(self.acting).unit_id)
        if kind == "report":
            permissions = self._permissions(pair, patient_bound=False)
            if not permissions:
                return None
            permission = rng.choice(permissions)
            return AccessRequest(
                pair.user_id, pair.unit_id, permission.action, permission.resource_type, resource_unit=pair.unit_id
            )
        granted = {(p.resource_type, p.action) for role in pair.roles for p in self.policy.roles[role].permissions}
        resource_type, action = rng.choice(self.all_permissions)
        if (resource_type, action) in granted:
            return None
        patient = rng.choice(self.patients) if self.policy.resource_types[resource_type].patient_bound else None
        return AccessRequest(
            pair.user_id,
            pair.unit_id,
            action,
            resource_type,
            resource_id=f"doc-{rng.randrange(10**9)}",
            patient=patient,
            resource_unit=pair.unit_id,
            purpose_of_use="TREAT",
        )


def _draw_many(builder: _Builder, kind: str, wanted: int) -> list[MixedRequest]:
    """Up to `wanted` requests of one kind; a kind the region cannot produce gives up after a while."""
    drawn: list[MixedRequest] = []
    for _ in range(wanted * 50):
        if len(drawn) == wanted:
            break
        request = builder.draw(kind)
        if request is not None:
            drawn.append(MixedRequest(kind, request))
    return drawn


def request_mix(
    policy: CompiledPolicy,
    snapshot: Snapshot,
    now: datetime,
    count: int,
    *,
    seed: int = 1,
    kinds: frozenset[str] = frozenset(dict(SHARES)),
) -> list[MixedRequest]:
    """`count` requests in the shares of `SHARES` (restricted to `kinds`), shuffled, from the region at `now`."""
    rng = random.Random(seed)
    builder = _Builder(policy, snapshot, now, rng)
    shares = [(kind, share) for kind, share in SHARES if kind in kinds]
    total = sum(share for _, share in shares)
    mix: list[MixedRequest] = []
    for kind, share in shares:
        mix += _draw_many(builder, kind, max(1, round(count * share / total)))
    # A small region may lack a kind (no GP list in a live organisation): the kinds it has fill the gap.
    found = sorted({m.kind for m in mix})
    while found and len(mix) < count:
        extra = [m for kind in found for m in _draw_many(builder, kind, 1)]
        if not extra:
            break
        mix += extra
    rng.shuffle(mix)
    return mix[:count]
