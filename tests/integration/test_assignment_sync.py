"""HR role assignments follow employments and the active policy; manual ones are never touched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.changes import changes_since, latest_seq
from accessctl.directory.models import Employment
from accessctl.policies.assignment_sync import recompute_all, recompute_user, sync_roles
from accessctl.policies.compile import load_policy
from accessctl.policies.models import RoleAssignment
from tests.factories import T0, add_organisation, add_unit, add_user
from tests.policy_copies import REPO_POLICIES

POLICY = load_policy(REPO_POLICIES)
UNIT = "by.legevakt"


async def _world(session: AsyncSession) -> None:
    await add_organisation(session, "by", seed=3)
    await add_unit(session, UNIT, "by", services=("legevakt",))
    await add_user(session, "doc", unit=UNIT, position="7006")
    await add_user(session, "temp")
    await sync_roles(session, POLICY)
    session.add(
        RoleAssignment(
            user_id="temp", role_id="legevakt.sykepleier", unit_id=UNIT, valid_from=T0,
            valid_to=T0 + timedelta(days=30), source="manual", approver="boss",
        )
    )  # fmt: skip
    await session.flush()


async def _rows(session: AsyncSession) -> set[tuple[str, str, str]]:
    rows = await session.execute(select(RoleAssignment.user_id, RoleAssignment.role_id, RoleAssignment.source))
    return {(user, role, source) for user, role, source in rows}


async def test_recompute_user_derives_hr_rows_and_logs_a_user_change(session: AsyncSession) -> None:
    await _world(session)
    seq = await latest_seq(session)
    assert await recompute_user(session, POLICY, "doc") is True
    assert ("doc", "legevakt.lege", "hr") in await _rows(session)
    await session.commit()  # the change log is written at commit
    assert [(c.kind, c.key) for c in await changes_since(session, seq)] == [("user", "doc")]
    assert await recompute_user(session, POLICY, "doc") is False  # already in sync: nothing logged


async def test_a_mover_loses_the_old_role_and_keeps_manual_rows(session: AsyncSession) -> None:
    await _world(session)
    await recompute_all(session, POLICY)
    job = await session.scalar(select(Employment).where(Employment.user_id == "doc"))
    assert job is not None
    job.position_code = "7010"  # no longer a physician position at the clinic
    await session.flush()
    result = await recompute_all(session, POLICY)
    assert (result.users_changed, result.rows_removed) == (1, 1)
    rows = await _rows(session)
    assert ("doc", "legevakt.lege", "hr") not in rows
    assert ("temp", "legevakt.sykepleier", "manual") in rows


async def test_bulk_recompute_logs_one_reload_only_when_something_changed(session: AsyncSession) -> None:
    await _world(session)
    seq = await latest_seq(session)
    first = await recompute_all(session, POLICY)
    assert first.users_changed == 1 and first.rows_added >= 1
    await session.commit()  # the change log is written at commit
    assert [c.kind for c in await changes_since(session, seq)] == ["reload"]
    seq = await latest_seq(session)
    assert (await recompute_all(session, POLICY)).users_changed == 0
    await session.commit()
    assert await changes_since(session, seq) == []
