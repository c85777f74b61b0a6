"""The engine (indexes + cache + incremental changes) agrees with the straight-line reference everywhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessctl.engine import (
    AccessRequest,
    BreakGlassGrantFacts,
    CareRelationFacts,
    CompiledPolicy,
    Engine,
    PatientBlockFacts,
    Snapshot,
)

from .reference import reference_decide
from .strategies import blocks, grants, nows, policies, relations, requests_for, worlds

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(policy=policies(), world=worlds(), data=st.data())
def test_engine_agrees_with_reference_on_requests_about_a_patient(
    policy: CompiledPolicy, world: Snapshot, data: st.DataObject
) -> None:
    asks = data.draw(st.lists(st.tuples(requests_for(policy, world, with_patient=True), nows), min_size=1, max_size=12))
    engine = Engine(policy, world)
    # The same engine answers them in sequence, times going back and forth: the cache must never show.
    for request, now in asks + asks:
        assert engine.decide(request, now) == reference_decide(policy, world, request, now), (request, now)


@FAST
@given(policy=policies(), world=worlds(), data=st.data())
def test_engine_agrees_with_reference_on_requests_without_a_patient(
    policy: CompiledPolicy, world: Snapshot, data: st.DataObject
) -> None:
    asks = data.draw(st.lists(st.tuples(requests_for(policy, world, with_patient=False), nows), min_size=1, max_size=8))
    engine = Engine(policy, world)
    for request, now in asks:
        assert engine.decide(request, now) == reference_decide(policy, world, request, now)


# A fact to put, the id of one to remove, a grant's id with when it ends, or a leaver's user id.
Fact = CareRelationFacts | PatientBlockFacts | BreakGlassGrantFacts | str | tuple[str, datetime]

changes: st.SearchStrategy[tuple[str, Fact]] = st.one_of(
    relations().map(lambda r: ("put_relation", r)),
    st.sampled_from(["c1", "c2"]).map(lambda i: ("remove_relation", i)),
    blocks().map(lambda b: ("put_block", b)),
    st.sampled_from(["b1", "b2"]).map(lambda i: ("remove_block", i)),
    grants().map(lambda g: ("put_grant", g)),
    st.tuples(st.sampled_from(["g1", "g2"]), nows).map(lambda t: ("end_grant", t)),
    st.sampled_from(["ann", "bob", "cas"]).map(lambda u: ("leaver", u)),
)


@FAST
@given(policy=policies(), world=worlds(), data=st.data())
def test_engine_agrees_with_reference_after_every_change(
    policy: CompiledPolicy, world: Snapshot, data: st.DataObject
) -> None:
    asked = requests_for(policy, world, with_patient=True)
    steps = data.draw(st.lists(st.tuples(changes, asked, nows), min_size=1, max_size=10))
    engine = Engine(policy, world)
    for (change, fact), request, now in steps:
        before: tuple[AccessRequest, datetime] = (request, now)
        engine.decide(*before)  # fill the cache with what the change must invalidate
        world = _apply(engine, world, change, fact)
        assert engine.decide(request, now) == reference_decide(policy, world, request, now), (change, fact)


def _apply(engine: Engine, world: Snapshot, change: str, fact: Fact) -> Snapshot:
    """Apply one change to the engine, and the same change to the reference's plain snapshot."""
    if change == "put_relation":
        assert isinstance(fact, CareRelationFacts)
        engine.put_care_relation(fact)
        return replace(world, care_relations=(*[r for r in world.care_relations if r.id != fact.id], fact))
    if change == "remove_relation":
        assert isinstance(fact, str)
        engine.remove_care_relation(fact)
        return replace(world, care_relations=tuple(r for r in world.care_relations if r.id != fact))
    if change == "put_block":
        assert isinstance(fact, PatientBlockFacts)
        engine.put_block(fact)
        return replace(world, blocks=(*[b for b in world.blocks if b.id != fact.id], fact))
    if change == "remove_block":
        assert isinstance(fact, str)
        engine.remove_block(fact)
        return replace(world, blocks=tuple(b for b in world.blocks if b.id != fact))
    if change == "put_grant":
        assert isinstance(fact, BreakGlassGrantFacts)
        engine.put_grant(fact)
        return replace(world, grants=(*[g for g in world.grants if g.id != fact.id], fact))
    if change == "end_grant":
        assert isinstance(fact, tuple)
        grant_id, at = fact
        engine.end_grant(grant_id, ended_at=at)
        ended = [
            replace(g, ended_at=at) if g.id == grant_id and (g.ended_at is None or at < g.ended_at) else g
            for g in world.grants
        ]
        return replace(world, grants=tuple(ended))
    assert change == "leaver" and isinstance(fact, str)
    user = next(u for u in world.users if u.id == fact)
    engine.replace_user(fact, replace(user, active=False))
    return replace(
        world,
        users=tuple(replace(u, active=False) if u.id == fact else u for u in world.users),
        employments=tuple(e for e in world.employments if e.user_id != fact),
        assignments=tuple(a for a in world.assignments if a.user_id != fact),
    )
