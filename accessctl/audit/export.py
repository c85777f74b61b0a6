"""Stream audit events out as a FHIR R4 Bundle of AuditEvents or as RFC 5424 syslog lines (IHE ATNA), never whole."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl.audit import actions
from accessctl.audit.chain import iso_utc
from accessctl.audit.events import ChainedEvent
from accessctl.audit.fhir import to_fhir
from accessctl.audit.store import EVENTS, chained_from_row

SYSLOG_FACILITY = 10  # security/authorization (authpriv)
SD_ID = "accessctl@32473"  # 32473 is the documentation enterprise number: register a real one before production


async def events_between(
    conn: AsyncConnection, since: datetime | None, until: datetime | None, *, batch: int = 500
) -> AsyncIterator[ChainedEvent]:
    """Events in time order, fetched `batch` rows at a time."""
    query = select(EVENTS).order_by(EVENTS.c.occurred_at, EVENTS.c.id)
    if since is not None:
        query = query.where(EVENTS.c.occurred_at >= since)
    if until is not None:
        query = query.where(EVENTS.c.occurred_at < until)
    result = await conn.stream(query.execution_options(yield_per=batch))
    async for row in result:
        yield chained_from_row(row._mapping)


async def write_fhir_bundle(events: AsyncIterator[ChainedEvent], out: TextIO) -> int:
    """A Bundle of type collection, written entry by entry; returns how many.

    No `total`: FHIR R4 allows it only in a searchset or history Bundle (invariant bdl-1), and a validator would
    refuse the whole file over it.
    """
    out.write('{"resourceType":"Bundle","type":"collection","entry":[')
    count = 0
    async for chained in events:
        entry = {"fullUrl": f"urn:uuid:{chained.event.id}", "resource": to_fhir(chained)}
        out.write(("," if count else "") + json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        count += 1
    out.write("]}\n")
    return count


def _sd_value(value: str) -> str:
    """Escape a structured-data parameter value as RFC 5424 section 6.3.3 requires."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _severity(chained: ChainedEvent) -> int:
    event = chained.event
    if event.action == actions.BREAK_GLASS_GRANTED or event.break_glass_grant_id is not None:
        return 4  # warning
    return 5 if event.outcome == "deny" else 6  # notice / informational


def syslog_line(chained: ChainedEvent, hostname: str = "-") -> str:
    """One RFC 5424 message: header, an SD element with the key fields, and the FHIR AuditEvent as MSG."""
    event = chained.event
    params = {
        "event": str(event.id),
        "chain": str(chained.chain_id),
        "seq": str(chained.seq),
        "user": event.user_id,
        "patient": event.patient,
        "outcome": event.outcome,
    }
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_value(v)}"' for k, v in params.items() if v is not None) + "]"
    pri = SYSLOG_FACILITY * 8 + _severity(chained)
    msg = json.dumps(to_fhir(chained), ensure_ascii=False, separators=(",", ":"))
    return f"<{pri}>1 {iso_utc(event.occurred_at)} {hostname} accessctl - {event.action} {sd} \ufeff{msg}"


async def write_syslog(events: AsyncIterator[ChainedEvent], out: TextIO, hostname: str = "-") -> int:
    count = 0
    async for chained in events:
        out.write(syslog_line(chained, hostname) + "\n")
        count += 1
    return count
