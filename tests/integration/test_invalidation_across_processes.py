"""A revocation made through one instance reaches another instance, a separate process, within a second.

On PostgreSQL the second instance polls only every 30 s, so what brings the change is LISTEN/NOTIFY. The changes:
a care relation granted and ended, and a leaver made through SCIM (a DELETE, or a PUT that deactivates the user or
ends their employment).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
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
from tests.api.scim_support import HEALTH
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
        # An app that owns its database settles the heap after building its engine (pdp.heap).
        assert gc.get_freeze_count() > 0
        yield client
    gc.unfreeze()


@pytest.fixture
def headers(tmp_path: Path) -> dict[str, str]:
    """A token both instances trust (they share the dev key): decisions, care relations and SCIM."""
    key = DevSigningKey.load_or_create(tmp_path / "key.pem")
    token = issue_token(
        key,
        subject="emr",
        scopes=["authz:evaluate", "context:write", "hr:write"],
        issuer="accessctl-dev",
        audience="accessctl",
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def instance_b(
    instance_a: httpx.AsyncClient, shared_database: str, tmp_path: Path, headers: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """`accessctl serve` in a process of its own, started once A's world is seeded; it knows changes only as they
    come: by LISTEN/NOTIFY on PostgreSQL (it polls only every 30 s), by polling on SQLite."""
    on_postgres = shared_database.startswith("postgresql")
    env = {
        "ACCESSCTL_DATABASE_URL": shared_database,
        "ACCESSCTL_DATA_DIR": str(tmp_path / "b"),
        "ACCESSCTL_DEV_KEY_PATH": str(tmp_path / "key.pem"),
        "ACCESSCTL_POLICIES_DIR": str(migrate.PROJECT_ROOT / "policies"),
        "ACCESSCTL_CHANGE_POLL_SECONDS": "30" if on_postgres else "0.2",
    }
    with live_server(env, tmp_path / "b.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as client:
            yield client


async def _until(client: httpx.AsyncClient, headers: dict[str, str], want: bool) -> tuple[float, dict[str, Any]]:
    """Seconds until the instance answers `want` for the doctor and the patient, and that answer (fails after 5 s)."""
    started = time.monotonic()
    while time.monotonic() - started < 5.0:
        answer = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
        if answer["decision"] is want:
            return time.monotonic() - started, answer
    pytest.fail(f"the other instance still answered {not want} after 5 s")


async def _grant(instance_a: httpx.AsyncClient, instance_b: httpx.AsyncClient, headers: dict[str, str]) -> float:
    """A care relation for the doctor and the patient made on A; seconds until B permits because of it."""
    assert (await instance_b.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()[
        "decision"
    ] is False
    relation = {"patient": PATIENT, "user": DOCTOR, "kind": "admission", "valid_from": "2026-01-01T00:00:00Z"}
    assert (await instance_a.put("/v1/care-relations/x-1", json=relation, headers=headers)).status_code == 201
    granted_after, _ = await _until(instance_b, headers, want=True)
    return granted_after


async def test_revocation_reaches_the_other_process_within_a_second(
    instance_a: httpx.AsyncClient, instance_b: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    granted_after = await _grant(instance_a, instance_b, headers)
    assert (await instance_a.delete("/v1/care-relations/x-1", headers=headers)).status_code == 204
    revoked_after, _ = await _until(instance_b, headers, want=False)
    assert granted_after < PROPAGATION_LIMIT_S
    assert revoked_after < PROPAGATION_LIMIT_S


async def _scim_delete(instance_a: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await instance_a.delete(f"/scim/v2/Users/{DOCTOR}", headers=headers)


async def _scim_put(instance_a: httpx.AsyncClient, headers: dict[str, str], *, end_employment: bool) -> httpx.Response:
    """HR's PUT of the doctor as read: either `active` false, or every employment ended at this moment."""
    read = await instance_a.get(f"/scim/v2/Users/{DOCTOR}", headers=headers)
    assert read.status_code == 200, read.text
    user = read.json()
    if end_employment:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for job in user[HEALTH]["employments"]:
            job["validTo"] = now
    else:
        user["active"] = False
    return await instance_a.put(f"/scim/v2/Users/{DOCTOR}", json=user, headers=headers)


@pytest.mark.parametrize(
    ("leaver", "reason", "status"),
    [
        (_scim_delete, "subject_inactive", 204),
        (partial(_scim_put, end_employment=False), "subject_inactive", 200),
        (partial(_scim_put, end_employment=True), "not_employed_in_unit", 200),
    ],
    ids=["delete", "put-inactive", "put-employment-ended"],
)
async def test_scim_leaver_loses_access_in_the_other_process_within_a_second(
    instance_a: httpx.AsyncClient,
    instance_b: httpx.AsyncClient,
    headers: dict[str, str],
    leaver: Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]],
    reason: str,
    status: int,
) -> None:
    await _grant(instance_a, instance_b, headers)
    # B permits right up to the change, so the deny below is the change's doing.
    _, permit = await _until(instance_b, headers, want=True)
    assert permit["decision"] is True
    acknowledged = await leaver(instance_a, headers)
    assert acknowledged.status_code == status, acknowledged.text
    denied_after, answer = await _until(instance_b, headers, want=False)
    assert answer["context"]["reason"] == reason
    assert denied_after < PROPAGATION_LIMIT_S
    # A answers the same: the leaver is gone in both processes.
    _, on_a = await _until(instance_a, headers, want=False)
    assert on_a["context"]["reason"] == reason
