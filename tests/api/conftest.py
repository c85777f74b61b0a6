"""An app under test on the run's migrated database, with a client and a token factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar

from accessctl.auth import DevSigningKey, issue_token
from accessctl.db import Database
from accessctl.settings import Settings
from accessctl.web import create_app

TokenFactory = Callable[..., str]


@pytest.fixture
def app(settings: Settings, database: Database) -> Litestar:
    return create_app(settings, database=database)


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client that calls the app in the test's own event loop (asyncpg connections are loop-bound)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # Startup and shutdown in one task: the app's task group must be left where it was entered.
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # startup failed: raise its error here
    try:
        # Litestar types the ASGI scope and events as TypedDicts, httpx as plain mappings: the same protocol.
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # see the line above
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        stop.set()
        await task


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as c:
        yield c


@pytest.fixture
def token(settings: Settings) -> TokenFactory:
    """Tokens signed with the dev key the app trusts: token("directory:read", sub="x", claims={...})."""
    key = DevSigningKey.load_or_create(settings.signing_key_path)

    def make(*scopes: str, sub: str = "test-client", ttl_s: int = 600, claims: dict[str, Any] | None = None) -> str:
        return issue_token(
            key,
            subject=sub,
            scopes=scopes,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_s=ttl_s,
            claims=claims,
        )

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
