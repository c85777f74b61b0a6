"""A readers-writer gate between decisions and changes to the engine.

A decision is answered only after its audit record commits, which takes a few milliseconds. If a revocation
were applied meanwhile, the caller of the revocation could hear "done" while a permit decided before it is still
on its way out. So a change waits until the decisions in flight have been answered, and decisions that arrive
while a change waits, wait for it (the writer goes first, so a busy service cannot starve a revocation).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class DecisionGate:
    """`deciding()` around decide + audit + answer; `changing()` around applying a change to the engine."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self._deciding = 0
        self._changing = False

    @asynccontextmanager
    async def deciding(self) -> AsyncIterator[None]:
        async with self._condition:
            await self._condition.wait_for(lambda: not self._changing)
            self._deciding += 1
        try:
            yield
        finally:
            async with self._condition:
                self._deciding -= 1
                if self._deciding == 0:
                    self._condition.notify_all()

    @asynccontextmanager
    async def changing(self) -> AsyncIterator[None]:
        async with self._condition:
            await self._condition.wait_for(lambda: not self._changing)
            self._changing = True
            await self._condition.wait_for(lambda: self._deciding == 0)
        try:
            yield
        finally:
            async with self._condition:
                self._changing = False
                self._condition.notify_all()
