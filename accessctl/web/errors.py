"""One table maps domain errors to HTTP; every error leaves as JSON with a stable code, never a trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from accessctl import errors

log = logging.getLogger("accessctl.web")

ERROR_STATUS: dict[type[errors.AccessctlError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PreconditionFailed: 412,
    errors.InvalidPolicy: 422,
    errors.AccessTestsFailed: 422,
    errors.StoreUnavailable: 503,
    errors.InvalidSetting: 500,
}

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return body


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def domain_error_answer(exc: errors.AccessctlError) -> tuple[int, dict[str, Any], dict[str, str] | None]:
    """Status, body and extra headers of the answer to a domain error, from the one table."""
    status = next((s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 500)
    if status >= 500:
        log.error("domain error answered %s: %s", status, exc.code)
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    return status, error_body(exc.code, exc.message, exc.field), headers


def domain_error(_: Request[Any, Any, Any], exc: errors.AccessctlError) -> Response[Any]:
    return _json(*domain_error_answer(exc))


def validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    field, message = _first_problem(exc)
    return _json(400, error_body("invalid_request", message, field))


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = _HTTP_CODES.get(status, "error")
    message = exc.detail if status < 500 else "internal error"
    return _json(status, error_body(code, str(message)), exc.headers)


def not_found(_: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    return _json(404, error_body("not_found", str(exc.detail)))


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, error_body("internal_error", "internal error; the incident is logged"))


_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = re.compile(r"^(.*) - at `\$\.?([^`]*)`$")


def field_problem(message: str, path: str = "") -> tuple[str | None, str]:
    """The dotted field path a msgspec message is about, and the message without its `- at` suffix."""
    at = _AT.match(message)
    if at:
        message, path = at.group(1), ".".join(p for p in (path, at.group(2)) if p)
    missing = _MISSING.search(message)
    if missing:
        path = ".".join(p for p in (path, missing.group(1)) if p)
    return path or None, message


def _first_problem(exc: ValidationException) -> tuple[str | None, str]:
    """The field path and message of the first problem; `data` is Litestar's name for the whole body."""
    extra = exc.extra
    if not (isinstance(extra, list) and extra and isinstance(extra[0], dict)):
        return None, str(exc.detail)
    first = extra[0]
    key = str(first.get("key") or "").removeprefix("$.")
    field, message = field_problem(str(first.get("message", exc.detail)), "" if key == "data" else key)
    return field, f"{field}: {message}" if field else message


EXCEPTION_HANDLERS: dict[Any, Any] = {
    errors.AccessctlError: domain_error,
    ValidationException: validation_error,
    NotFoundException: not_found,
    HTTPException: http_error,
    Exception: unexpected_error,
}
