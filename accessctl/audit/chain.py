"""The hash chain: the canonical JSON form of a record, and the SHA-256 that links it to the one before.

Canonical form (version 1): a JSON object of every stored field except `hash` itself, keys sorted, no spaces
(separators "," and ":"), UTF-8 without escaping, NaN refused. Timestamps are UTC ISO 8601 with microseconds and
a "Z" (`2026-11-26T14:00:00.000000Z`), uuids are lower-case hyphenated strings, roles a list, absent values null,
`detail` the JSON object itself. `hash` is the lower-case hex SHA-256 of those bytes; the first record of a chain
has `prev_hash` = 64 zeros. Changing this form breaks every stored chain: add a new version instead.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec

from accessctl.audit.events import AuditEvent, ChainedEvent

CANONICAL_VERSION = 1
GENESIS_HASH = "0" * 64


@lru_cache(maxsize=256)  # the events of one request share a moment, and those of one batch their recorded_at
def iso_utc(moment: datetime) -> str:
    """A timestamp in the one spelling the chain hashes."""
    if moment.tzinfo is UTC and moment.year >= 1000:
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # drops "+00:00"
    # strftime's %Y does not pad years before 1000, and the spelling must never change
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reference_canonical_json(value: Any) -> bytes:
    """The canonical form as the standard library writes it: the definition the fast path must equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _msgspec_writes_alike(value: Any) -> bool:
    """True when msgspec's encoder writes `value` byte for byte as the reference does.

    The two differ only on floats (msgspec writes `1e16`, the reference `1e+16`; msgspec writes NaN as null, the
    reference refuses it), integers beyond 64 bits (msgspec refuses them), keys that are not strings, and types
    the reference does not know. Exact types only: a subclass goes to the reference.
    """
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return bool(-(2**63) <= value < 2**63)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if type(item) is not str and item is not None and not _msgspec_writes_alike(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_msgspec_writes_alike(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    """The canonical form's bytes; msgspec writes them where it provably writes the reference's bytes."""
    if _msgspec_writes_alike(value):
        return msgspec.json.encode(value, order="sorted")
    return reference_canonical_json(value)


def normalise_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """The detail as it will read back from the database (string keys, lists for tuples), so hashes agree."""
    if detail is None:
        return None
    if all(type(k) is str and (v is None or type(v) is str or type(v) is bool) for k, v in detail.items()):
        return dict(detail)  # a flat record of text reads back as it is
    normalised = json.loads(reference_canonical_json(detail))
    assert isinstance(normalised, dict)
    return normalised


# Fields stored and hashed as they are; `canonical_record` and the store's row add the ones that need converting.
PLAIN_FIELDS = (
    "action",
    "user_id",
    "hpr_number",
    "unit_id",
    "organisation_id",
    "patient",
    "resource_type",
    "resource_id",
    "data_action",
    "outcome",
    "reason",
    "purpose_of_use",
    "break_glass_grant_id",
    "break_glass_reason_code",
    "client_system",
    "workstation",
    "policy_version",
)


def _canonical(event: AuditEvent, chain_id: str, seq: int, prev_hash: str, recorded_at: str) -> dict[str, Any]:
    record = {name: getattr(event, name) for name in PLAIN_FIELDS}
    event_id = str(event.id)
    decision_id = event.decision_id
    record.update(
        {
            "v": CANONICAL_VERSION,
            "id": event_id,
            "chain_id": chain_id,
            "seq": seq,
            "prev_hash": prev_hash,
            "recorded_at": recorded_at,
            "occurred_at": iso_utc(event.occurred_at),
            "roles": list(event.roles),
            "decision_id": None if decision_id is None else event_id if decision_id == event.id else str(decision_id),
            "detail": normalise_detail(event.detail),
        }
    )
    return record


def canonical_record(
    event: AuditEvent, *, chain_id: uuid.UUID, seq: int, prev_hash: str, recorded_at: datetime
) -> dict[str, Any]:
    """Every field the hash covers, as JSON values."""
    return _canonical(event, str(chain_id), seq, prev_hash, iso_utc(recorded_at))


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(record)).hexdigest()


def record_hash(event: AuditEvent, *, chain_id: uuid.UUID, seq: int, prev_hash: str, recorded_at: datetime) -> str:
    return _digest(canonical_record(event, chain_id=chain_id, seq=seq, prev_hash=prev_hash, recorded_at=recorded_at))


def link(event: AuditEvent, *, chain_id: uuid.UUID, seq: int, prev_hash: str, recorded_at: datetime) -> ChainedEvent:
    """The event placed at `seq` of the chain, after the record whose hash is `prev_hash`."""
    return link_all((event,), chain_id=chain_id, seq=seq, prev_hash=prev_hash, recorded_at=recorded_at)[0]


def link_all(
    events: Iterable[AuditEvent], *, chain_id: uuid.UUID, seq: int, prev_hash: str, recorded_at: datetime
) -> list[ChainedEvent]:
    """The events placed one after another from `seq` on, the first after the record whose hash is `prev_hash`.

    Each keeps the canonical record its hash was taken over, so the store builds its row without spelling it again.
    """
    chain, recorded = str(chain_id), iso_utc(recorded_at)
    linked = []
    for event in events:
        record = _canonical(event, chain, seq, prev_hash, recorded)
        digest = _digest(record)
        linked.append(ChainedEvent(event, chain_id, seq, prev_hash, digest, recorded_at, canonical=record))
        seq, prev_hash = seq + 1, digest
    return linked
