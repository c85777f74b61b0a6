"""SCIM over HTTP: the `application/scim+json` body in and out, list responses, ETags and the SCIM error shape."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from accessctl import errors
from accessctl.hr_sync.discovery import MAX_RESULTS
from accessctl.hr_sync.errors import InvalidSyntax, InvalidValue, ScimProblem, VersionMismatch
from accessctl.hr_sync.schemas import ERROR, LIST_RESPONSE
from accessctl.web.errors import ERROR_STATUS

SCIM_JSON = "application/scim+json"
log = logging.getLogger("accessctl.web.scim")


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=msgspec.json.encode(body), status_code=status, media_type=SCIM_JSON, headers=headers)


def error_response(status: int, detail: str, scim_type: str | None = None) -> Response[Any]:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return scim_response(body, status)


async def json_body(request: Request[Any, Any, Any]) -> Any:
    """The request body as JSON, whichever of application/json or application/scim+json it came as."""
    raw = await request.body()
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise InvalidSyntax("the body is not valid JSON", field="body") from None


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> Response[Any]:
    return scim_response(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def _integer(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidValue(f"{name} must be an integer", field=name) from None


# A 32-bit bound, far past any total: a larger offset overflows the database's integer (a 500, not an empty page).
MAX_START_INDEX = 2**31 - 1


def page_window(start_index: Any, count: Any) -> tuple[int, int]:
    """startIndex (1-based; below 1 means 1) and count (negative means 0; capped at maxResults)."""
    start = max(_integer(start_index, "startIndex") or 1, 1)
    if start > MAX_START_INDEX:
        raise InvalidValue(f"startIndex must be at most {MAX_START_INDEX}", field="startIndex")
    wanted = _integer(count, "count")
    return start, min(max(wanted if wanted is not None else 100, 0), MAX_RESULTS)


_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


def if_match_version(request: Request[Any, Any, Any]) -> int | None:
    """The version an `If-Match` header names; None when there is none or it is `*`."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if match is None:
        raise VersionMismatch(f"If-Match {header!r} is not an ETag this server issued", field="If-Match")
    return int(match.group(1))


def _detail(exc: errors.AccessctlError) -> str:
    if exc.field and exc.field not in exc.message:
        return f"{exc.field}: {exc.message}"
    return exc.message


def scim_domain_error(_: Request[Any, Any, Any], exc: errors.AccessctlError) -> Response[Any]:
    status = next((s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 500)
    scim_type = exc.scim_type if isinstance(exc, ScimProblem) else None
    if scim_type is None and isinstance(exc, errors.InvalidInput):
        scim_type = "invalidValue"
    if status >= 500:
        log.error("domain error answered %s: %s", status, exc.code)
    return error_response(status, _detail(exc), scim_type)


def scim_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return error_response(400, str(exc.detail), "invalidValue")


def scim_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    return error_response(status, str(exc.detail) if status < 500 else "internal error")


def scim_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; the incident is logged")


SCIM_EXCEPTION_HANDLERS: dict[Any, Any] = {
    errors.AccessctlError: scim_domain_error,
    ValidationException: scim_validation_error,
    HTTPException: scim_http_error,
    Exception: scim_unexpected_error,
}
