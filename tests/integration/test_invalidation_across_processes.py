"""A revocation made through one instance reaches another instance, a separate process, within a second.

On PostgreSQL the second instance polls only every 30 s, so what brings the change is LISTEN/NOTIFY.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from accessctl import migrate
from accessctl.auth import DevSigningKey, issue_token
from accessctl.db import Database
from accessctl.settings import Secret, Settings
from accessctl.web import create_app
from tests.api.conftest import serving
from tests.api.test_authzen import evaluation
from tests.api.world import DOCTOR, PATIENT, add_world
from tests.databases import fresh_database
from tests.live_server import live_server

PROPAGATION_LIMIT_S = 1.0


@pytest.fixture
def shared_database(tmp_path: Path) -> Any:
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        yield url


async def _seed(url: str) -> None:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            await add_world(session)
    finally:
        await database.dispose()


@pytest.fixture
async def instance_a(shared_database: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    await _seed(shared_database)
    settings = Settings(
        data_dir=tmp_path,
        database_url=Secret(shared_database),
        dev_key_path=tmp_path / "key.pem",
        policies_dir=migrate.PROJECT_ROOT / "policies",
        change_poll_seconds=0.5,
    )
    async with serving(create_app(settings)) as client:
        yield client


async def _until(client: httpx.AsyncClient, headers: dict[str, str], want: bool) -> float:
    """Seconds until the instance answers `want` for the doctor and the patient (fails after 5 s)."""
    started = time.monotonic()
    while time.monotonic() - started < 5.0:
        answer = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
        if answer["decision"] is want:
            return time.monotonic() - started
    pytest.fail(f"the other instance still answered {not want} after 5 s")


async def test_revocation_reaches_the_other_process_within_a_second(
    instance_a: httpx.AsyncClient, shared_database: str, tmp_path: Path
) -> None:
    key = DevSigningKey.load_or_create(tmp_path / "key.pem")
    token = issue_token(
        key, subject="emr", scopes=["authz:evaluate", "context:write"], issuer="accessctl-dev", audience="accessctl"
    )
    headers = {"Authorization": f"Bearer {token}"}
    on_postgres = shared_database.startswith("postgresql")
    env = {
        "ACCESSCTL_DATABASE_URL": shared_database,
        "ACCESSCTL_DATA_DIR": str(tmp_path / "b"),
        "ACCESSCTL_DEV_KEY_PATH": str(tmp_path / "key.pem"),
        "ACCESSCTL_POLICIES_DIR": str(migrate.PROJECT_ROOT / "policies"),
        "ACCESSCTL_CHANGE_POLL_SECONDS": "30" if on_postgres else "0.2",
    }
    with live_server(env, tmp_path / "b.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as instance_b:
            assert (await instance_b.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()[
                "decision"
            ] is False
            relation = {"patient": PATIENT, "user": DOCTOR, "kind": "admission", "valid_from": "2026-01-01T00:00:00Z"}
            assert (await instance_a.put("/v1/care-relations/x-1", json=relation, headers=headers)).status_code == 201
            granted_after = await _until(instance_b, headers, want=True)
            assert (await instance_a.delete("/v1/care-relations/x-1", headers=headers)).status_code == 204
            revoked_after = await _until(instance_b, headers, want=False)
    assert granted_after < PROPAGATION_LIMIT_S
    assert revoked_after < PROPAGATION_LIMIT_S
