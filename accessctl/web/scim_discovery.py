"""SCIM discovery (/ServiceProviderConfig, /Schemas, /ResourceTypes), read-only /Groups, and SCIM-shaped 404/405."""

from __future__ import annotations

from typing import Any

from litestar import Controller, HttpMethod, Request, Response, get, route
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from accessctl.db import utcnow
from accessctl.hr_sync import parse_filter
from accessctl.hr_sync.discovery import (
    RESOURCE_TYPES,
    SCHEMAS,
    resource_type_by_id,
    schema_by_id,
    service_provider_config,
)
from accessctl.hr_sync.errors import ResourceNotFound
from accessctl.hr_sync.groups import get_group, group_to_scim, search_groups
from accessctl.hr_sync.projection import project
from accessctl.web.dependencies import DbSession
from accessctl.web.scim_http import error_response, list_response, page_window, scim_response

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


class GroupController(Controller):
    """Units as SCIM Groups; writes answer 405 because the organisation feed owns units."""

    path = "/Groups"

    @get("/")
    async def list_groups(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[Any]:
        params = request.query_params
        raw_filter = params.get("filter")
        start, count = page_window(params.get("startIndex"), params.get("count"))
        total, groups = await search_groups(
            db_session, utcnow(), where=parse_filter(raw_filter) if raw_filter else None, start_index=start, count=count
        )
        attributes, excluded = params.get("attributes"), params.get("excludedAttributes")
        resources = [project(group_to_scim(g, _base(request)), attributes, excluded) for g in groups]
        return list_response(resources, total, start)

    @get("/{group_id:str}")
    async def get_group(
        self, request: Request[Any, Any, Any], db_session: DbSession, group_id: FromPath[str]
    ) -> Response[Any]:
        group = await get_group(db_session, group_id, utcnow())
        params = request.query_params
        body = project(group_to_scim(group, _base(request)), params.get("attributes"), params.get("excludedAttributes"))
        return scim_response(body)

    @route(["/", "/{group_id:str}"], http_method=WRITES, status_code=405)
    async def read_only(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return error_response(405, "Groups are units, owned by the organisation feed; they are read-only here")


DISCOVERY_HANDLERS: list[HTTPRouteHandler] = [
    provider_config,
    list_schemas,
    one_schema,
    list_resource_types,
    one_resource_type,
    discovery_is_read_only,
    no_such_endpoint,
]
