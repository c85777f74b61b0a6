"""The engine's plain-data inputs and outputs. Loaders build these; the engine never touches a database.

Every time window is half-open: valid over [valid_from, valid_to), with valid_to None meaning open-ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Scope = Literal["care_relation", "unit", "unit_subtree", "organisation", "self", "any"]
SCOPES: tuple[Scope, ...] = ("care_relation", "unit", "unit_subtree", "organisation", "self", "any")

# The block categories that are protected addresses: break-the-glass never opens them (DESIGN §2 rule 3).
ADDRESS_CATEGORIES = frozenset({"protected_address", "strictly_protected_address"})


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str
    description: str
    patient_bound: bool


@dataclass(frozen=True, slots=True)
class Permission:
    """One (resource type, action) a role grants, limited by scope."""

    resource_type: str
    action: str
    scope: Scope


@dataclass(frozen=True, slots=True)
class PositionRule:
    """Employments with one of these position codes, in a unit providing one of these services, get the role.

    An empty `services` means: in any unit.
    """

    position_codes: frozenset[str]
    services: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CompiledRole:
    id: str
    name: str
    permissions: tuple[Permission, ...]
    services: frozenset[str] = frozenset()
    shielded_services: frozenset[str] = frozenset()
    position_rules: tuple[PositionRule, ...] = ()
    break_glass: bool = False
    break_glass_max_minutes: int = 0
    # The role may see data under a protected-address category (fortrolig / strengt fortrolig adresse).
    address_categories: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """One published policy version, compiled from the role documents."""

    version: str
    roles: dict[str, CompiledRole]
    resource_types: dict[str, ResourceType]
    actions: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class OrganisationFacts:
    id: str
    go_live: date | None
    agreement_signed: bool


@dataclass(frozen=True, slots=True)
class UnitFacts:
    id: str
    organisation_id: str
    parent_id: str | None
    services: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UserFacts:
    id: str
    active: bool
    hpr_number: str | None = None
    name: str = ""
    # The worker's own national identity number, for the `self` scope (their own record).
    national_id: str | None = None


@dataclass(frozen=True, slots=True)
class EmploymentFacts:
    user_id: str
    unit_id: str
    position_code: str
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True, slots=True)
class AssignmentFacts:
    user_id: str
    role_id: str
    unit_id: str
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True, slots=True)
class CareRelationFacts:
    id: str
    patient: str
    kind: str
    valid_from: datetime
    valid_to: datetime | None
    user_id: str | None = None
    unit_id: str | None = None


@dataclass(frozen=True, slots=True)
class PatientBlockFacts:
    id: str
    patient: str
    valid_from: datetime
    valid_to: datetime | None
    user_id: str | None = None
    unit_id: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class BreakGlassGrantFacts:
    id: str
    user_id: str
    patient: str
    unit_id: str
    reason_code: str
    valid_from: datetime
    expires_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What a clinical system asks, already parsed out of the AuthZEN request."""

    user_id: str
    unit_id: str | None
    action: str
    resource_type: str
    resource_id: str | None = None
    patient: str | None = None
    resource_unit: str | None = None
    service: str | None = None
    confidentiality: str | None = None
    # Categories the record carries (e.g. protected_address), for category blocks.
    categories: frozenset[str] = frozenset()
    purpose_of_use: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BreakGlassOffer:
    available: bool
    reasons: tuple[str, ...] = ()
    max_minutes: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    policy_version: str
    roles: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    break_glass: BreakGlassOffer | None = None
    grant_id: str | None = None
    care_relation_kind: str | None = None
