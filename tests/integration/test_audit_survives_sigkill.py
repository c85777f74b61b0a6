"""Kill the server with SIGKILL under load: every decision a client received has its audit record."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from accessctl import migrate
from accessctl.audit.models import AuditEventRow
from accessctl.auth import DevSigningKey, issue_token
from accessctl.db import Database
from accessctl.settings import Secret, Settings
from tests.api.test_authzen import evaluation
from tests.api.world import add_world
from tests.databases import fresh_database
from tests.live_server import live_server

CLIENTS = 16
BEFORE_KILL = 300


async def _seed(url: str) -> None:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            await add_world(session)
    finally:
        await database.dispose()


async def _audited_ids(url: str) -> set[uuid.UUID]:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            return set(await session.scalars(select(AuditEventRow.id)))
    finally:
        await database.dispose()


async def _hammer(
    base: str, headers: dict[str, str], received: list[str], enough: asyncio.Event, stop: asyncio.Event
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5.0) as client:
        while not stop.is_set():
            try:
                response = await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 200:
                received.append(response.json()["context"]["decision_id"])
                if len(received) >= BEFORE_KILL:
                    enough.set()


def test_every_received_decision_has_its_record_after_sigkill(tmp_path: Path) -> None:
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        asyncio.run(_seed(url))
        key = DevSigningKey.load_or_create(tmp_path / "key.pem")
        token = issue_token(key, subject="emr", scopes=["authz:evaluate"], issuer="accessctl-dev", audience="accessctl")
        headers = {"Authorization": f"Bearer {token}"}
        env = {
            "ACCESSCTL_DATABASE_URL": url,
            "ACCESSCTL_DATA_DIR": str(tmp_path),
            "ACCESSCTL_DEV_KEY_PATH": str(tmp_path / "key.pem"),
            "ACCESSCTL_POLICIES_DIR": str(migrate.PROJECT_ROOT / "policies"),
        }
        received: list[str] = []
        with live_server(env, tmp_path / "server.log") as server:

            async def load_then_kill() -> None:
                enough, stop = asyncio.Event(), asyncio.Event()
                clients = [
                    asyncio.create_task(_hammer(server.url, headers, received, enough, stop)) for _ in range(CLIENTS)
                ]
                await asyncio.wait_for(enough.wait(), timeout=60)
                server.process.send_signal(signal.SIGKILL)  # mid-flight: some requests are waiting for commits
                server.process.wait()
                stop.set()
                await asyncio.gather(*clients)

            asyncio.run(load_then_kill())
        audited = asyncio.run(_audited_ids(url))
    missing = [d for d in received if uuid.UUID(d) not in audited]
    assert len(received) >= BEFORE_KILL
    assert missing == [], f"{len(missing)} of {len(received)} answered decisions have no audit record"
