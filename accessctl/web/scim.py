"""SCIM 2.0 at /scim/v2 (scope hr:write): Users for joiners, movers and leavers; discovery and Groups beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, Router, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.sink import AuditOutbox
from accessctl.db import utcnow
from accessctl.hr_sync import Filter, HrUserService, StoredUser, parse_filter, project, search_users, user_from_scim
from accessctl.hr_sync.errors import InvalidFilter, InvalidSyntax, InvalidValue
from accessctl.hr_sync.groups import search_groups
from accessctl.hr_sync.guard import RecentLeaverGuard
from accessctl.hr_sync.mapping import field, group_to_scim, user_to_scim, weak_etag
from accessctl.hr_sync.records import UnitGroup
from accessctl.hr_sync.schemas import SEARCH_REQUEST
from accessctl.hr_sync.store import load_user, read_user
from accessctl.web.auth import caller, requires
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession, writing_sessions
from accessctl.web.org_units import AssignmentsFromPolicy
from accessctl.web.scim_discovery import DISCOVERY_HANDLERS, GroupController
from accessctl.web.scim_http import (
    SCIM_EXCEPTION_HANDLERS,
    if_match_version,
    json_body,
    list_response,
    page_window,
    scim_response,
)

BASE = "/scim/v2"


def base_url(request: Request[Any, Any, Any]) -> str:
    return f"{str(request.base_url).rstrip('/')}{BASE}"


def _user_json(request: Request[Any, Any, Any], user: StoredUser) -> dict[str, Any]:
    return user_to_scim(user, f"{base_url(request)}/Users/{user.id}")


def _answer(request: Request[Any, Any, Any], user: StoredUser, status: int = 200) -> Response[Any]:
    body = project(_user_json(request, user), request.query_params.get("attributes"), None)
    headers = {"ETag": weak_etag(user.version), "Location": f"{base_url(request)}/Users/{user.id}"}
    return scim_response(body, status, headers)


def _confirmed(request: Request[Any, Any, Any]) -> bool:
    """The explicit `confirm_mass_change=true` that lets a write past the mass-change guard."""
    value = request.query_params.get("confirm_mass_change", "false").lower()
    if value not in {"true", "false"}:
        raise InvalidValue("confirm_mass_change must be true or false", field="confirm_mass_change")
    return value == "true"


def _service(
    request: Request[Any, Any, Any], session: AsyncSession, state: State, outbox: AuditOutbox
) -> HrUserService:
    settings = state.settings
    guard = RecentLeaverGuard(
        share=settings.mass_change_share,
        window=timedelta(seconds=settings.mass_change_window_seconds),
        confirmed=_confirmed(request),
    )
    return HrUserService(
        session, recompute=AssignmentsFromPolicy(state), audit=outbox, actor=caller(request), guard=guard
    )


@dataclass(frozen=True, slots=True)
class _Query:
    """A list or search request's parameters, checked: the same whether from a query string or a SearchRequest."""

    where: Filter | None
    sort_by: str | None
    descending: bool
    start: int
    count: int
    attributes: str | None
    excluded: str | None

    @classmethod
    def of(cls, params: dict[str, Any]) -> _Query:
        raw_filter, sort_by = params.get("filter"), params.get("sortBy")
        order = str(params.get("sortOrder") or "ascending").lower()
        if order not in {"ascending", "descending"}:
            raise InvalidValue("sortOrder must be ascending or descending", field="sortOrder")
        start, count = page_window(params.get("startIndex"), params.get("count"))
        return cls(
            where=parse_filter(str(raw_filter)) if raw_filter not in (None, "") else None,
            sort_by=str(sort_by) if sort_by else None,
            descending=order == "descending",
            start=start,
            count=count,
            attributes=_joined(params.get("attributes")),
            excluded=_joined(params.get("excludedAttributes")),
        )


def _joined(value: Any) -> str | None:
    if isinstance(value, list):
        return ",".join(str(name) for name in value)
    return None if value is None else str(value)


async def _users_page(session: AsyncSession, query: _Query, now: datetime) -> tuple[int, list[StoredUser]]:
    return await search_users(
        session,
        now,
        where=query.where,
        sort_by=query.sort_by,
        descending=query.descending,
        start_index=query.start,
        count=query.count,
    )


async def _search(request: Request[Any, Any, Any], session: AsyncSession, params: dict[str, Any]) -> Response[Any]:
    query = _Query.of(params)
    total, users = await _users_page(session, query, utcnow())
    resources = [project(_user_json(request, u), query.attributes, query.excluded) for u in users]
    return list_response(resources, total, query.start)


async def _search_params(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The parameters of a SearchRequest body (RFC 7644 §3.4.3)."""
    body = await json_body(request)
    if not isinstance(body, dict) or SEARCH_REQUEST not in (field(body, "schemas") or []):
        raise InvalidSyntax(f"schemas must list {SEARCH_REQUEST}", field="schemas")
    names = ("filter", "sortBy", "sortOrder", "startIndex", "count", "attributes", "excludedAttributes")
    return {name: field(body, name) for name in names}


@post("/.search", status_code=200)
async def search_everything(request: Request[Any, Any, Any], db_session: DbSession) -> Response[Any]:
    """A search from the root (RFC 7644 §3.4.3) over every resource type: the Users that match, then the Groups.

    A resource type that cannot filter on what the filter names contributes none (Groups filter on id, externalId
    and displayName only); a filter that no type can evaluate is refused. `sortBy` orders the Users; the Groups
    follow in id order.
    """
    query, now = _Query.of(await _search_params(request)), utcnow()
    users: list[StoredUser] = []
    groups: list[UnitGroup] = []
    unfit: InvalidFilter | None = None
    try:
        total, users = await _users_page(db_session, query, now)
    except InvalidFilter as problem:
        total, unfit = 0, problem
    try:
        # The page runs on from the last matching User into the Groups.
        start, count = max(query.start - total, 1), query.count - len(users)
        group_total, groups = await search_groups(db_session, now, where=query.where, start_index=start, count=count)
    except InvalidFilter:
        if unfit is not None:
            raise unfit from None
        group_total = 0
    resources = [project(_user_json(request, u), query.attributes, query.excluded) for u in users]
    resources += [project(group_to_scim(g, base_url(request)), query.attributes, query.excluded) for g in groups]
    return list_response(resources, total + group_total, query.start)


class UserController(Controller):
    path = "/Users"

    @get("/")
    async def list_users(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[Any]:
        """Users matching `filter`, sorted by `sortBy`, from `startIndex`, at most `count`."""
        return await _search(request, db_session, dict(request.query_params))

    @post("/.search", status_code=200)
    async def search(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[Any]:
        """The same query as GET /Users, in a SearchRequest body."""
        return await _search(request, db_session, await _search_params(request))

    @get("/{user_id:str}")
    async def get_user(
        self, request: Request[Any, Any, Any], db_session: DbSession, user_id: FromPath[str]
    ) -> Response[Any]:
        now = utcnow()
        user = await read_user(db_session, await load_user(db_session, user_id, now), now)
        if request.headers.get("if-none-match") == weak_etag(user.version):
            return Response(content=b"", status_code=304, headers={"ETag": weak_etag(user.version)})
        body = project(
            _user_json(request, user),
            request.query_params.get("attributes"),
            request.query_params.get("excludedAttributes"),
        )
        return scim_response(body, headers={"ETag": weak_etag(user.version)})

    @post("/", status_code=201)
    async def create_user(self, request: Request[Any, Any, Any], db_session: DbSession, state: State) -> Response[Any]:
        """A joiner (or a rehire of a leaver SCIM deleted: the same id comes back)."""
        record = user_from_scim(await json_body(request))
        outbox = AuditOutbox()
        user, _ = await _service(request, db_session, state, outbox).create(record)
        await committed(db_session, state, outbox)
        return _answer(request, user, 201)

    @put("/{user_id:str}")
    async def replace_user(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, user_id: FromPath[str]
    ) -> Response[Any]:
        """Replace everything HR owns about the user, employments included."""
        record = user_from_scim(await json_body(request))
        outbox = AuditOutbox()
        service = _service(request, db_session, state, outbox)
        user = await service.replace(user_id, record, if_match_version(request))
        await committed(db_session, state, outbox)
        return _answer(request, user)

    @patch("/{user_id:str}")
    async def patch_user(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, user_id: FromPath[str]
    ) -> Response[Any]:
        """Apply add/replace/remove operations, all or none."""
        body = await json_body(request)
        outbox = AuditOutbox()
        service = _service(request, db_session, state, outbox)
        user = await service.patch(user_id, body, if_match_version(request))
        await committed(db_session, state, outbox)
        return _answer(request, user)

    @delete("/{user_id:str}", status_code=204)
    async def delete_user(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, user_id: FromPath[str]
    ) -> None:
        """A leaver: deactivated at once, employments ended; the row stays, and SCIM answers 404 for it after."""
        outbox = AuditOutbox()
        await _service(request, db_session, state, outbox).deactivate(user_id, if_match_version(request))
        await committed(db_session, state, outbox)


scim_router = Router(
    path=BASE,
    route_handlers=[UserController, search_everything, GroupController, *DISCOVERY_HANDLERS],
    guards=[requires("hr:write")],
    dependencies=writing_sessions(),
    exception_handlers=SCIM_EXCEPTION_HANDLERS,
    tags=["hr (SCIM 2.0)"],
)
