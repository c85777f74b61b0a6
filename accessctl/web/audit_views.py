"""Shapes of the audit API: an event as privacy officers see it, and its CSV / JSON Lines encodings."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import msgspec

from accessctl.audit.events import ChainedEvent
from accessctl.errors import InvalidInput
from accessctl.moments import utc_moment
from accessctl.web.pagination import decode_cursor

EXPORT_FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"), "json": ("application/x-ndjson", "jsonl")}
CHUNK_BYTES = 64 * 1024


def parse_moment(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 moment with a zone; a naive or malformed one is a 400 naming `field`."""
    if value is None or value == "":
        return None
    # An unencoded "+01:00" in a query string arrives as " 01:00"; take it as meant.
    text = value.strip().replace(" ", "+") if "T" in value else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time with a zone", field=field) from None
    utc_moment(moment, field)
    return moment


def cursor_position(cursor: str | None) -> tuple[datetime, str] | None:
    """The (moment, key) a time-ordered page's cursor points after; None for the first page.

    The cursor comes back from the caller, so anything but the pair this service encoded is a 400.
    """
    position = decode_cursor(cursor)
    if position is None:
        return None
    if isinstance(position, list) and len(position) == 2 and all(type(part) is str for part in position):
        at, key = position
        try:
            moment = parse_moment(at, "cursor")
        except InvalidInput:
            moment = None
        if moment is not None:
            return moment, key
    raise InvalidInput("cursor is not one this service issued", field="cursor")


class AuditEventView(msgspec.Struct):
    """Every stored field of one audit event, with its place in the hash chain."""

    id: uuid.UUID
    occurred_at: datetime
    recorded_at: datetime
    action: str
    outcome: str | None
    reason: str | None
    user_id: str | None
    hpr_number: str | None
    roles: list[str]
    unit_id: str | None
    organisation_id: str | None
    patient: str | None
    resource_type: str | None
    resource_id: str | None
    data_action: str | None
    purpose_of_use: str | None
    break_glass_grant_id: str | None
    break_glass_reason_code: str | None
    client_system: str | None
    workstation: str | None
    policy_version: str | None
    decision_id: uuid.UUID | None
    detail: dict[str, Any] | None
    chain_id: uuid.UUID
    seq: int

    @classmethod
    def of(cls, chained: ChainedEvent) -> AuditEventView:
        e = chained.event
        return cls(
            id=e.id,
            occurred_at=e.occurred_at,
            recorded_at=chained.recorded_at,
            action=e.action,
            outcome=e.outcome,
            reason=e.reason,
            user_id=e.user_id,
            hpr_number=e.hpr_number,
            roles=list(e.roles),
            unit_id=e.unit_id,
            organisation_id=e.organisation_id,
            patient=e.patient,
            resource_type=e.resource_type,
            resource_id=e.resource_id,
            data_action=e.data_action,
            purpose_of_use=e.purpose_of_use,
            break_glass_grant_id=e.break_glass_grant_id,
            break_glass_reason_code=e.break_glass_reason_code,
            client_system=e.client_system,
            workstation=e.workstation,
            policy_version=e.policy_version,
            decision_id=e.decision_id,
            detail=e.detail,
            chain_id=chained.chain_id,
            seq=chained.seq,
        )


CSV_COLUMNS = AuditEventView.__struct_fields__


# A cell a spreadsheet would read as a formula. Calling systems choose several fields (workstation, client system,
# resource id), and privacy officers open exports in spreadsheets (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    """The text, behind an apostrophe where a spreadsheet would otherwise run it as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return _csv_text(";".join(value))  # roles
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    return _csv_text(str(value))


def _csv_row(view: AuditEventView) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([_csv_cell(getattr(view, name)) for name in CSV_COLUMNS])
    return out.getvalue()


async def encoded_chunks(events: AsyncIterator[ChainedEvent], fmt: str) -> AsyncIterator[bytes]:
    """The events as CSV (header first) or JSON Lines, in chunks of about CHUNK_BYTES."""
    encoder = msgspec.json.Encoder()
    buffer = bytearray()
    if fmt == "csv":
        header = io.StringIO()
        csv.writer(header, lineterminator="\r\n").writerow(CSV_COLUMNS)
        buffer += header.getvalue().encode()
    async for chained in events:
        view = AuditEventView.of(chained)
        buffer += _csv_row(view).encode() if fmt == "csv" else encoder.encode(view) + b"\n"
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)
