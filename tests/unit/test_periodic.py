"""The background rounds of the relay and the audit outbox drain: at once, on wake, after a failure, then stopped."""

from __future__ import annotations

import asyncio
import logging

import pytest

from accessctl.periodic import Periodic

log = logging.getLogger("accessctl.test.periodic")


async def test_rounds_run_at_start_on_wake_and_after_a_failure_until_closed(caplog: pytest.LogCaptureFixture) -> None:
    rounds: list[int] = []
    ran = asyncio.Event()

    async def round_() -> None:
        rounds.append(len(rounds))
        ran.set()
        if len(rounds) == 2:
            raise RuntimeError("database went away")

    periodic = Periodic("test-rounds", round_, interval_s=3600, log=log, failure="round failed; retrying")
    periodic.start()
    await asyncio.wait_for(ran.wait(), 1)
    assert rounds == [0]  # at once, and the hour-long interval holds the next one back

    for expected in ([0, 1], [0, 1, 2]):  # the second round fails; a wake still runs the third
        ran.clear()
        periodic.wake()
        await asyncio.wait_for(ran.wait(), 1)
        assert rounds == expected
    assert [r.getMessage() for r in caplog.records if r.name == log.name] == ["round failed; retrying"]

    await periodic.close()
    periodic.wake()
    await asyncio.sleep(0.05)
    assert rounds == [0, 1, 2]
