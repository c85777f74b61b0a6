"""Snapshot: every fact the engine decides on, as plain data, the way a loader hands it over."""

from __future__ import annotations

from dataclasses import dataclass, field

from accessctl.engine.types import (
    AssignmentFacts,
    BreakGlassGrantFacts,
    CareRelationFacts,
    EmploymentFacts,
    OrganisationFacts,
    PatientBlockFacts,
    UnitFacts,
    UserFacts,
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The directory and the patient context at one moment; the engine indexes it and never mutates it.

    All datetimes must be timezone-aware. `shielded_services` are the catalogue's shielded service ids.
    """

    organisations: tuple[OrganisationFacts, ...] = ()
    units: tuple[UnitFacts, ...] = ()
    users: tuple[UserFacts, ...] = ()
    employments: tuple[EmploymentFacts, ...] = ()
    assignments: tuple[AssignmentFacts, ...] = ()
    care_relations: tuple[CareRelationFacts, ...] = ()
    blocks: tuple[PatientBlockFacts, ...] = ()
    grants: tuple[BreakGlassGrantFacts, ...] = ()
    shielded_services: frozenset[str] = field(default_factory=frozenset)
