"""Search is complete and exact: it equals deciding for every user from every unit, by brute force."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessctl.engine import CompiledPolicy, Engine, Snapshot
from accessctl.engine.search import actions_permitted, subjects_permitted

from .strategies import nows, policies, requests_for, worlds


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), world=worlds(), now=nows, data=st.data())
def test_subject_search_equals_brute_force(
    policy: CompiledPolicy, world: Snapshot, now: datetime, data: st.DataObject
) -> None:
    template = data.draw(requests_for(policy, world, with_patient=data.draw(st.booleans())))
    engine = Engine(policy, world)
    expected = sorted(
        {
            user.id
            for user in world.users
            for unit in world.units
            if engine.decide(replace(template, user_id=user.id, unit_id=unit.id), now).allowed
        }
    )
    assert subjects_permitted(engine, template, now) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), world=worlds(), now=nows, data=st.data())
def test_action_search_equals_brute_force(
    policy: CompiledPolicy, world: Snapshot, now: datetime, data: st.DataObject
) -> None:
    template = data.draw(requests_for(policy, world, with_patient=data.draw(st.booleans())))
    engine = Engine(policy, world)
    actions = sorted({p.action for role in policy.roles.values() for p in role.permissions})
    expected = [a for a in actions if engine.decide(replace(template, action=a), now).allowed]
    assert actions_permitted(engine, template, now) == expected
