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
from types import TracebackType


class DecisionGate:
    """`deciding()` around decide + audit + answer; `changing()` around applying a change to the engine.

    Deciding is on the hot path, so it takes no lock when no change is pending: the event loop runs one task at
    a time, and nothing awaits between looking at the gate and counting the decision in.
    """

    def __init__(self) -> None:
        self._deciding = 0
        self._change_done: asyncio.Event | None = None  # set while a change waits or runs; decisions wait on it
        self._drained: asyncio.Event | None = None  # set when the last decision in flight leaves
        self._changes = asyncio.Lock()  # one change at a time
        self._decision = _Deciding(self)

    def deciding(self) -> _Deciding:
        return self._decision

    @asynccontextmanager
    async def changing(self) -> AsyncIterator[None]:
        async with self._changes:
            done = self._change_done = asyncio.Event()
            try:
                if self._deciding:
                    drained = self._drained = asyncio.Event()
                    await drained.wait()
                yield
            finally:
                self._drained = None
                self._change_done = None
                done.set()

    async def _enter(self) -> None:
        while self._change_done is not None:
            await self._change_done.wait()
        self._deciding += 1

    def _leave(self) -> None:
        self._deciding -= 1
        if self._deciding == 0 and self._drained is not None:
            self._drained.set()


class _Deciding:
    __slots__ = ("_gate",)

    def __init__(self, gate: DecisionGate) -> None:
        self._gate = gate

    async def __aenter__(self) -> None:
        await self._gate._enter()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._gate._leave()
