"""For requests about no patient, decide() gives exactly what stock Casbin gives on the exported files (DESIGN §3).

Casbin sees (user, unit, resource type, action): the requests compared name no patient and no resource unit. A
request that names where its data lives is held to rule 5 as well, which may only make the service stricter.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime

import casbin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessctl.engine import CompiledPolicy, Engine, Reason, Snapshot
from accessctl.policies.casbin_export import write_export

from .strategies import nows, policies, requests_for, worlds


def exported_enforcer(policy: CompiledPolicy, world: Snapshot, now: datetime, out_dir: str) -> casbin.Enforcer:
    """Export as the service does: assignments valid now, of active users, in organisations live today."""
    today = now.astimezone(UTC).date()
    active = {u.id for u in world.users if u.active}
    live = {o.id for o in world.organisations if o.go_live is not None and o.go_live <= today and o.agreement_signed}
    unit_live = {u.id for u in world.units if u.organisation_id in live}
    assignments = [a for a in world.assignments if a.user_id in active and a.unit_id in unit_live]
    model_path, policy_path = write_export(out_dir, policy, assignments, now)
    return casbin.Enforcer(str(model_path), str(policy_path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), world=worlds(), now=nows, data=st.data())
def test_engine_agrees_with_stock_casbin_without_a_patient(
    policy: CompiledPolicy, world: Snapshot, now: datetime, data: st.DataObject
) -> None:
    asks = data.draw(st.lists(requests_for(policy, world, with_patient=False), min_size=1, max_size=10))
    engine = Engine(policy, world)
    with tempfile.TemporaryDirectory() as out_dir:
        enforcer = exported_enforcer(policy, world, now, out_dir)
        for placed in asks:
            request = replace(placed, resource_unit=None)
            decision = engine.decide(request, now)
            stricter = engine.decide(placed, now)
            assert not stricter.allowed or decision.allowed, (placed, stricter)
            casbin_says = enforcer.enforce(
                request.user_id, request.unit_id or "", request.resource_type, request.action
            )
            patient_bound = request.resource_type in policy.resource_types and (
                policy.resource_types[request.resource_type].patient_bound
            )
            if patient_bound and casbin_says:
                assert decision.reason == Reason.PATIENT_REQUIRED, request
            else:
                assert decision.allowed == casbin_says, (request, decision)
