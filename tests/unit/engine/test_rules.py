"""DESIGN §2's seven rules, their order, and every reason code, one row per behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from accessctl.engine import (
    DEFAULT_BREAK_GLASS_REASONS,
    AccessRequest,
    BreakGlassGrantFacts,
    BreakGlassOffer,
    CareRelationFacts,
    PatientBlockFacts,
    Reason,
)

from .worlds import LONG_AGO, NOW, OTHER_PATIENT, PATIENT, SHIELDED, engine_with, note_read


def relation(user: str | None = None, unit: str | None = None, kind: str = "admission") -> CareRelationFacts:
    return CareRelationFacts(f"cr-{user or unit}", PATIENT, kind, LONG_AGO, None, user_id=user, unit_id=unit)


def block(user: str | None = None, unit: str | None = None, category: str | None = None) -> PatientBlockFacts:
    return PatientBlockFacts(
        f"b-{user or unit or category}",
        PATIENT,
        LONG_AGO,
        None,
        user_id=user,
        unit_id=unit,
        category=category,
    )


def grant(user: str, expires_in: timedelta = timedelta(minutes=55)) -> BreakGlassGrantFacts:
    return BreakGlassGrantFacts(
        f"g-{user}", user, PATIENT, "ward", "emergency", NOW - timedelta(minutes=5), NOW + expires_in
    )


def offer(minutes: int) -> BreakGlassOffer:
    return BreakGlassOffer(True, DEFAULT_BREAK_GLASS_REASONS, minutes)


@dataclass(frozen=True)
class Case:
    name: str
    request: AccessRequest
    reason: Reason
    relations: tuple[CareRelationFacts, ...] = ()
    blocks: tuple[PatientBlockFacts, ...] = ()
    grants: tuple[BreakGlassGrantFacts, ...] = ()
    roles: tuple[str, ...] | None = None
    break_glass: BreakGlassOffer | str | None = field(default="unchecked")


NINA_CARES = (relation(user="nina"),)
CASES = [
    # Rule 1: who asks, from where.
    Case("unknown_user_is_denied", note_read("ghost", "ward"), Reason.UNKNOWN_SUBJECT),
    Case(
        "inactive_user_with_grant_is_denied_as_inactive",
        note_read("olga", "ward"),
        Reason.SUBJECT_INACTIVE,
        relations=(relation(user="olga"),),
        grants=(grant("olga"),),
    ),
    Case("acting_unit_without_employment_is_denied", note_read("nina", "medicine"), Reason.NOT_EMPLOYED_IN_UNIT),
    Case("missing_acting_unit_is_denied", note_read("nina", None), Reason.NOT_EMPLOYED_IN_UNIT),
    Case(
        "organisation_going_live_later_is_denied",
        note_read("fred", "not-yet-unit"),
        Reason.ORGANISATION_NOT_LIVE,
    ),
    Case(
        "organisation_without_agreement_is_denied",
        note_read("ulla", "unsigned-unit"),
        Reason.ORGANISATION_NOT_LIVE,
    ),
    Case(
        "organisation_without_go_live_is_denied",
        note_read("nora", "no-date-unit"),
        Reason.ORGANISATION_NOT_LIVE,
    ),
    # Rule 2: the role layer.
    Case(
        "unknown_resource_type_is_denied",
        note_read("nina", "ward", resource_type="lab.result"),
        Reason.UNKNOWN_RESOURCE_TYPE,
    ),
    Case("employment_without_role_grants_nothing", note_read("erik", "ward"), Reason.NO_PERMISSION),
    Case(
        "action_no_role_grants_is_denied_even_with_grant",
        note_read("nina", "ward", action="sign"),
        Reason.NO_PERMISSION,
        grants=(grant("nina"),),
    ),
    Case(
        "patient_bound_type_without_patient_is_denied",
        note_read("nina", "ward", patient=None),
        Reason.PATIENT_REQUIRED,
        roles=("nurse",),
    ),
    # Rule 3: blocks.
    Case(
        "named_user_block_beats_break_glass_grant",
        note_read("nina", "ward"),
        Reason.BLOCKED_FOR_USER,
        relations=NINA_CARES,
        blocks=(block(user="nina"),),
        grants=(grant("nina"),),
        break_glass=None,
    ),
    Case(
        "protected_address_is_hidden_even_with_grant",
        note_read("nina", "ward", categories=frozenset({"protected_address"})),
        Reason.PROTECTED_ADDRESS,
        relations=NINA_CARES,
        blocks=(block(category="protected_address"),),
        grants=(grant("nina"),),
        break_glass=None,
    ),
    Case(
        "role_holding_the_address_category_sees_the_protected_address",
        note_read("rolf", "surgery", categories=frozenset({"protected_address"})),
        Reason.PERMIT_ORGANISATION,
        blocks=(block(category="protected_address"),),
        roles=("records_officer",),
    ),
    Case(
        "block_against_acting_unit_denies_with_offer",
        note_read("nina", "ward"),
        Reason.BLOCKED_FOR_UNIT,
        relations=NINA_CARES,
        blocks=(block(unit="ward"),),
        break_glass=offer(240),
    ),
    Case(
        "block_against_a_unit_above_covers_its_subunits",
        note_read("nina", "ward"),
        Reason.BLOCKED_FOR_UNIT,
        relations=NINA_CARES,
        blocks=(block(unit="medicine"),),
    ),
    Case(
        "block_against_a_category_the_record_carries_denies_with_offer",
        note_read("nina", "ward", categories=frozenset({"psychiatry"})),
        Reason.BLOCKED_CATEGORY,
        relations=NINA_CARES,
        blocks=(block(category="psychiatry"),),
        break_glass=offer(240),
    ),
    Case(
        "category_block_leaves_records_without_that_category_alone",
        note_read("nina", "ward"),
        Reason.PERMIT_CARE_RELATION,
        relations=NINA_CARES,
        blocks=(block(category="psychiatry"),),
    ),
    # Rule 4: shielded services.
    Case(
        "shielded_service_needs_a_unit_providing_it",
        note_read("nina", "ward", service=SHIELDED),
        Reason.SHIELDED_SERVICE,
        relations=NINA_CARES,
        break_glass=offer(240),
    ),
    Case(
        "shielded_service_is_read_through_the_shielded_role_only",
        note_read("pia", "psych", service=SHIELDED),
        Reason.PERMIT_CARE_RELATION,
        relations=(relation(user="pia"),),
        roles=("psychiatrist",),
    ),
    # Rule 5: scopes.
    Case(
        "no_care_relation_denies_with_offer",
        note_read("nina", "ward"),
        Reason.NO_CARE_RELATION,
        roles=("nurse",),
        break_glass=offer(240),
    ),
    Case(
        "relation_with_the_acting_unit_permits",
        note_read("nina", "ward"),
        Reason.PERMIT_CARE_RELATION,
        relations=(relation(unit="ward"),),
    ),
    Case(
        "relation_with_another_patient_does_not_count",
        note_read("nina", "ward", patient=OTHER_PATIENT),
        Reason.NO_CARE_RELATION,
        relations=NINA_CARES,
    ),
    Case(
        "unit_scope_permits_data_of_the_acting_unit",
        note_read("kari", "ward", action="print"),
        Reason.PERMIT_UNIT,
    ),
    Case(
        "unit_scope_denies_data_of_the_parent_unit",
        note_read("kari", "ward", action="print", resource_unit="medicine"),
        Reason.OUTSIDE_SCOPE,
        break_glass=None,
    ),
    Case(
        "unit_scope_denies_patient_data_without_a_resource_unit",
        note_read("kari", "ward", action="print", resource_unit=None),
        Reason.OUTSIDE_SCOPE,
    ),
    Case(
        "subtree_scope_permits_data_below_the_acting_unit",
        note_read("dag", "medicine"),
        Reason.PERMIT_UNIT_SUBTREE,
    ),
    Case(
        "subtree_scope_denies_data_in_a_sibling_unit",
        note_read("dag", "medicine", resource_unit="surgery"),
        Reason.OUTSIDE_SCOPE,
        break_glass=offer(60),
    ),
    Case(
        "organisation_scope_permits_data_in_the_same_trust",
        note_read("rolf", "surgery"),
        Reason.PERMIT_ORGANISATION,
    ),
    Case(
        "organisation_scope_denies_data_of_another_organisation",
        note_read("rolf", "surgery", resource_unit="gp"),
        Reason.OUTSIDE_SCOPE,
    ),
    Case("self_scope_permits_the_users_own_record", note_read("selma", "gp"), Reason.PERMIT_SELF),
    Case(
        "self_scope_denies_someone_elses_record",
        note_read("selma", "gp", patient=OTHER_PATIENT),
        Reason.OUTSIDE_SCOPE,
    ),
    Case("any_scope_permits", note_read("aud", "ward", resource_unit="gp"), Reason.PERMIT_ANY),
    Case(
        "broadest_scope_names_the_decision_and_every_granting_role_is_listed",
        note_read("vera", "medicine"),
        Reason.PERMIT_ANY,
        roles=("auditor", "doctor"),
    ),
    Case(
        "only_roles_whose_scope_holds_are_listed",
        note_read("vera", "medicine", resource_unit="gp"),
        Reason.PERMIT_ANY,
        roles=("auditor",),
    ),
    # Rule 6: break-the-glass.
    Case(
        "grant_opens_a_missing_care_relation",
        note_read("nina", "ward"),
        Reason.PERMIT_BREAK_GLASS,
        grants=(grant("nina"),),
        roles=("nurse",),
    ),
    Case(
        "grant_opens_a_unit_block",
        note_read("nina", "ward"),
        Reason.PERMIT_BREAK_GLASS,
        relations=NINA_CARES,
        blocks=(block(unit="ward"),),
        grants=(grant("nina"),),
    ),
    Case(
        "grant_opens_a_category_block",
        note_read("nina", "ward", categories=frozenset({"psychiatry"})),
        Reason.PERMIT_BREAK_GLASS,
        blocks=(block(category="psychiatry"),),
        grants=(grant("nina"),),
    ),
    Case(
        "grant_opens_a_shielded_service",
        note_read("nina", "ward", service=SHIELDED),
        Reason.PERMIT_BREAK_GLASS,
        grants=(grant("nina"),),
    ),
    Case(
        "grant_of_another_user_opens_nothing",
        note_read("nina", "ward"),
        Reason.NO_CARE_RELATION,
        grants=(grant("dag"),),
    ),
    Case(
        "grant_expiring_this_very_second_opens_nothing",
        note_read("nina", "ward"),
        Reason.NO_CARE_RELATION,
        grants=(grant("nina", expires_in=timedelta(0)),),
    ),
    Case(
        "grant_expiring_next_second_still_opens",
        note_read("nina", "ward"),
        Reason.PERMIT_BREAK_GLASS,
        grants=(grant("nina", expires_in=timedelta(seconds=1)),),
    ),
    # Rule 7: the offer only when a held role allows break-the-glass.
    Case(
        "no_offer_when_no_held_role_may_break_the_glass",
        note_read("rolf", "surgery", resource_unit="gp"),
        Reason.OUTSIDE_SCOPE,
        break_glass=None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rule(case: Case) -> None:
    engine = engine_with(case.relations, case.blocks, case.grants)

    decision = engine.decide(case.request, NOW)

    assert decision.reason == case.reason
    assert decision.allowed is case.reason.startswith("permit_")
    assert decision.policy_version == "test-1"
    if case.roles is not None:
        assert decision.roles == case.roles
    if case.break_glass != "unchecked":
        assert decision.break_glass == case.break_glass
    if decision.reason == Reason.PERMIT_BREAK_GLASS:
        assert decision.grant_id == case.grants[0].id
    else:
        assert decision.grant_id is None


def test_every_reason_code_is_pinned_by_a_row() -> None:
    assert {c.reason for c in CASES} == set(Reason)


def test_care_relation_permit_names_the_relation_kind() -> None:
    engine = engine_with(care_relations=(relation(user="nina", kind="referral"),))

    assert engine.decide(note_read("nina", "ward"), NOW).care_relation_kind == "referral"


def test_request_without_patient_or_resource_unit_is_decided_by_the_role_layer_alone() -> None:
    """Stock Casbin sees only (user, unit, type, action); with nothing more named, the service agrees (DESIGN §3)."""
    engine = engine_with()
    report = AccessRequest(user_id="dag", unit_id="medicine", action="read", resource_type="report.activity")

    assert engine.decide(report, NOW).reason == Reason.PERMIT_UNIT


def test_report_of_another_unit_is_outside_a_unit_scope() -> None:
    """Naming where the data lives holds a unit-scoped report viewer to their own unit (rule 5)."""
    engine = engine_with()
    report = AccessRequest(user_id="dag", unit_id="medicine", action="read", resource_type="report.activity")

    assert engine.decide(replace(report, resource_unit="medicine"), NOW).reason == Reason.PERMIT_UNIT
    assert engine.decide(replace(report, resource_unit="gp"), NOW).reason == Reason.OUTSIDE_SCOPE
