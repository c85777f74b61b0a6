"""Prometheus request metrics: a latency histogram by route template, method and the status really sent."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from litestar import Response, get
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest

from accessctl.errors import AccessctlError
from accessctl.web.errors import ERROR_STATUS

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _histogram() -> Histogram:
    # One histogram per process, however many apps the process builds (tests build many).
    existing = REGISTRY._names_to_collectors.get("accessctl_request_duration_seconds")
    if isinstance(existing, Histogram):
        return existing
    return Histogram(
        "accessctl_request_duration_seconds",
        "HTTP request latency by route template, method and status",
        ["route", "method", "status"],
        buckets=BUCKETS,
    )


REQUEST_SECONDS = _histogram()


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, AccessctlError):
        return next((s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 500)
    return 500


class RequestMetrics:
    """ASGI middleware; errors raised further in are counted with the status they will be answered with."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except BaseException as exc:
            status = _status_of(exc)
            raise
        finally:
            route = scope.get("path_template") or "unmatched"
            observe_request(route, scope.get("method", "GET"), status, time.perf_counter() - started)


@lru_cache(maxsize=1024)
def _series(route: str, method: str, status: int) -> Any:
    return REQUEST_SECONDS.labels(route, method, str(status))


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request in the latency histogram."""
    _series(route, method, status).observe(seconds)


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics() -> Response[Any]:
    """Prometheus text exposition of this process's metrics."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
