"""Two approvals of one version at once: the first activates it, the second is a clear conflict (PostgreSQL).

Before, both read the version as pending: both succeeded (approved_by overwritten, two approval events) or the
second hit the one-active index as a database error (500). SQLite writers take turns from BEGIN already.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl.errors import Conflict
from accessctl.policies.models import PolicyVersion
from accessctl.policies.versions import approve, publish
from tests.policy_copies import copy_policies

SERVER = os.environ.get("ACCESSCTL_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not SERVER.startswith("postgresql"), reason="needs PostgreSQL (row visibility)")


async def test_a_second_approval_at_the_same_time_is_a_conflict_and_the_first_stands(
    committed_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with committed_sessions() as author:
        version_id = (await publish(author, copy_policies(tmp_path), "alice")).id
        await author.commit()
    async with committed_sessions() as first, committed_sessions() as second:
        await approve(first, version_id, "bob")
        racing = asyncio.create_task(approve(second, version_id, "carol"))
        await asyncio.sleep(0.5)
        assert not racing.done(), "the second approval went ahead while the first was open"
        await first.commit()
        with pytest.raises(Conflict, match="active"):
            await racing
    async with committed_sessions() as reader:
        [(status, approved_by)] = (await reader.execute(select(PolicyVersion.status, PolicyVersion.approved_by))).all()
    assert (status, approved_by) == ("active", "bob")
