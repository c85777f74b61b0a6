"""The decision gate: a change never overlaps a decision, and a waiting change is not starved."""

from __future__ import annotations

import asyncio

import pytest

from accessctl.pdp.gate import DecisionGate


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_change_waits_for_the_decisions_in_flight() -> None:
    gate, log = DecisionGate(), []
    release = asyncio.Event()

    async def decide() -> None:
        async with gate.deciding():
            log.append("decided")
            await release.wait()
            log.append("answered")

    async def change() -> None:
        async with gate.changing():
            log.append("changed")

    deciding = asyncio.create_task(decide())
    await settle()
    changing = asyncio.create_task(change())
    await settle()
    assert log == ["decided"]  # the change has not run while the decision is out
    release.set()
    await asyncio.gather(deciding, changing)
    assert log == ["decided", "answered", "changed"]


async def test_decisions_that_arrive_while_a_change_waits_wait_for_it() -> None:
    gate, log = DecisionGate(), []
    release = asyncio.Event()

    async def decide(name: str, hold: bool) -> None:
        async with gate.deciding():
            log.append(name)
            if hold:
                await release.wait()

    async def change() -> None:
        async with gate.changing():
            log.append("changed")

    first = asyncio.create_task(decide("first", hold=True))
    await settle()
    changing = asyncio.create_task(change())
    await settle()
    later = [asyncio.create_task(decide(f"later{i}", hold=False)) for i in range(3)]
    await settle()
    assert log == ["first"]  # the later decisions are held back behind the waiting change
    release.set()
    await asyncio.gather(first, changing, *later)
    assert log[:2] == ["first", "changed"]
    assert sorted(log[2:]) == ["later0", "later1", "later2"]


async def test_a_decision_waits_while_a_change_runs() -> None:
    gate, log = DecisionGate(), []
    applying = asyncio.Event()

    async def change() -> None:
        async with gate.changing():
            log.append("change begins")
            await applying.wait()
            log.append("change ends")

    async def decide() -> None:
        async with gate.deciding():
            log.append("decided")

    changing = asyncio.create_task(change())
    await settle()
    deciding = asyncio.create_task(decide())
    await settle()
    assert log == ["change begins"]
    applying.set()
    await asyncio.gather(changing, deciding)
    assert log == ["change begins", "change ends", "decided"]


async def test_changes_take_turns() -> None:
    gate, log = DecisionGate(), []

    async def change(name: str) -> None:
        async with gate.changing():
            log.append(f"{name} begins")
            await settle()
            log.append(f"{name} ends")

    await asyncio.gather(change("a"), change("b"))
    assert log == ["a begins", "a ends", "b begins", "b ends"]


async def test_a_cancelled_waiting_change_does_not_block_decisions() -> None:
    gate = DecisionGate()
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.deciding():
            await release.wait()

    holding = asyncio.create_task(hold())
    await settle()
    change = asyncio.create_task(gate.changing().__aenter__())
    await settle()
    change.cancel()
    with pytest.raises(asyncio.CancelledError):
        await change
    async with asyncio.timeout(1):
        async with gate.deciding():
            pass  # not held back by the change that gave up
    release.set()
    await holding


async def test_an_error_inside_a_decision_still_lets_a_change_through() -> None:
    gate = DecisionGate()
    with pytest.raises(RuntimeError):
        async with gate.deciding():
            raise RuntimeError("decision failed")
    async with asyncio.timeout(1):
        async with gate.changing():
            pass
