"""The engine's long-lived objects are frozen out of full collections, and a rebuild lets the old ones go."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from accessctl.pdp.heap import settle_after_build


class _Node:
    """Part of a reference cycle, as an engine's objects may be: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> _Node:
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    return first


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_settling_collects_garbage_first_then_freezes_what_is_alive() -> None:
    garbage = _cycle()
    gone = weakref.ref(garbage)
    del garbage

    settle_after_build(replaced=False)

    assert gone() is None
    assert gc.get_freeze_count() > 0


def test_a_frozen_engine_outlives_full_collections_until_a_rebuild_replaces_it() -> None:
    old_engine = _cycle()
    old = weakref.ref(old_engine)
    settle_after_build(replaced=False)
    del old_engine  # the engine is swapped out, but its cycle is frozen

    gc.collect()
    settle_after_build(replaced=False)
    assert old() is not None, "frozen objects are skipped by collections"

    settle_after_build(replaced=True)
    assert old() is None, "a rebuild unfreezes and collects the old engine's cycles"
    assert gc.get_freeze_count() > 0
