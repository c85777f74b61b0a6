"""The canonical form and hash of a record: stable, covering every field, and documented by a fixed vector."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from accessctl.audit import actions
from accessctl.audit.chain import GENESIS_HASH, canonical_json, canonical_record, link, record_hash
from accessctl.audit.events import MAX_LENGTHS, AuditEvent
from accessctl.audit.store import event_row
from accessctl.errors import InvalidInput

CHAIN = uuid.UUID("00000000-0000-4000-8000-000000000001")
EVENT_ID = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
AT = datetime(2026, 11, 26, 9, 30, 0, 123456, tzinfo=UTC)


def _event(**overrides: object) -> AuditEvent:
    fields: dict[str, object] = {
        "action": actions.DECISION_PERMIT,
        "occurred_at": AT,
        "id": EVENT_ID,
        "decision_id": EVENT_ID,
        "user_id": "u1",
        "roles": ("nurse",),
        "patient": "01817012345",
        "outcome": "permit",
        "detail": {"b": 1, "a": [1, 2]},
    }
    fields.update(overrides)
    return AuditEvent(**fields)  # type: ignore[arg-type]  # test builder over the dataclass fields


def _hash(event: AuditEvent, seq: int = 1, prev: str = GENESIS_HASH) -> str:
    return record_hash(event, chain_id=CHAIN, seq=seq, prev_hash=prev, recorded_at=AT)


def test_canonical_form_is_sorted_compact_json_with_utc_microsecond_times() -> None:
    record = canonical_record(_event(), chain_id=CHAIN, seq=1, prev_hash=GENESIS_HASH, recorded_at=AT)
    text = canonical_json(record).decode()
    assert text.startswith('{"action":"decision.permit","break_glass_grant_id":null,')
    assert '"occurred_at":"2026-11-26T09:30:00.123456Z"' in text
    assert '"detail":{"a":[1,2],"b":1}' in text
    assert " " not in text
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_hash_is_sha256_of_the_documented_bytes() -> None:
    # Written out by hand: if this fails, stored chains stop verifying; add a canonical version instead.
    expected = (
        '{"action":"decision.permit","break_glass_grant_id":null,"break_glass_reason_code":null,'
        '"chain_id":"00000000-0000-4000-8000-000000000001","client_system":null,"data_action":null,'
        '"decision_id":"00000000-0000-4000-8000-0000000000aa","detail":{"a":[1,2],"b":1},"hpr_number":null,'
        '"id":"00000000-0000-4000-8000-0000000000aa","occurred_at":"2026-11-26T09:30:00.123456Z",'
        '"organisation_id":null,"outcome":"permit","patient":"01817012345","policy_version":null,'
        '"prev_hash":"' + "0" * 64 + '","purpose_of_use":null,"reason":null,'
        '"recorded_at":"2026-11-26T09:30:00.123456Z","resource_id":null,"resource_type":null,"roles":["nurse"],'
        '"seq":1,"unit_id":null,"user_id":"u1","v":1,"workstation":null}'
    )
    assert _hash(_event()) == hashlib.sha256(expected.encode()).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"patient": "02817012345"},
        {"roles": ("nurse", "doctor")},
        {"outcome": "deny"},
        {"occurred_at": AT + timedelta(microseconds=1)},
        {"detail": {"b": 2, "a": [1, 2]}},
        {"workstation": "ws-2"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_field_changes_the_hash(change: dict[str, object]) -> None:
    assert _hash(_event(**change)) != _hash(_event())


def test_place_in_the_chain_changes_the_hash() -> None:
    event = _event()
    assert len({_hash(event), _hash(event, seq=2), _hash(event, prev="1" * 64)}) == 3


def test_same_instant_in_another_zone_hashes_the_same() -> None:
    oslo = AT.astimezone(timezone(timedelta(hours=1)))
    assert _hash(_event(occurred_at=oslo)) == _hash(_event())


def test_detail_hashes_as_it_reads_back_from_the_database() -> None:
    assert _hash(_event(detail={"a": (1, 2), "b": 1})) == _hash(_event())


def test_link_returns_the_hash_the_next_record_points_at() -> None:
    first = link(_event(), chain_id=CHAIN, seq=1, prev_hash=GENESIS_HASH, recorded_at=AT)
    second = link(
        _event(id=uuid.uuid4(), decision_id=None), chain_id=CHAIN, seq=2, prev_hash=first.hash, recorded_at=AT
    )
    assert second.prev_hash == first.hash and len(second.hash) == 64


def test_event_refuses_naive_times_unknown_actions_and_a_foreign_decision_id() -> None:
    with pytest.raises(InvalidInput):
        _event(occurred_at=AT.replace(tzinfo=None))
    with pytest.raises(InvalidInput):
        _event(action="decision.maybe")
    with pytest.raises(InvalidInput):
        _event(decision_id=uuid.uuid4())
    assert dataclasses.replace(_event(), outcome="deny").outcome == "deny"


@pytest.mark.parametrize("name", sorted(set(MAX_LENGTHS) - {"action"}))  # an action must be one of actions.ALL
def test_event_refuses_text_longer_than_its_column_naming_the_field(name: str) -> None:
    value = "a" * MAX_LENGTHS[name]
    assert getattr(_event(**{name: value}), name) == value  # exactly the column's length fits
    for refused_value in (value + "a", "a\x00"):  # too long; a NUL, which PostgreSQL's text cannot hold
        with pytest.raises(InvalidInput) as refused:
            _event(**{name: refused_value})
        assert refused.value.field == name


def test_the_stored_row_is_the_same_whether_or_not_the_linked_record_was_kept() -> None:
    event = _event(detail={"care_relation_kind": "admitted", "nested": {"n": [1, 2]}})
    linked = link(event, chain_id=uuid.uuid4(), seq=3, prev_hash=GENESIS_HASH, recorded_at=datetime.now(UTC))
    assert linked.canonical is not None
    rebuilt = dataclasses.replace(linked, canonical=None)
    assert event_row(rebuilt) == event_row(linked)
    assert event_row(linked)["hash"] == linked.hash and "v" not in event_row(linked)
