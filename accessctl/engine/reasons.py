"""The stable, machine-readable reason codes a Decision carries (DESIGN §2).

Callers, audit records and the patient portal key on these strings: never rename one, only add.

| rule | code | decision | when |
| --- | --- | --- | --- |
| 1 | `unknown_subject` | deny | the user id is not in the directory |
| 1 | `subject_inactive` | deny | the user is not active (leaver, suspended) |
| 1 | `not_employed_in_unit` | deny | no acting unit, or no employment/assignment valid now in it |
| 1 | `organisation_not_live` | deny | the acting unit's organisation: no or future go-live, or no agreement |
| 2 | `unknown_resource_type` | deny | the resource type is not in the published policy |
| 2 | `no_permission` | deny | no role held in the acting unit grants (resource type, action) |
| 2 | `patient_required` | deny | a role grants, but the type is patient-bound and no patient is named |
| 3 | `blocked_for_user` | deny | a block names this user; nothing opens it, not even break-the-glass |
| 3 | `protected_address` | deny | a blocked address category no granting role holds; never break-the-glass |
| 3 | `blocked_for_unit` | deny | a block names the acting unit or a unit above it |
| 3 | `blocked_category` | deny | a block names a category the record carries |
| 4 | `shielded_service` | deny | shielded service; no granting role for it, or the unit does not provide it |
| 5 | `no_care_relation` | deny | a granting scope is `care_relation` and no relation is active |
| 5 | `outside_scope` | deny | every granting scope is unit/subtree/organisation/self and none holds |
| 5 | `permit_care_relation` | permit | an active care relation between the patient and user or acting unit |
| 5 | `permit_unit` | permit | the data lives in the acting unit |
| 5 | `permit_unit_subtree` | permit | the data lives in the acting unit or below it |
| 5 | `permit_organisation` | permit | the data lives in the acting unit's organisation |
| 5 | `permit_self` | permit | the patient is the user themself |
| 5 | `permit_any` | permit | the permission has no limit |
| 6 | `permit_break_glass` | permit | an active break-the-glass grant opened rules 3 (unit/category), 4, 5 |

Rule 7 has no code of its own: the deny of rule 3, 4 or 5 stands, with a break-the-glass offer when a role
held in the acting unit allows it.
"""

from __future__ import annotations

from enum import StrEnum

from accessctl.engine.types import Scope


class Reason(StrEnum):
    UNKNOWN_SUBJECT = "unknown_subject"
    SUBJECT_INACTIVE = "subject_inactive"
    NOT_EMPLOYED_IN_UNIT = "not_employed_in_unit"
    ORGANISATION_NOT_LIVE = "organisation_not_live"
    UNKNOWN_RESOURCE_TYPE = "unknown_resource_type"
    NO_PERMISSION = "no_permission"
    PATIENT_REQUIRED = "patient_required"
    BLOCKED_FOR_USER = "blocked_for_user"
    PROTECTED_ADDRESS = "protected_address"
    BLOCKED_FOR_UNIT = "blocked_for_unit"
    BLOCKED_CATEGORY = "blocked_category"
    SHIELDED_SERVICE = "shielded_service"
    NO_CARE_RELATION = "no_care_relation"
    OUTSIDE_SCOPE = "outside_scope"
    PERMIT_CARE_RELATION = "permit_care_relation"
    PERMIT_UNIT = "permit_unit"
    PERMIT_UNIT_SUBTREE = "permit_unit_subtree"
    PERMIT_ORGANISATION = "permit_organisation"
    PERMIT_SELF = "permit_self"
    PERMIT_ANY = "permit_any"
    PERMIT_BREAK_GLASS = "permit_break_glass"


DENY_REASONS = frozenset(r for r in Reason if not r.startswith("permit_"))
PERMIT_REASONS = frozenset(r for r in Reason if r.startswith("permit_"))

# Denies that break-the-glass can open, so they come with an offer when a held role allows it (rule 7).
BREAK_GLASS_OPENS = frozenset(
    {
        Reason.BLOCKED_FOR_UNIT,
        Reason.BLOCKED_CATEGORY,
        Reason.SHIELDED_SERVICE,
        Reason.NO_CARE_RELATION,
        Reason.OUTSIDE_SCOPE,
    }
)

# Broadest first: when several roles grant, the decision names the broadest scope that holds.
SCOPE_PREFERENCE: tuple[Scope, ...] = ("any", "organisation", "unit_subtree", "unit", "care_relation", "self")

PERMIT_FOR_SCOPE: dict[Scope, Reason] = {
    "any": Reason.PERMIT_ANY,
    "organisation": Reason.PERMIT_ORGANISATION,
    "unit_subtree": Reason.PERMIT_UNIT_SUBTREE,
    "unit": Reason.PERMIT_UNIT,
    "care_relation": Reason.PERMIT_CARE_RELATION,
    "self": Reason.PERMIT_SELF,
}

# The break-the-glass reason codes a clinical system offers when nothing else is configured.
DEFAULT_BREAK_GLASS_REASONS: tuple[str, ...] = (
    "emergency",
    "unconscious_patient",
    "patient_consent",
    "urgent_referral",
)
