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
from datetime import UTC, datetime
from typing import Any

from accessctl.audit.events import AuditEvent, ChainedEvent

CANONICAL_VERSION = 1
GENESIS_HASH = "0" * 64


def iso_utc(moment: datetime) -> str:
    """A timestamp in the one spelling the chain hashes."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def normalise_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """The detail as it will read back from the database (string keys, lists for tuples), so hashes agree."""
    if detail is None:
        return None
    normalised = json.loads(canonical_json(detail))
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


def canonical_record(
    event: AuditEvent, *, chain_id: uuid.UUID, seq: int, prev_hash: str, recorded_at: datetime
) -> dict[str, Any]:
    """Every field the hash covers, as JSON values."""
    record = {name: getattr(event, name) for name in PLAIN_FIELDS}
    record.update(
        {
            "v": CANONICAL_VERSION,
            "id": str(event.id),
            "chain_id": str(chain_id),
            "seq": seq,
            "prev_hash": prev_hash,
            "recorded_at": iso_utc(recorded_at),
            "occurred_at": iso_utc(event.occurred_at),
            "roles": list(event.roles),
            "decision_id": None if event.decision_id is None else str(event.decision_id),
            "detail": normalise_detail(event.detail),
        }
    )
    return record


def record_hash(event: AuditEvent, *, chain_id: uuid.UUID, seq: int, prev_hash: str, recorded_at: datetime) -> str:
    record = canonical_record(event, chain_id=chain_id, seq=seq, prev_hash=prev_hash, recorded_at=recorded_at)
    return hashlib.sha256(canonical_json(record)).hexdigest()


def link(event: AuditEvent, *, chain_id: uuid.UUID, seq: int, prev_hash: str, recorded_at: datetime) -> ChainedEvent:
    """The event placed at `seq` of the chain, after the record whose hash is `prev_hash`."""
    digest = record_hash(event, chain_id=chain_id, seq=seq, prev_hash=prev_hash, recorded_at=recorded_at)
    return ChainedEvent(
        event=event, chain_id=chain_id, seq=seq, prev_hash=prev_hash, hash=digest, recorded_at=recorded_at
    )
