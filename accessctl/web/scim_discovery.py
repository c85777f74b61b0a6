"""SCIM discovery (/ServiceProviderConfig, /Schemas, /ResourceTypes), /Groups (units), and SCIM-shaped 404/405."""

from __future__ import annotations

from typing import Any

from litestar import Controller, HttpMethod, Request, Response, delete, get, patch, post, put, route
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.sink import AuditOutbox
from accessctl.db import utcnow
from accessctl.hr_sync import parse_filter
from accessctl.hr_sync.discovery import (
    RESOURCE_TYPES,
    SCHEMAS,
    resource_type_by_id,
    schema_by_id,
    service_provider_config,
)
from accessctl.hr_sync.errors import InvalidSyntax, ResourceNotFound
from accessctl.hr_sync.groups import HrGroupService, get_group, search_groups
from accessctl.hr_sync.mapping import field, group_to_scim, weak_etag
from accessctl.hr_sync.projection import project
from accessctl.hr_sync.records import UnitGroup
from accessctl.hr_sync.schemas import SEARCH_REQUEST
from accessctl.web.auth import caller
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession
from accessctl.web.org_units import AssignmentsFromPolicy
from accessctl.web.scim_http import (
    error_response,
    if_match_version,
    json_body,
    list_response,
    page_window,
    scim_response,
)

WRITES = [HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE]
EVERY_METHOD = [HttpMethod.GET, HttpMethod.HEAD, *WRITES]


def _base(request: Request[Any, Any, Any]) -> str:
    return f"{str(request.base_url).rstrip('/')}/scim/v2"


def _located(document: dict[str, Any], request: Request[Any, Any, Any]) -> dict[str, Any]:
    meta = dict(document.get("meta", {}))
    if "location" in meta:
        meta["location"] = f"{_base(request)}{meta['location']}"
    return {**document, "meta": meta}


@get("/ServiceProviderConfig")
async def provider_config(request: Request[Any, Any, Any]) -> Response[Any]:
    return scim_response(_located(service_provider_config(), request))


@get("/Schemas")
async def list_schemas(request: Request[Any, Any, Any]) -> Response[Any]:
    return list_response([_located(s, request) for s in SCHEMAS], len(SCHEMAS), 1)


@get("/Schemas/{urn:str}")
async def one_schema(request: Request[Any, Any, Any], urn: FromPath[str]) -> Response[Any]:
    document = schema_by_id(urn)
    if document is None:
        raise ResourceNotFound(f"no schema {urn}", field="id")
    return scim_response(_located(document, request))


@get("/ResourceTypes")
async def list_resource_types(request: Request[Any, Any, Any]) -> Response[Any]:
    return list_response([_located(r, request) for r in RESOURCE_TYPES], len(RESOURCE_TYPES), 1)


@get("/ResourceTypes/{name:str}")
async def one_resource_type(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
    document = resource_type_by_id(name)
    if document is None:
        raise ResourceNotFound(f"no resource type {name}", field="id")
    return scim_response(_located(document, request))


@route(
    ["/ServiceProviderConfig", "/Schemas", "/Schemas/{urn:str}", "/ResourceTypes", "/ResourceTypes/{name:str}"],
    http_method=WRITES,
    status_code=405,
)
async def discovery_is_read_only(request: Request[Any, Any, Any]) -> Response[Any]:
    """Discovery endpoints answer GET only (RFC 7644 §4)."""
    return error_response(405, f"{request.method} is not allowed on {request.url.path}")


@route("/{rest:path}", http_method=EVERY_METHOD, status_code=404)
async def no_such_endpoint(request: Request[Any, Any, Any], rest: FromPath[str]) -> Response[Any]:
    """Anything else under /scim/v2 is a SCIM 404."""
    return error_response(404, f"no SCIM endpoint at {request.url.path}")


def _group_answer(request: Request[Any, Any, Any], group: UnitGroup, status: int = 200) -> Response[Any]:
    params = request.query_params
    body = project(group_to_scim(group, _base(request)), params.get("attributes"), params.get("excludedAttributes"))
    headers = {"ETag": weak_etag(group.version), "Location": f"{_base(request)}/Groups/{group.id}"}
    return scim_response(body, status, headers)


async def _list_groups(request: Request[Any, Any, Any], session: AsyncSession, params: dict[str, Any]) -> Response[Any]:
    raw_filter = params.get("filter")
    start, count = page_window(params.get("startIndex"), params.get("count"))
    where = parse_filter(str(raw_filter)) if raw_filter not in (None, "") else None
    total, groups = await search_groups(session, utcnow(), where=where, start_index=start, count=count)
    attributes, excluded = params.get("attributes"), params.get("excludedAttributes")
    if isinstance(attributes, list):
        attributes = ",".join(attributes)
    if isinstance(excluded, list):
        excluded = ",".join(excluded)
    resources = [project(group_to_scim(g, _base(request)), attributes, excluded) for g in groups]
    return list_response(resources, total, start)


def _group_service(
    request: Request[Any, Any, Any], session: AsyncSession, state: State, outbox: AuditOutbox
) -> HrGroupService:
    return HrGroupService(session, recompute=AssignmentsFromPolicy(state), audit=outbox, actor=caller(request))


class GroupController(Controller):
    """Units as SCIM Groups: the same units `PUT /v1/org/units` puts, through the same checks."""

    path = "/Groups"

    @get("/")
    async def list_groups(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[Any]:
        """Units matching `filter` (id, externalId, displayName), from `startIndex`, at most `count`."""
        return await _list_groups(request, db_session, dict(request.query_params))

    @post("/.search", status_code=200)
    async def search(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[Any]:
        """The same query as GET /Groups, in a SearchRequest body."""
        body = await json_body(request)
        if not isinstance(body, dict) or SEARCH_REQUEST not in (field(body, "schemas") or []):
            raise InvalidSyntax(f"schemas must list {SEARCH_REQUEST}", field="schemas")
        names = ("filter", "startIndex", "count", "attributes", "excludedAttributes")
        return await _list_groups(request, db_session, {name: field(body, name) for name in names})

    @get("/{group_id:str}")
    async def get_group(
        self, request: Request[Any, Any, Any], db_session: DbSession, group_id: FromPath[str]
    ) -> Response[Any]:
        group = await get_group(db_session, group_id, utcnow())
        if request.headers.get("if-none-match") == weak_etag(group.version):
            return Response(content=b"", status_code=304, headers={"ETag": weak_etag(group.version)})
        return _group_answer(request, group)

    @post("/", status_code=201)
    async def create_group(self, request: Request[Any, Any, Any], db_session: DbSession, state: State) -> Response[Any]:
        """A new unit, named by its externalId, in the organisation its extension names."""
        body = await json_body(request)
        outbox = AuditOutbox()
        group = await _group_service(request, db_session, state, outbox).create(body)
        await committed(db_session, state, outbox)
        return _group_answer(request, group, 201)

    @put("/{group_id:str}")
    async def replace_group(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, group_id: FromPath[str]
    ) -> Response[Any]:
        """Replace the unit's name, parent, kind and services (members follow employments, not this)."""
        body = await json_body(request)
        outbox = AuditOutbox()
        service = _group_service(request, db_session, state, outbox)
        group = await service.replace(group_id, body, if_match_version(request))
        await committed(db_session, state, outbox)
        return _group_answer(request, group)

    @patch("/{group_id:str}")
    async def patch_group(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, group_id: FromPath[str]
    ) -> Response[Any]:
        """Apply add/replace/remove operations to the unit, all or none."""
        body = await json_body(request)
        outbox = AuditOutbox()
        service = _group_service(request, db_session, state, outbox)
        group = await service.patch(group_id, body, if_match_version(request))
        await committed(db_session, state, outbox)
        return _group_answer(request, group)

    @delete("/{group_id:str}", status_code=204)
    async def delete_group(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, group_id: FromPath[str]
    ) -> None:
        """Remove a unit nothing refers to; 409 naming what still does (staff, child units, assignments, ...)."""
        outbox = AuditOutbox()
        await _group_service(request, db_session, state, outbox).delete(group_id, if_match_version(request))
        await committed(db_session, state, outbox)

    @route("/", http_method=[HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE], status_code=405)
    async def whole_collection(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return error_response(405, f"{request.method} needs a Group id: /Groups/{{id}}")


DISCOVERY_HANDLERS: list[HTTPRouteHandler] = [
    provider_config,
    list_schemas,
    one_schema,
    list_resource_types,
    one_resource_type,
    discovery_is_read_only,
    no_such_endpoint,
]
