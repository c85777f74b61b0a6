"""Audit event (and decision) ids are UUIDv7: unique, and ordered by the millisecond they were made in."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from accessctl.audit import actions
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
