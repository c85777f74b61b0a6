"""Where the live policy comes from: the active published version, or the documents on disk until one is approved."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.engine import CompiledPolicy
from accessctl.pdp.runtime import PolicyLoader
from accessctl.policies.compiled_cache import directory_policy
from accessctl.policies.versions import active_version_policy


async def active_policy(session: AsyncSession, *, fallback_dir: Path) -> CompiledPolicy:
    """The active version's compiled rules (version `v<id>`); the documents in `fallback_dir` before any approval.

    The fallback lets a fresh install answer before anyone has published; once a version was approved, the
    working directory is never read again. Either is compiled once per process (`accessctl.policies.compiled_cache`).
    """
    policy = await active_version_policy(session)
    return policy if policy is not None else await directory_policy(fallback_dir)


def active_version_loader(fallback_dir: Path) -> PolicyLoader:
    """The decision point's loader: `active_policy` with the server's policies directory as the fallback."""

    async def load(session: AsyncSession) -> CompiledPolicy:
        return await active_policy(session, fallback_dir=fallback_dir)

    return load
