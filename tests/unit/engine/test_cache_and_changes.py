"""The decision cache never outlives a fact: not past a time boundary, not past a change."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from accessctl.engine import (
    AssignmentFacts,
    BreakGlassGrantFacts,
    CareRelationFacts,
    DecisionCache,
    EmploymentFacts,
    Engine,
    OrganisationFacts,
    PatientBlockFacts,
    Reason,
    UnitFacts,
    UserFacts,
)

from .worlds import LONG_AGO, NOW, PATIENT, POLICY, base_snapshot, engine_with, note_read

SECOND = timedelta(seconds=1)


def nina_relation(valid_to: datetime | None = None) -> CareRelationFacts:
    return CareRelationFacts("cr-1", PATIENT, "admission", LONG_AGO, valid_to, user_id="nina")


def test_relation_that_ended_is_not_served_from_cache() -> None:
    engine = engine_with(care_relations=(nina_relation(valid_to=NOW + timedelta(minutes=10)),))
    request = note_read("nina", "ward")

    assert engine.decide(request, NOW).allowed
    assert engine.decide(request, NOW + timedelta(minutes=10) - SECOND).allowed
    assert engine.decide(request, NOW + timedelta(minutes=10)).reason == Reason.NO_CARE_RELATION


def test_relation_that_starts_later_is_not_served_early_from_cache() -> None:
    later = CareRelationFacts("cr-1", PATIENT, "appointment", NOW + SECOND, None, user_id="nina")
    engine = engine_with(care_relations=(later,))
    request = note_read("nina", "ward")

    assert engine.decide(request, NOW + SECOND).allowed
    assert not engine.decide(request, NOW).allowed


def test_grant_expiry_is_exact_to_the_second_through_the_cache() -> None:
    grant = BreakGlassGrantFacts("g-1", "nina", PATIENT, "ward", "emergency", NOW, NOW + timedelta(minutes=30))
    engine = engine_with(grants=(grant,))
    request = note_read("nina", "ward")

    assert engine.decide(request, NOW + timedelta(minutes=30) - SECOND).reason == Reason.PERMIT_BREAK_GLASS
    assert engine.decide(request, NOW + timedelta(minutes=30)).reason == Reason.NO_CARE_RELATION


def test_assignment_that_ended_is_not_served_from_cache() -> None:
    snapshot = base_snapshot()
    ends = NOW + timedelta(hours=1)
    snapshot = replace(
        snapshot,
        employments=(EmploymentFacts("tina", "ward", "P1", LONG_AGO, ends),),
        assignments=(AssignmentFacts("tina", "auditor", "ward", LONG_AGO, ends),),
        users=(*snapshot.users, UserFacts("tina", active=True)),
    )
    engine = Engine(POLICY, snapshot)
    request = note_read("tina", "ward")

    assert engine.decide(request, NOW).allowed
    assert engine.decide(request, ends).reason == Reason.NOT_EMPLOYED_IN_UNIT


def test_organisation_going_live_is_not_hidden_by_a_cached_deny() -> None:
    engine = engine_with()
    request = note_read("fred", "not-yet-unit")
    go_live = NOW.replace(year=2027, month=1, day=1, hour=0, minute=0)

    assert engine.decide(request, go_live - SECOND).reason == Reason.ORGANISATION_NOT_LIVE
    assert engine.decide(request, go_live).reason == Reason.NO_CARE_RELATION


def test_removed_care_relation_denies_the_next_decision() -> None:
    engine = engine_with(care_relations=(nina_relation(),))
    request = note_read("nina", "ward")
    assert engine.decide(request, NOW).allowed

    engine.remove_care_relation("cr-1")

    assert engine.decide(request, NOW).reason == Reason.NO_CARE_RELATION


def test_new_care_relation_permits_the_next_decision() -> None:
    engine = engine_with()
    request = note_read("nina", "ward")
    assert not engine.decide(request, NOW).allowed

    engine.put_care_relation(nina_relation())

    assert engine.decide(request, NOW).allowed


def test_care_relation_moved_to_another_patient_no_longer_counts_for_the_first() -> None:
    engine = engine_with(care_relations=(nina_relation(),))
    request = note_read("nina", "ward")
    assert engine.decide(request, NOW).allowed

    engine.put_care_relation(replace(nina_relation(), patient="02918500022"))

    assert not engine.decide(request, NOW).allowed


def test_new_block_denies_a_cached_permit_at_once() -> None:
    engine = engine_with(care_relations=(nina_relation(),))
    request = note_read("nina", "ward")
    assert engine.decide(request, NOW).allowed

    engine.put_block(PatientBlockFacts("b-1", PATIENT, LONG_AGO, None, user_id="nina"))

    assert engine.decide(request, NOW).reason == Reason.BLOCKED_FOR_USER
    engine.remove_block("b-1")
    assert engine.decide(request, NOW).allowed


def test_ended_grant_denies_the_next_decision() -> None:
    engine = engine_with()
    request = note_read("nina", "ward")
    engine.put_grant(
        BreakGlassGrantFacts("g-1", "nina", PATIENT, "ward", "emergency", LONG_AGO, NOW + timedelta(hours=1))
    )
    assert engine.decide(request, NOW).reason == Reason.PERMIT_BREAK_GLASS

    engine.end_grant("g-1", ended_at=NOW)

    assert engine.decide(request, NOW).reason == Reason.NO_CARE_RELATION


def test_leaver_loses_access_at_once() -> None:
    engine = engine_with(care_relations=(nina_relation(),))
    request = note_read("nina", "ward")
    assert engine.decide(request, NOW).allowed

    engine.replace_user("nina", UserFacts("nina", active=False))

    assert engine.decide(request, NOW).reason == Reason.SUBJECT_INACTIVE


def test_mover_acts_only_in_the_new_unit() -> None:
    engine = engine_with(care_relations=(nina_relation(),))
    assert engine.decide(note_read("nina", "ward"), NOW).allowed

    engine.replace_user(
        "nina",
        UserFacts("nina", active=True),
        [EmploymentFacts("nina", "surgery", "P1", NOW, None)],
        [AssignmentFacts("nina", "nurse", "surgery", NOW, None)],
    )

    assert engine.decide(note_read("nina", "ward"), NOW).reason == Reason.NOT_EMPLOYED_IN_UNIT
    assert engine.decide(note_read("nina", "surgery"), NOW).allowed


def test_joiner_unknown_before_is_known_at_once() -> None:
    engine = engine_with()
    request = note_read("jon", "ward")
    assert engine.decide(request, NOW).reason == Reason.UNKNOWN_SUBJECT

    engine.replace_user(
        "jon", UserFacts("jon", active=True), [], [AssignmentFacts("jon", "auditor", "ward", LONG_AGO, None)]
    )

    assert engine.decide(request, NOW).reason == Reason.PERMIT_ANY


def test_organisation_losing_its_agreement_denies_at_once() -> None:
    engine = engine_with()
    request = note_read("aud", "ward")
    assert engine.decide(request, NOW).allowed

    engine.put_organisation(OrganisationFacts("trust", date(2024, 1, 1), agreement_signed=False))

    assert engine.decide(request, NOW).reason == Reason.ORGANISATION_NOT_LIVE


def test_unit_moved_under_another_parent_changes_the_subtree_at_once() -> None:
    engine = engine_with()
    request = note_read("dag", "medicine", resource_unit="surgery")
    assert engine.decide(request, NOW).reason == Reason.OUTSIDE_SCOPE

    engine.put_unit(UnitFacts("surgery", "trust", "medicine"))

    assert engine.decide(request, NOW).reason == Reason.PERMIT_UNIT_SUBTREE


def test_with_policy_keeps_changes_and_decides_on_the_new_version() -> None:
    engine = engine_with()
    engine.put_care_relation(nina_relation())
    new_policy = replace(POLICY, version="test-2", roles={k: v for k, v in POLICY.roles.items() if k != "nurse"})

    swapped = engine.with_policy(new_policy)

    assert engine.decide(note_read("nina", "ward"), NOW).allowed
    decision = swapped.decide(note_read("nina", "ward"), NOW)
    assert (decision.reason, decision.policy_version) == (Reason.NO_PERMISSION, "test-2")
    assert swapped.with_policy(POLICY).decide(note_read("nina", "ward"), NOW).allowed


def test_repeated_decision_is_served_from_the_cache() -> None:
    engine = engine_with(care_relations=(nina_relation(),))
    request = note_read("nina", "ward")

    first = engine.decide(request, NOW)

    assert engine.decide(request, NOW + timedelta(hours=1)) is first
    assert engine.cached_decisions == 1


def test_cache_stays_within_its_bound() -> None:
    cache = DecisionCache(max_entries=4)
    decision = engine_with().decide(note_read("nina", "ward"), NOW)
    for n in range(10):
        cache.put((f"user{n}", "u", "read", "t", None, None, None, frozenset()), (decision, NOW, NOW, 0, 0))

    assert len(cache) <= 4
    assert cache.get(("user9", "u", "read", "t", None, None, None, frozenset())) is not None
    assert cache.get(("user0", "u", "read", "t", None, None, None, frozenset())) is None


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        engine_with().decide(note_read("nina", "ward"), NOW.replace(tzinfo=None))
