"""The directory side of the indexes: the unit tree, live organisations, and each user's facts per unit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from accessctl.engine.snapshot import Snapshot
from accessctl.engine.timeline import aware, boundaries, start_of_day, until
from accessctl.engine.types import AssignmentFacts, EmploymentFacts, OrganisationFacts, UnitFacts, UserFacts


@dataclass(frozen=True, slots=True)
class ActingFacts:
    """One user's employments and role assignments in one unit: what rule 1 and rule 2 look up."""

    employments: tuple[tuple[datetime, datetime], ...]
    # (role id, valid_from, valid_to), sorted by role id so decisions list roles in a stable order.
    assignments: tuple[tuple[str, datetime, datetime], ...]
    edges: tuple[datetime, ...]


@dataclass(slots=True)
class Directory:
    """Organisations, units and users, indexed for hash lookups at decision time."""

    unit_org: dict[str, str]
    # Each unit with every unit above it, itself included: `unit_subtree` and unit blocks are one set lookup.
    unit_lineage: dict[str, frozenset[str]]
    unit_services: dict[str, frozenset[str]]
    org_live_from: dict[str, datetime | None]
    users: dict[str, UserFacts]
    # user -> unit -> facts; two dict lookups instead of building a (user, unit) key on every decision.
    acting: dict[str, dict[str, ActingFacts]]

    def unit_live_from(self, unit_id: str) -> datetime | None:
        """When the acting unit's organisation went (or goes) live; None when it is not live at all."""
        org = self.unit_org.get(unit_id)
        return None if org is None else self.org_live_from.get(org)


def live_from(org: OrganisationFacts) -> datetime | None:
    """An organisation is live from 00:00 UTC on its go-live date, and only with a signed agreement."""
    if org.go_live is None or not org.agreement_signed:
        return None
    return start_of_day(org.go_live)


def lineages(units: Iterable[UnitFacts]) -> dict[str, frozenset[str]]:
    """Each unit with its ancestors; a parent outside the snapshot, or a cycle, ends the walk."""
    parent = {u.id: u.parent_id for u in units}
    result: dict[str, frozenset[str]] = {}
    for unit_id in parent:
        seen: list[str] = []
        current: str | None = unit_id
        while current is not None and current in parent and current not in seen:
            if current in result:
                seen.extend(result[current])
                break
            seen.append(current)
            current = parent[current]
        result[unit_id] = frozenset(seen)
    return result


def acting_facts(
    employments: Iterable[EmploymentFacts], assignments: Iterable[AssignmentFacts]
) -> dict[str, ActingFacts]:
    """One user's employments and assignments, grouped by unit."""
    jobs: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    roles: dict[str, list[tuple[str, datetime, datetime]]] = defaultdict(list)
    for e in employments:
        jobs[e.unit_id].append((aware(e.valid_from, "employment.valid_from"), until(e.valid_to, "employment")))
    for a in assignments:
        window = (aware(a.valid_from, "assignment.valid_from"), until(a.valid_to, "assignment"))
        roles[a.unit_id].append((a.role_id, *window))
    result: dict[str, ActingFacts] = {}
    for unit_id in jobs.keys() | roles.keys():
        unit_jobs = tuple(jobs.get(unit_id, ()))
        unit_roles = tuple(sorted(roles.get(unit_id, ())))
        edges = boundaries([m for w in unit_jobs for m in w] + [m for _, f, t in unit_roles for m in (f, t)])
        result[unit_id] = ActingFacts(unit_jobs, unit_roles, edges)
    return result


def build_directory(snapshot: Snapshot) -> Directory:
    """Index the directory part of a snapshot."""
    employments: dict[str, list[EmploymentFacts]] = defaultdict(list)
    assignments: dict[str, list[AssignmentFacts]] = defaultdict(list)
    for e in snapshot.employments:
        employments[e.user_id].append(e)
    for a in snapshot.assignments:
        assignments[a.user_id].append(a)
    return Directory(
        unit_org={u.id: u.organisation_id for u in snapshot.units},
        unit_lineage=lineages(snapshot.units),
        unit_services={u.id: u.services for u in snapshot.units},
        org_live_from={o.id: live_from(o) for o in snapshot.organisations},
        users={u.id: u for u in snapshot.users},
        acting={
            user_id: acting_facts(employments.get(user_id, ()), assignments.get(user_id, ()))
            for user_id in employments.keys() | assignments.keys()
        },
    )
