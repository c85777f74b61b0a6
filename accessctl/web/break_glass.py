"""Break-the-glass API: clinical systems request and end grants (authz:evaluate); reviewers follow up (btg:review).

Reviewers are scoped by their token: `organisations: [ids]` (a privacy officer; `["*"]` for the whole region) or
`units: [ids]` (a unit manager: those units and every unit below them). A token may carry both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accessctl.audit.sink import AuditOutbox
from accessctl.auth import Principal
from accessctl.break_glass import (
    GROUPS,
    BreakGlassService,
    ReviewerScope,
    ReviewFilter,
    ReviewQueue,
    break_glass_stats,
)
from accessctl.break_glass.eligibility import BreakGlassRefused
from accessctl.break_glass.reviews import QueuePosition
from accessctl.db import begin_writing, utcnow
from accessctl.errors import Forbidden, InvalidInput
from accessctl.pdp import DecisionPoint
from accessctl.web.audit_views import parse_moment
from accessctl.web.auth import caller, principal_of, requires
from accessctl.web.break_glass_schemas import GrantIn, GrantOut, GroupStatsOut, ReviewIn, ReviewOut, StatsOut
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession, writing_sessions
from accessctl.web.directory import Limit
from accessctl.web.pagination import DEFAULT_LIMIT, Page, check_limit, decode_cursor, encode_cursor

ALL_ORGANISATIONS = "*"
DEFAULT_STATS_DAYS = 30
From = Annotated[str | None, QueryParameter(name="from", description="ISO 8601 with zone; inclusive")]
To = Annotated[str | None, QueryParameter(name="to", description="ISO 8601 with zone; exclusive")]


def _ids(claims: Any, name: str) -> frozenset[str] | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Forbidden(f"the token's {name} claim must be a list of ids", field=name)
    return frozenset(value)


def reviewer_scope(principal: Principal) -> ReviewerScope:
    """What a btg:review token may see: its `organisations` (["*"] = all) and the subtrees of its `units`."""
    organisations, units = _ids(principal.claims, "organisations"), _ids(principal.claims, "units")
    if not organisations and not units:
        raise Forbidden(
            'a btg:review token needs an `organisations` claim (privacy officer; ["*"] for the region) '
            "or a `units` claim (unit manager)",
            field="organisations",
        )
    if organisations is not None and ALL_ORGANISATIONS in organisations:
        return ReviewerScope(organisations=None)
    return ReviewerScope(organisations=organisations or frozenset(), units=units or frozenset())


def _period(
    since: str | None, until: str | None, *, default_days: int | None
) -> tuple[datetime | None, datetime | None]:
    start, end = parse_moment(since, "from"), parse_moment(until, "to")
    if default_days is not None:
        end = end or utcnow()
        start = start or end - timedelta(days=default_days)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to must be after from", field="to")
    return start, end


def _after(cursor: str | None) -> QueuePosition | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        at, grant_id = position
        moment = parse_moment(at, "cursor")
        if moment is not None and isinstance(grant_id, str) and "\x00" not in grant_id:
            return moment, grant_id
    except (TypeError, ValueError, InvalidInput):
        pass
    raise InvalidInput("cursor is not one this service issued", field="cursor")


def _service(db_session: DbSession, state: State, audit: AuditOutbox) -> BreakGlassService:
    point: DecisionPoint = state.decision_point
    return BreakGlassService(
        db_session,
        engine=point.engine,
        audit=audit,
        reasons=state.break_glass_reasons,
        rules=state.break_glass_rules,
    )


def _queue(db_session: DbSession, state: State, audit: AuditOutbox | None = None) -> ReviewQueue:
    return ReviewQueue(
        db_session, audit=audit or AuditOutbox(), overdue_days=state.break_glass_rules.review_overdue_days
    )


class BreakGlassController(Controller):
    path = "/v1/break-glass"
    guards = [requires("authz:evaluate")]
    tags = ["break the glass"]

    @post("", status_code=201)
    async def request_grant(self, db_session: DbSession, state: State, data: JSONBody[GrantIn]) -> Response[GrantOut]:
        """Emergency access for the clinical system's user to one patient (201); the active grant if one exists (200).

        The grant and its break_glass.granted audit record commit in one transaction, and the record is chained
        into the audit log before the answer. A refusal (403) is audited the same way before it is answered.
        """
        audit = AuditOutbox()
        # One request at a time in this process, so two clicks cannot make two grants (PostgreSQL also locks).
        # The lock comes before the database's write lock: the other way round, a request holding SQLite's write
        # lock would wait here on one that waits for the audit writer, which waits for that write lock.
        async with state.break_glass_lock:
            await begin_writing(db_session)
            now = utcnow()
            try:
                grant, created = await _service(db_session, state, audit).request(data.ask(), now)
            except BreakGlassRefused:
                await committed(db_session, state, audit)
                raise
            body = GrantOut.of(grant, now)
            await committed(db_session, state, audit)
            if created:
                state.notification_relay.wake()
        return Response(body, status_code=201 if created else 200)

    @post("/{grant_id:str}/end", status_code=200)
    async def end_grant(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, grant_id: FromPath[str]
    ) -> GrantOut:
        """End a grant before it expires (audited as break_glass.ended); ending an ended grant changes nothing."""
        await begin_writing(db_session)
        now = utcnow()
        audit = AuditOutbox()
        grant = await _service(db_session, state, audit).end(grant_id, by=caller(request), now=now)
        body = GrantOut.of(grant, now)
        await committed(db_session, state, audit)
        return body


class BreakGlassReviewController(Controller):
    path = "/v1/break-glass"
    guards = [requires("btg:review")]
    tags = ["break the glass"]
    dependencies = writing_sessions()

    @get("/reviews")
    async def list_reviews(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        state: State,
        status: FromQuery[str | None] = None,
        organisation: FromQuery[str | None] = None,
        unit: FromQuery[str | None] = None,
        user: FromQuery[str | None] = None,
        overdue: FromQuery[bool | None] = None,
        since: From = None,
        until: To = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[ReviewOut]:
        """Grants and their reviews within the caller's scope, oldest first; `overdue` marks late pending reviews."""
        start, end = _period(since, until, default_days=None)
        wanted = ReviewFilter(status, organisation, unit, user, start, end, overdue)
        items = await _queue(db_session, state).items(
            reviewer_scope(principal_of(request)), wanted, utcnow(), after=_after(cursor), limit=check_limit(limit) + 1
        )
        more = len(items) > limit
        items = items[:limit]
        next_cursor = encode_cursor([items[-1].granted_at.isoformat(), items[-1].id]) if more else None
        return Page(items=[ReviewOut.of(i) for i in items], next_cursor=next_cursor)

    @post("/{grant_id:str}/review", status_code=200)
    async def review(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        state: State,
        grant_id: FromPath[str],
        data: JSONBody[ReviewIn],
    ) -> ReviewOut:
        """Justified, unjustified or follow_up, with a comment; never by the user who broke the glass."""
        principal = principal_of(request)
        audit = AuditOutbox()
        item = await _queue(db_session, state, audit).review(
            grant_id,
            data.outcome,
            data.comment,
            reviewer=principal.subject,
            scope=reviewer_scope(principal),
            now=utcnow(),
        )
        await committed(db_session, state, audit)
        return ReviewOut.of(item)

    @get("/stats")
    async def stats(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        group_by: FromQuery[str] = "unit",
        since: From = None,
        until: To = None,
    ) -> StatsOut:
        """Per unit, role, user or reason: grants, share of patient accesses, share reviewed, count unjustified."""
        key = next((g for g in GROUPS if g == group_by), None)
        if key is None:
            raise InvalidInput(f"group_by must be one of {', '.join(GROUPS)}", field="group_by")
        start, end = _period(since, until, default_days=DEFAULT_STATS_DAYS)
        assert start is not None and end is not None
        groups = await break_glass_stats(db_session, reviewer_scope(principal_of(request)), start, end, key)
        return StatsOut(from_=start, to=end, group_by=group_by, groups=[GroupStatsOut.of(g) for g in groups])


__all__ = ["BreakGlassController", "BreakGlassReviewController", "reviewer_scope"]
