"""The two AuthZEN evaluation routes as raw ASGI: the hot path, served before Litestar's routing.

A decision is a few microseconds; Litestar's per-request machinery (middleware, guards, signature parsing,
response objects) cost about half of an audited evaluation's CPU. So `AccessctlApp` hands a POST to exactly
`/access/v1/evaluation` or `/access/v1/evaluations` to `serve_evaluation`, which does what the route would:
the bearer token and its scope (the same functions as the middleware and guard), the body decoded into the
same msgspec shapes with the field named on error, the same evaluation functions, the same error table and
the same latency histogram. `AuthZenController` still declares both routes, for the OpenAPI document and for
requests that reach the router by another spelling.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Receive,
    Scope,
    Send,
)

from accessctl.auth import TokenVerifier
from accessctl.errors import AccessctlError, InvalidInput
from accessctl.web.auth import bearer_token, require_scope
from accessctl.web.authzen import EVALUATE_SCOPE, evaluate_many, evaluate_one
from accessctl.web.authzen_schemas import EvaluationRequest, EvaluationsRequest
from accessctl.web.errors import domain_error_answer, error_body, field_problem
from accessctl.web.metrics import observe_request

log = logging.getLogger("accessctl.web")

# Litestar's default limit, which the routes had before they were served here.
MAX_BODY_BYTES = 10_000_000
_SCOPES = (EVALUATE_SCOPE,)
_ENCODER = msgspec.json.Encoder()
_JSON_HEADERS = [(b"content-type", b"application/json")]


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


def _decoding(shape: type[Any]) -> Callable[[bytes], Any]:
    decoder = msgspec.json.Decoder(shape)

    def decode(body: bytes) -> Any:
        try:
            return decoder.decode(body)
        except msgspec.ValidationError as exc:
            field, message = field_problem(str(exc))
            raise InvalidInput(f"{field}: {message}" if field else message, field=field) from None
        except msgspec.DecodeError as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}") from None

    return decode


_decode_one = _decoding(EvaluationRequest)
_decode_many = _decoding(EvaluationsRequest)


async def _one(state: State, body: bytes) -> Any:
    return await evaluate_one(state, _decode_one(body))


async def _many(state: State, body: bytes) -> Any:
    return await evaluate_many(state, _decode_many(body))


EVALUATION_ROUTES: dict[str, Callable[[State, bytes], Awaitable[Any]]] = {
    "/access/v1/evaluation": _one,
    "/access/v1/evaluations": _many,
}


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _authorization(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


async def _answer(state: State, route: str, scope: Scope, receive: Receive) -> tuple[int, Any, dict[str, str] | None]:
    try:
        verifier: TokenVerifier = state.verifier
        require_scope(await verifier.verify(bearer_token(_authorization(scope))), _SCOPES)
        body = await _read_body(scope, receive)
        return 200, await EVALUATION_ROUTES[route](state, body), None
    except AccessctlError as exc:
        return domain_error_answer(exc)
    except _BodyTooLarge:
        return 413, error_body("request_too_large", f"the body is larger than {MAX_BODY_BYTES} bytes"), None
    except _ClientGone:
        raise
    except Exception:
        log.exception("unhandled error on POST %s", route)
        return 500, error_body("internal_error", "internal error; the incident is logged"), None


async def serve_evaluation(state: State, scope: HTTPScope, receive: Receive, send: Send) -> None:
    """Answer one POST to an evaluation route (scope["path"] is one of EVALUATION_ROUTES)."""
    started = time.perf_counter()
    route = scope["path"]
    try:
        status, answer, extra = await _answer(state, route, scope, receive)
    except _ClientGone:
        return
    body = _ENCODER.encode(answer)
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if extra:
        headers += [(name.lower().encode(), value.encode()) for name, value in extra.items()]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
    observe_request(route, "POST", status, time.perf_counter() - started)


async def _refuse_nul(scope: HTTPScope, send: Send) -> None:
    field = "path" if "\x00" in scope["path"] else "query"
    body = _ENCODER.encode(error_body("invalid_request", f"the {field} contains a NUL character", field=field))
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 400, "headers": headers}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


class AccessctlApp(Litestar):
    """Litestar, with a POST to an evaluation route served by `serve_evaluation` before routing."""

    async def __call__(
        self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive, send: Send | LifeSpanSend
    ) -> None:
        if scope["type"] == ScopeType.HTTP:
            http = cast(HTTPScope, scope)
            if "\x00" in http["path"] or b"%00" in http["query_string"]:
                # No id or filter holds a NUL, and PostgreSQL's text cannot: refused here, once for every route.
                await _refuse_nul(http, cast(Send, send))
                return
            if http["method"] == "POST" and http["path"] in EVALUATION_ROUTES:
                await serve_evaluation(self.state, http, cast(Receive, receive), cast(Send, send))
                return
        await super().__call__(scope, receive, send)
