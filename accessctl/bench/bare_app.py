"""The references of `accessctl bench http` and `bench floor`: a bare Litestar app whose one endpoint answers a
constant JSON, and the same constant as plain ASGI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar, get, post
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, HTTPScope, Receive, Send

ANSWER = {"decision": True, "context": {"reason": "constant"}}


@post("/bare", status_code=200)
async def bare() -> dict[str, Any]:
    """Takes the same POST as an evaluation, ignores its body, and answers the same constant."""
    return ANSWER


@get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


def create_bare_app() -> Litestar:
    """The uvicorn factory (`accessctl.bench.bare_app:create_bare_app`)."""
    return Litestar(route_handlers=[bare, ready], logging_config=None, debug=False)


_RAW_ANSWER = b'{"decision":true,"context":{"reason":"constant"}}'
_RAW_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_RAW_ANSWER)).encode())]


async def raw_bare(scope: HTTPScope, receive: Receive, send: Send) -> None:
    """The same constant as plain ASGI, without Litestar: what uvicorn's HTTP work alone costs a request.

    The evaluation routes are served as raw ASGI before Litestar's routing (`web.evaluation_endpoint`), so this,
    not `bare`, is the HTTP cost an evaluation pays; `accessctl bench floor` measures it (run with no lifespan).
    """
    while True:  # the body, read and dropped
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 200, "headers": _RAW_HEADERS}
    await send(start)
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": _RAW_ANSWER, "more_body": False}
    await send(body)


def create_raw_bare_app() -> Callable[[HTTPScope, Receive, Send], Awaitable[None]]:
    """The uvicorn factory (`accessctl.bench.bare_app:create_raw_bare_app`)."""
    return raw_bare
