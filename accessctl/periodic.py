"""One background task that runs a round every few seconds, or sooner when woken, and outlives a failed round."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Periodic:
    """Runs `round_` at once on `start()`, then every `interval_s` (or sooner on `wake()`), until `close()`.

    A round that raises is logged on `log` with `failure` and the next round tries again.
    """

    def __init__(
        self,
        name: str,
        round_: Callable[[], Awaitable[object]],
        *,
        interval_s: float,
        log: logging.Logger,
        failure: str,
    ) -> None:
        self.name = name
        self.round = round_
        self.interval_s = interval_s
        self.log = log
        self.failure = failure
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Run the next round now."""
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:
                self.log.exception(self.failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
            self._wake.clear()
