"""The reference for `accessctl bench http`: a bare Litestar app whose one endpoint answers a constant JSON."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post

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
