"""DESIGN §3, checked differentially: for requests without a patient, stock Casbin on the exported files and the
service's engine give the same answer (a patient-bound type the engine answers `patient_required` for).

The demo region is loaded into the test's database, exported with `accessctl policies export`'s own code, and
10,000 random (user, unit, resource type, action) requests are decided both ways. ACCESSCTL_CASBIN_USERS sets the
region's size (default 2,000; 34,000 is the real region) and ACCESSCTL_CASBIN_REQUESTS the sample.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import casbin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from accessctl.demo.load import load_population
from accessctl.demo.policy_inputs import read_policy_inputs
from accessctl.demo.population import build_population
from accessctl.demo.region import load_region
from accessctl.directory.models import Employment, Unit, User
from accessctl.engine import AccessRequest, Engine
from accessctl.pdp.loader import load_snapshot
from accessctl.policies.casbin_export import write_export
from accessctl.policies.compile import load_policy
from accessctl.policies.live_assignments import live_assignments
from accessctl.policies.models import RoleAssignment
from tests.policy_copies import REPO_POLICIES

USERS = int(os.environ.get("ACCESSCTL_CASBIN_USERS", "2000"))
REQUESTS = int(os.environ.get("ACCESSCTL_CASBIN_REQUESTS", "10000"))
SEED = 20261126


async def test_stock_casbin_and_the_engine_agree_on_requests_without_a_patient(
    connection: AsyncConnection, session: AsyncSession, tmp_path: Path
) -> None:
    policy = load_policy(REPO_POLICIES)
    population = build_population(load_region(), read_policy_inputs(REPO_POLICIES), users=USERS)
    await load_population(connection, population)
    now = datetime.now(UTC)

    model_path, policy_path = write_export(tmp_path, policy, await live_assignments(session, now), now)
    enforcer = casbin.Enforcer(str(model_path), str(policy_path))
    engine = Engine(policy, await load_snapshot(session, now))
    requests = await _sample(session, policy.resource_types, sorted(policy.actions))

    started = time.perf_counter()
    mismatches = []
    permits = 0
    for user, unit, resource_type, action in requests:
        casbin_permits = enforcer.enforce(user, unit, resource_type, action)
        decision = engine.decide(AccessRequest(user, unit, action, resource_type), now=now)
        patient_bound = policy.resource_types[resource_type].patient_bound
        engine_permits = decision.reason == "patient_required" if patient_bound else decision.allowed
        permits += casbin_permits
        if casbin_permits != engine_permits:
            mismatches.append((user, unit, resource_type, action, casbin_permits, decision.reason))
    elapsed = time.perf_counter() - started

    assert mismatches == [], mismatches[:10]
    assert len(requests) == REQUESTS
    # The sample must exercise both answers, or agreement would prove little.
    assert REQUESTS * 0.05 < permits < REQUESTS * 0.95, permits
    print(f"\n{REQUESTS} requests, {USERS} users, {permits} permits, both sides in {elapsed:.1f} s")


async def _sample(
    session: AsyncSession, resource_types: Mapping[str, object], actions: list[str]
) -> list[tuple[str, str, str, str]]:
    """Requests from users in units they hold a role in (about half), employed in, or any other unit."""
    rng = random.Random(SEED)
    users = sorted(await session.scalars(select(User.id)))
    units = sorted(await session.scalars(select(Unit.id)))
    held = sorted(set(await session.execute(select(RoleAssignment.user_id, RoleAssignment.unit_id))))
    employed = sorted(set(await session.execute(select(Employment.user_id, Employment.unit_id))))
    types = sorted(resource_types)
    requests = []
    for index in range(REQUESTS):
        kind = index % 4
        if kind in (0, 1):
            user, unit = held[rng.randrange(len(held))]
        elif kind == 2:
            user, unit = employed[rng.randrange(len(employed))]
        else:
            user, unit = rng.choice(users), rng.choice(units)
        requests.append((str(user), str(unit), rng.choice(types), rng.choice(actions)))
    return requests
