"""Where the live policy comes from: the role documents on disk until a published version is active."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.engine import CompiledPolicy
from accessctl.pdp.runtime import PolicyLoader
from accessctl.policies.compile import load_policy


def working_documents(path: Path) -> PolicyLoader:
    """Compile the documents in `path` (version = their digest); an invalid set refuses to start."""

    async def load(_: AsyncSession) -> CompiledPolicy:
        return await asyncio.to_thread(load_policy, path)

    return load
