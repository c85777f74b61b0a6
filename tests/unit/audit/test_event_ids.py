"""Audit event (and decision) ids are UUIDv7: unique, and ordered by the millisecond they were made in."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

from accessctl.audit import actions, events
from accessctl.audit.events import AuditEvent, new_event_id


def test_ids_are_rfc_9562_version_7_with_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    made = new_event_id()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_ids_of_later_milliseconds_sort_after_earlier_ones_and_never_repeat() -> None:
    first = [new_event_id() for _ in range(5000)]
    time.sleep(0.002)
    second = [new_event_id() for _ in range(5000)]
    assert max(first) < min(second)
    assert len(set(first + second)) == 10_000
    assert len({i.int & ((1 << 62) - 1) for i in first}) == 5000, "the random bits differ within a millisecond"


def test_an_event_gets_one_unless_given_an_id() -> None:
    event = AuditEvent(action=actions.DECISION_PERMIT, occurred_at=datetime.now(UTC))
    assert event.id.version == 7


def test_the_random_bytes_are_never_handed_out_twice_and_a_forked_child_fetches_its_own() -> None:
    entropy = events._Entropy()
    taken = [entropy.take(10) for _ in range(1000)]  # more than one 4 KiB fetch
    assert len(set(taken)) == 1000
    entropy.take(10)  # the pool now holds bytes a child must not reuse
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(writing, entropy.take(10))
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    from_child = os.read(reading, 10)
    os.close(reading)
    assert len(from_child) == 10
    assert from_child != entropy.take(10), "the child fetched its own bytes"
