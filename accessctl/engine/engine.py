"""Engine: the compiled indexes, the decision cache, and the changes that keep both current.

Every change to a user's facts bumps that user's generation, every change to a patient's facts bumps that
patient's, and a change to the organisation tree empties the cache; a cached decision is served only under the
generations it was built with, so no change ever lets a stale permit through. A new policy version is a new
Engine, built beside the live one and swapped whole (`with_policy`).

Decisions are taken at the engine's clock (UTC now) unless the caller passes `now`; the client's `request.at`
is not trusted to pick the moment, or a caller could decide in the past, before a revocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from accessctl.engine.cache import CacheKey, DecisionCache
from accessctl.engine.directory import acting_facts, build_directory, lineages, live_from
from accessctl.engine.evaluate import World, evaluate
from accessctl.engine.patients import PatientContext, index_patient
from accessctl.engine.reasons import DEFAULT_BREAK_GLASS_REASONS
from accessctl.engine.roles import build_role_index
from accessctl.engine.snapshot import Snapshot
from accessctl.engine.timeline import aware
from accessctl.engine.types import (
    AccessRequest,
    AssignmentFacts,
    BreakGlassGrantFacts,
    CareRelationFacts,
    CompiledPolicy,
    Decision,
    EmploymentFacts,
    OrganisationFacts,
    PatientBlockFacts,
    UnitFacts,
    UserFacts,
)


class Engine:
    """Answers "may this user do this, now?" from in-memory indexes; never touches a database."""

    __slots__ = (
        "_assignments",
        "_cache",
        "_employments",
        "_max_entries",
        "_organisations",
        "_patient_gen",
        "_units",
        "_user_gen",
        "_world",
        "policy",
    )

    def __init__(
        self,
        policy: CompiledPolicy,
        snapshot: Snapshot,
        *,
        break_glass_reasons: tuple[str, ...] = DEFAULT_BREAK_GLASS_REASONS,
        cache_size: int = 200_000,
    ) -> None:
        self.policy = policy
        self._organisations = {o.id: o for o in snapshot.organisations}
        self._units = {u.id: u for u in snapshot.units}
        self._employments: dict[str, tuple[EmploymentFacts, ...]] = {}
        self._assignments: dict[str, tuple[AssignmentFacts, ...]] = {}
        for e in snapshot.employments:
            self._employments[e.user_id] = (*self._employments.get(e.user_id, ()), e)
        for a in snapshot.assignments:
            self._assignments[a.user_id] = (*self._assignments.get(a.user_id, ()), a)
        self._world = World(
            directory=build_directory(snapshot),
            roles=build_role_index(policy),
            patients=PatientContext(snapshot.care_relations, snapshot.blocks, snapshot.grants),
            shielded_services=frozenset(snapshot.shielded_services),
            break_glass_reasons=tuple(break_glass_reasons),
        )
        self._max_entries = cache_size
        self._cache = DecisionCache(cache_size)
        self._user_gen: dict[str, int] = {}
        self._patient_gen: dict[str, int] = {}

    @property
    def policy_version(self) -> str:
        return self.policy.version

    @property
    def world(self) -> World:
        """The indexes, read-only, for search."""
        return self._world

    def user(self, user_id: str) -> UserFacts | None:
        """What the engine knows of a user (for the audit record's who)."""
        return self._world.directory.users.get(user_id)

    def organisation_of(self, unit_id: str) -> str | None:
        return self._world.directory.unit_org.get(unit_id)

    def decide(self, request: AccessRequest, now: datetime | None = None) -> Decision:
        """Apply DESIGN §2's rules to one request at `now` (default: the current UTC time)."""
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        patient = request.patient
        key: CacheKey = (
            request.user_id,
            request.unit_id,
            request.action,
            request.resource_type,
            patient,
            request.resource_unit,
            request.service,
            request.categories,
        )
        # Read the generations before deciding: a change that lands meanwhile makes this entry stale at once.
        user_gen = self._user_gen.get(request.user_id, 0)
        patient_gen = 0 if patient is None else self._patient_gen.get(patient, 0)
        # Keep this cache: if a tree change swaps in a fresh one meanwhile, this answer lands in the old one.
        cache = self._cache
        entry = cache.get(key)
        if entry is not None:
            decision, lo, hi, entry_user_gen, entry_patient_gen = entry
            if lo <= now < hi and entry_user_gen == user_gen and entry_patient_gen == patient_gen:
                return decision
        decision, lo, hi = evaluate(self._world, request, now)
        cache.put(key, (decision, lo, hi, user_gen, patient_gen))
        return decision

    def clear_cache(self) -> None:
        """Drop every cached decision (swap in an empty cache, so a decision in flight cannot refill it)."""
        self._cache = DecisionCache(self._max_entries)

    @property
    def cached_decisions(self) -> int:
        return len(self._cache)

    # Patient context: care relations, blocks, break-the-glass grants.

    def put_care_relation(self, relation: CareRelationFacts) -> None:
        """Add or replace (by id) a care relation."""
        index_patient((relation,), (), ())  # refuse a bad fact before changing anything
        self._touch_patients(self._world.patients.put_relation(relation))

    def remove_care_relation(self, relation_id: str) -> None:
        self._touch_patients(self._world.patients.remove_relation(relation_id))

    def put_block(self, block: PatientBlockFacts) -> None:
        """Add or replace (by id) a patient block."""
        index_patient((), (block,), ())
        self._touch_patients(self._world.patients.put_block(block))

    def remove_block(self, block_id: str) -> None:
        self._touch_patients(self._world.patients.remove_block(block_id))

    def put_grant(self, grant: BreakGlassGrantFacts) -> None:
        """Add or replace (by id) a break-the-glass grant."""
        index_patient((), (), (grant,))
        self._touch_patients(self._world.patients.put_grant(grant))

    def end_grant(self, grant_id: str, ended_at: datetime | None = None) -> None:
        """End a grant early (at `ended_at`, default now); an unknown grant is left alone."""
        grant = self._world.patients.grant(grant_id)
        if grant is None:
            return
        end = datetime.now(UTC) if ended_at is None else aware(ended_at, "ended_at")
        if grant.ended_at is not None and grant.ended_at <= end:
            return
        self.put_grant(
            BreakGlassGrantFacts(
                id=grant.id,
                user_id=grant.user_id,
                patient=grant.patient,
                unit_id=grant.unit_id,
                reason_code=grant.reason_code,
                valid_from=grant.valid_from,
                expires_at=grant.expires_at,
                ended_at=end,
            )
        )

    def remove_grant(self, grant_id: str) -> None:
        self._touch_patients(self._world.patients.remove_grant(grant_id))

    def _touch_patients(self, patients: Iterable[str]) -> None:
        gens = self._patient_gen
        for patient in patients:
            gens[patient] = gens.get(patient, 0) + 1

    # Directory: joiners, movers, leavers, and the organisation tree.

    def replace_user(
        self,
        user_id: str,
        user: UserFacts | None,
        employments: Iterable[EmploymentFacts] = (),
        assignments: Iterable[AssignmentFacts] = (),
    ) -> None:
        """Replace everything known about one user (joiner, mover, leaver); `user=None` removes them."""
        jobs = tuple(employments)
        roles = tuple(assignments)
        if user is not None and user.id != user_id:
            raise ValueError(f"user facts for {user.id!r} given to replace {user_id!r}")
        if any(e.user_id != user_id for e in jobs) or any(a.user_id != user_id for a in roles):
            raise ValueError(f"employments and assignments must all belong to {user_id!r}")
        per_unit = acting_facts(jobs, roles)  # validates before anything changes
        d = self._world.directory
        if user is None:
            d.users.pop(user_id, None)
        else:
            d.users[user_id] = user
        if per_unit:
            d.acting[user_id] = per_unit
        else:
            d.acting.pop(user_id, None)
        self._employments[user_id] = jobs
        self._assignments[user_id] = roles
        self._user_gen[user_id] = self._user_gen.get(user_id, 0) + 1

    def put_organisation(self, organisation: OrganisationFacts) -> None:
        """Add or change an organisation (go-live, agreement); every cached decision is dropped."""
        self._organisations[organisation.id] = organisation
        self._world.directory.org_live_from[organisation.id] = live_from(organisation)
        self.clear_cache()

    def put_unit(self, unit: UnitFacts) -> None:
        """Add or move a unit in the tree; the lineages are rebuilt and every cached decision is dropped."""
        self._units[unit.id] = unit
        d = self._world.directory
        d.unit_org[unit.id] = unit.organisation_id
        d.unit_services[unit.id] = unit.services
        d.unit_lineage = lineages(self._units.values())
        self.clear_cache()

    # Whole-engine rebuilds.

    def snapshot(self) -> Snapshot:
        """The facts this engine decides on now, including every change applied since it was built."""
        patients = self._world.patients
        return Snapshot(
            organisations=tuple(self._organisations.values()),
            units=tuple(self._units.values()),
            users=tuple(self._world.directory.users.values()),
            employments=tuple(e for jobs in self._employments.values() for e in jobs),
            assignments=tuple(a for roles in self._assignments.values() for a in roles),
            care_relations=patients.all_relations(),
            blocks=patients.all_blocks(),
            grants=patients.all_grants(),
            shielded_services=self._world.shielded_services,
        )

    def with_policy(self, policy: CompiledPolicy) -> Engine:
        """A new engine on a new policy version and this engine's current facts, with an empty cache."""
        return Engine(
            policy,
            self.snapshot(),
            break_glass_reasons=self._world.break_glass_reasons,
            cache_size=self._max_entries,
        )

    def with_snapshot(self, snapshot: Snapshot) -> Engine:
        """A new engine on this policy and a freshly loaded snapshot (a full reload)."""
        return Engine(
            self.policy,
            snapshot,
            break_glass_reasons=self._world.break_glass_reasons,
            cache_size=self._max_entries,
        )
