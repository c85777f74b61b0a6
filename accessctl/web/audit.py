"""Privacy officers' audit API (scope audit:read): query and streamed export, limited to the token's organisations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from accessctl.audit import actions
from accessctl.audit.events import OUTCOMES, AuditEvent
from accessctl.audit.queries import EventFilter, Position, all_events, events_page
from accessctl.auth import Principal
from accessctl.db import Database, utcnow
from accessctl.errors import Forbidden, InvalidInput
from accessctl.web.audit_views import EXPORT_FORMATS, AuditEventView, cursor_position, encoded_chunks, parse_moment
from accessctl.web.auth import principal_of, requires
from accessctl.web.dependencies import DbSession
from accessctl.web.directory import Limit
from accessctl.web.pagination import DEFAULT_LIMIT, Page, check_limit, encode_cursor

ALL_ORGANISATIONS = "*"
WantedEvents = NamedDependency[EventFilter]


def visible_organisations(principal: Principal) -> frozenset[str] | None:
    """The organisations whose events the caller may read; None for all (claim `organisations: ["*"]`)."""
    granted = principal.claims.get("organisations")
    if not isinstance(granted, list) or not all(isinstance(org, str) for org in granted):
        raise Forbidden(
            "this token grants no organisations: an audit:read token needs an `organisations` claim "
            '(a list of organisation ids, or ["*"] for a regional privacy officer)',
            field="organisations",
        )
    if ALL_ORGANISATIONS in granted:
        return None
    return frozenset(granted)


async def provide_event_filter(
    request: Request[Any, Any, Any],
    patient: FromQuery[str | None] = None,
    user: FromQuery[str | None] = None,
    unit: FromQuery[str | None] = None,
    organisation: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    outcome: FromQuery[str | None] = None,
    break_glass: FromQuery[bool | None] = None,
    resource_type: FromQuery[str | None] = None,
    since: Annotated[str | None, QueryParameter(name="from", description="ISO 8601 with zone; inclusive")] = None,
    until: Annotated[str | None, QueryParameter(name="to", description="ISO 8601 with zone; exclusive")] = None,
) -> EventFilter:
    """The query's filters, checked, and narrowed to what the caller's token may see."""
    organisations = visible_organisations(principal_of(request))
    for field, given in (
        ("patient", patient),
        ("user", user),
        ("unit", unit),
        ("organisation", organisation),
        ("resource_type", resource_type),
    ):
        if given is not None and not given.strip():
            raise InvalidInput(f"{field} is empty: leave it out to match every {field.replace('_', ' ')}", field=field)
    if organisation is not None and organisations is not None and organisation not in organisations:
        raise Forbidden(f"this token does not grant organisation {organisation!r}", field="organisation")
    if action is not None and action not in actions.ALL:
        raise InvalidInput(f"action must be one of {', '.join(sorted(actions.ALL))}", field="action")
    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    start, end = parse_moment(since, "from"), parse_moment(until, "to")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to must be after from", field="to")
    return EventFilter(
        organisations=organisations,
        patient=patient,
        user=user,
        unit=unit,
        organisation=organisation,
        action=action,
        outcome=outcome,
        break_glass=break_glass,
        resource_type=resource_type,
        since=start,
        until=end,
    )


def _after(cursor: str | None) -> Position | None:
    position = cursor_position(cursor)
    if position is None:
        return None
    moment, last_id = position
    try:
        return moment, uuid.UUID(last_id)
    except ValueError:
        raise InvalidInput("cursor is not one this service issued", field="cursor") from None


class AuditController(Controller):
    path = "/v1/audit/events"
    guards = [requires("audit:read")]
    dependencies = {"wanted": Provide(provide_event_filter)}
    tags = ["audit"]

    @get("")
    async def list_events(
        self,
        db_session: DbSession,
        wanted: WantedEvents,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[AuditEventView]:
        """Audit events matching the filters, in (occurred_at, id) order, keyset-paginated."""
        rows = await events_page(db_session, wanted, after=_after(cursor), limit=check_limit(limit) + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1].event if rows else None
        next_cursor = encode_cursor([last.occurred_at.isoformat(), str(last.id)]) if more and last else None
        return Page(items=[AuditEventView.of(chained) for chained in rows], next_cursor=next_cursor)

    @get("/export")
    async def export_events(
        self,
        request: Request[Any, Any, Any],
        wanted: WantedEvents,
        fmt: Annotated[str, QueryParameter(name="format", description="csv or json (JSON Lines)")] = "json",
    ) -> Stream:
        """Every matching event, streamed as CSV or JSON Lines; the export itself is recorded in the audit log."""
        if fmt not in EXPORT_FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(EXPORT_FORMATS)}", field="format")
        principal = principal_of(request)
        await request.app.state.audit_writer.record(
            AuditEvent(
                action=actions.AUDIT_EXPORTED,
                occurred_at=utcnow(),
                user_id=principal.subject[:64],
                organisation_id=wanted.organisation,
                patient=wanted.patient,
                detail={"format": fmt, "filter": _described(wanted)},
            )
        )
        database: Database = request.app.state.database

        async def body() -> AsyncIterator[bytes]:
            # Its own session: the request's session is closed once the handler returns, before the body is sent.
            async with database.sessions() as session:
                async for chunk in encoded_chunks(all_events(session, wanted), fmt):
                    yield chunk

        media_type, suffix = EXPORT_FORMATS[fmt]
        headers = {"Content-Disposition": f'attachment; filename="audit-events.{suffix}"'}
        return Stream(body(), media_type=media_type, headers=headers)


def _described(wanted: EventFilter) -> dict[str, Any]:
    """The filter as JSON for the export's own audit record."""
    described: dict[str, Any] = {}
    for name, value in vars(wanted).items():
        if isinstance(value, frozenset):
            described[name] = sorted(value)
        elif isinstance(value, datetime):
            described[name] = value.isoformat()
        elif value is not None:
            described[name] = value
    return described
