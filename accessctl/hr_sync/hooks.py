"""Where other parts plug into HR writes: role-assignment recompute and the mass-deactivation guard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class AssignmentRecompute(Protocol):
    """Re-derive one user's `hr` role assignments from their employments, in the writer's transaction.

    Answers True when it logged a `user` change for that user itself (its rows changed): the caller need not.
    """

    async def __call__(self, session: AsyncSession, user_id: str) -> object: ...


class LeaverGuard(Protocol):
    """Asked before users are deactivated; raises to stop a write that would deactivate an unusual share.

    The mass-change guard (DESIGN §6) plugs in here; a single leaver must always pass at once.
    """

    async def check(self, session: AsyncSession, user_ids: Sequence[str]) -> None: ...


class NoLeaverGuard:
    """Lets every deactivation through: one SCIM request deactivates at most one user."""

    async def check(self, session: AsyncSession, user_ids: Sequence[str]) -> None:
        return None


async def no_recompute(session: AsyncSession, user_id: str) -> object:
    """For tests and tools that manage assignments themselves."""
    return None
