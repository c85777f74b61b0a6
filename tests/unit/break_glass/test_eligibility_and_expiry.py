"""Who may break the glass (rule 1, a role that allows it, no named block), and grants that end to the second."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accessctl.break_glass import BreakGlassRefused, eligibility
from accessctl.engine import BreakGlassGrantFacts, PatientBlockFacts, Reason
from tests.unit.engine.worlds import LONG_AGO, NOW, PATIENT, engine_with, note_read

SECOND = timedelta(seconds=1)


def one_minute_grant(user: str = "nina") -> BreakGlassGrantFacts:
    return BreakGlassGrantFacts("g-1", user, PATIENT, "ward", "emergency", NOW, NOW + timedelta(minutes=1))


def test_a_one_minute_grant_permits_until_the_last_second_and_not_at_its_expiry() -> None:
    engine = engine_with(grants=(one_minute_grant(),))
    expires = NOW + timedelta(minutes=1)
    before = engine.decide(note_read("nina", "ward"), now=expires - SECOND)
    assert (before.allowed, before.reason, before.grant_id) == (True, Reason.PERMIT_BREAK_GLASS, "g-1")
    at = engine.decide(note_read("nina", "ward"), now=expires)
    assert (at.allowed, at.reason, at.grant_id) == (False, Reason.NO_CARE_RELATION, None)
    assert at.break_glass is not None and at.break_glass.available


def test_ending_a_grant_early_closes_it_from_that_second() -> None:
    engine = engine_with(grants=(one_minute_grant(),))
    assert engine.decide(note_read("nina", "ward"), now=NOW + 10 * SECOND).allowed
    engine.end_grant("g-1", ended_at=NOW + 20 * SECOND)
    assert engine.decide(note_read("nina", "ward"), now=NOW + 19 * SECOND).allowed
    assert not engine.decide(note_read("nina", "ward"), now=NOW + 20 * SECOND).allowed


def test_an_allowed_role_gives_its_own_maximum_and_the_unit_organisation() -> None:
    grounds = eligibility(engine_with(), "dag", "medicine", PATIENT, NOW, default_max=240)
    assert (grounds.organisation_id, grounds.role_id, grounds.max_minutes) == ("trust", "doctor", 60)


@pytest.mark.parametrize(
    ("user", "unit", "code"),
    [
        ("nobody", "ward", Reason.UNKNOWN_SUBJECT),
        ("olga", "ward", Reason.SUBJECT_INACTIVE),
        ("nina", "surgery", Reason.NOT_EMPLOYED_IN_UNIT),
        ("fred", "not-yet-unit", Reason.ORGANISATION_NOT_LIVE),
        ("erik", "ward", "break_glass_not_allowed"),
        ("kari", "ward", "break_glass_not_allowed"),
    ],
)
def test_refused_with_the_reason_rule_one_or_the_role_gives(user: str, unit: str, code: str) -> None:
    with pytest.raises(BreakGlassRefused) as refused:
        eligibility(engine_with(), user, unit, PATIENT, NOW, default_max=240)
    assert refused.value.code == code


def test_a_block_naming_the_user_refuses_even_a_role_that_may_break_the_glass() -> None:
    block = PatientBlockFacts("b-1", PATIENT, LONG_AGO, None, user_id="nina")
    with pytest.raises(BreakGlassRefused) as refused:
        eligibility(engine_with(blocks=(block,)), "nina", "ward", PATIENT, NOW, default_max=240)
    assert refused.value.code == Reason.BLOCKED_FOR_USER
