"""Impact diffs between named policies (`active`, `working`, `v7`) over the database's current assignments."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.db import utcnow
from accessctl.engine.types import CompiledPolicy
from accessctl.policies.compile import load_policy
from accessctl.policies.diff import PolicyDiff, diff
from accessctl.policies.live_assignments import live_assignments, projected_assignments
from accessctl.policies.policy_files import PolicyFiles, read_policy_files
from accessctl.policies.versions import active_version, get_version, parse_version_name, version_files, version_policy

ACTIVE = "active"
WORKING = "working"


async def named_policy(session: AsyncSession, name: str, policy_dir: Path) -> CompiledPolicy:
    """`active` (the working documents while none was approved), `working` (the documents on disk), or `v<id>`."""
    if name == WORKING:
        return await asyncio.to_thread(load_policy, policy_dir)
    if name == ACTIVE:
        version = await active_version(session)
        return await named_policy(session, WORKING, policy_dir) if version is None else version_policy(version)
    return version_policy(await get_version(session, parse_version_name(name)))


async def named_files(session: AsyncSession, name: str, policy_dir: Path) -> PolicyFiles:
    """The policy files behind `named_policy(name)`: the stored ones of a version, else those on disk."""
    if name == ACTIVE:
        version = await active_version(session)
        return await named_files(session, WORKING, policy_dir) if version is None else version_files(version)
    if name == WORKING:
        return await asyncio.to_thread(read_policy_files, policy_dir)
    return version_files(await get_version(session, parse_version_name(name)))


async def policy_impact(
    session: AsyncSession,
    policy_dir: Path,
    *,
    from_name: str = ACTIVE,
    to_name: str = WORKING,
    now: datetime | None = None,
) -> PolicyDiff:
    """What changes per role and per file, and users who gain or lose each permission, if `to_name` replaced
    `from_name`.

    Before: the assignments stored now. After: manual ones as they are, hr ones derived by the new policy.
    """
    now = now or utcnow()
    old = await named_policy(session, from_name, policy_dir)
    new = await named_policy(session, to_name, policy_dir)
    before = await live_assignments(session, now)
    after = await projected_assignments(session, new, now)
    old_files = await named_files(session, from_name, policy_dir)
    new_files = await named_files(session, to_name, policy_dir)
    return diff(old, new, before, now=now, to_assignments=after, from_files=old_files, to_files=new_files)
