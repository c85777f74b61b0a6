"""SCIM Users: create, read, replace, deactivate; ETags; bad records rejected whole, naming the attribute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.changes import changes_since, log_change
from accessctl.changes.models import EngineChange
from accessctl.directory.models import Employment, User
from accessctl.engine.types import CompiledPolicy
from accessctl.pdp import runtime
from accessctl.pdp.loader import load_user
from accessctl.policies import compiled_cache
from accessctl.policies.compile import load_policy
from accessctl.policies.compiled_cache import COMPILED_POLICIES
from tests.api.conftest import TokenFactory, bearer
from tests.api.scim_support import (
    ENTERPRISE,
    ERROR,
    HEALTH,
    PATCH_OP,
    SCIM_JSON,
    RecordedAudit,
    add_scim_world,
    employment,
    scim_headers,
    serving_with_recorded_audit,
    user_body,
)


@pytest.fixture
async def world(session: Any) -> None:
    await add_scim_world(session)


@pytest.fixture
async def audit(app: Litestar) -> RecordedAudit:
    return RecordedAudit()


@pytest.fixture
async def scim(app: Litestar, world: None, audit: RecordedAudit) -> AsyncIterator[httpx.AsyncClient]:
    async with serving_with_recorded_audit(app, audit) as client:
        yield client


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return scim_headers(token, "hr:write")


async def _create(scim: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await scim.post("/scim/v2/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(SCIM_JSON)
    created = response.json()
    assert isinstance(created, dict)
    return created


async def _users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_created_user_reads_back_with_extensions_and_a_weak_etag(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await _create(scim, headers, user_body())
    response = await scim.get(f"/scim/v2/Users/{created['id']}", headers=headers)
    assert response.status_code == 200
    user = response.json()
    assert user["userName"] == "lege1@scimby.example"
    assert user["externalId"] == "hr-00001"
    assert user[ENTERPRISE] == {"employeeNumber": "100001", "department": "Legevakt Scimby"}
    assert user[HEALTH] == {"hprNumber": "1234567", "employments": [employment()]}
    assert user["meta"]["version"] == 'W/"1"' == response.headers["etag"]


async def test_scope_hr_write_is_needed_even_for_discovery(scim: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await scim.get("/scim/v2/ServiceProviderConfig", headers=bearer(token("directory:read")))
    assert response.status_code == 403
    assert response.json()["schemas"] == [ERROR]


@pytest.mark.parametrize(
    ("change", "attribute", "status", "scim_type"),
    [
        ({"userName": None}, "userName", 400, "invalidValue"),
        ({"externalId": ""}, "externalId", 400, "invalidValue"),
        ({HEALTH: {"employments": [employment(unit="nowhere")]}}, f"{HEALTH}:employments[0].unit", 400, "invalidValue"),
        (
            {HEALTH: {"employments": [employment(start="2025-01-01T00:00:00Z", end="2024-01-01T00:00:00Z")]}},
            f"{HEALTH}:employments[0].validTo",
            400,
            "invalidValue",
        ),
        ({HEALTH: {"hprNumber": "0123", "employments": [employment()]}}, f"{HEALTH}:hprNumber", 400, "invalidValue"),
        ({"externalId": "hr-00009"}, "externalId", 409, "uniqueness"),
        ({"userName": "LEGE9@scimby.example"}, "userName", 409, "uniqueness"),
        ({"schemas": ["urn:example:nothing"]}, "schemas", 400, "invalidSyntax"),
        (
            {HEALTH: {"employments": [employment(start="0001-01-01T00:00:00+01:00")]}},
            f"{HEALTH}:employments[0].validFrom",
            400,
            "invalidValue",
        ),
    ],
)
async def test_bad_record_is_rejected_naming_the_attribute_and_nothing_is_written(
    scim: httpx.AsyncClient,
    headers: dict[str, str],
    session: AsyncSession,
    audit: RecordedAudit,
    change: dict[str, Any],
    attribute: str,
    status: int,
    scim_type: str,
) -> None:
    await _create(scim, headers, user_body(9))
    users, jobs, events = (
        await _users(session),
        await session.scalar(select(func.count(Employment.id))),
        len(audit.events),
    )
    body = user_body(10)
    body.update(change)
    response = await scim.post("/scim/v2/Users", json=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["schemas"] == [ERROR]
    assert error["status"] == str(status)
    assert error["scimType"] == scim_type
    assert attribute in error["detail"]
    assert await _users(session) == users
    assert await session.scalar(select(func.count(Employment.id))) == jobs
    assert len(audit.events) == events


async def test_put_with_a_stale_etag_fails_412_and_changes_nothing(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await _create(scim, headers, user_body())
    url = f"/scim/v2/Users/{created['id']}"
    renamed = user_body(name={"givenName": "Kari", "familyName": "Ny"})
    first = await scim.put(url, json=renamed, headers={**headers, "If-Match": 'W/"1"'})
    assert first.status_code == 200
    assert first.json()["meta"]["version"] == 'W/"2"'
    stale = await scim.put(url, json=user_body(), headers={**headers, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["schemas"] == [ERROR]
    assert (await scim.get(url, headers=headers)).json()["name"]["familyName"] == "Ny"
    assert (await scim.delete(url, headers={**headers, "If-Match": 'W/"1"'})).status_code == 412


async def test_delete_deactivates_keeps_the_row_and_ends_employments(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    created = await _create(scim, headers, user_body())
    url = f"/scim/v2/Users/{created['id']}"
    assert (await scim.delete(url, headers=headers)).status_code == 204
    assert (await scim.get(url, headers=headers)).status_code == 404
    listed = await scim.get("/scim/v2/Users", params={"filter": 'userName eq "lege1@scimby.example"'}, headers=headers)
    assert listed.json()["totalResults"] == 0
    row = await session.get(User, created["id"], populate_existing=True)
    assert row is not None
    assert row.status == "inactive"
    assert row.version == 2
    jobs = list(await session.scalars(select(Employment).where(Employment.user_id == row.id)))
    assert jobs
    assert all(job.valid_to is not None for job in jobs)


async def test_rehire_after_delete_brings_back_the_same_user(scim: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await _create(scim, headers, user_body())
    assert (await scim.delete(f"/scim/v2/Users/{created['id']}", headers=headers)).status_code == 204
    again = await _create(scim, headers, user_body())
    assert again["id"] == created["id"]
    assert again["active"] is True
    assert again["meta"]["version"] == 'W/"3"'


async def test_a_new_person_given_a_leavers_user_name_is_a_new_user_not_a_rehire(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, audit: RecordedAudit
) -> None:
    """HR reuses firstname.lastname addresses: the newcomer must not inherit the leaver's id, and with it their care
    relations, hand-granted roles and audit history."""
    leaver = await _create(scim, headers, user_body(1))
    assert (await scim.delete(f"/scim/v2/Users/{leaver['id']}", headers=headers)).status_code == 204
    newcomer = await _create(scim, headers, user_body(1, externalId="hr-99999"))  # same userName, another person
    assert newcomer["id"] != leaver["id"]
    assert newcomer["userName"] == leaver["userName"]
    released = await session.get(User, leaver["id"])
    assert released is not None and released.hr_id == "hr-00001" and released.status == "inactive"
    assert released.user_name == f"left:{leaver['id']}"
    release = [e for e in audit.events if e.detail and e.detail["operation"] == "release"]
    assert [e.resource_id for e in release] == [leaver["id"]]
    assert release[0].detail is not None
    assert release[0].detail["changes"] == {"user_name": [leaver["userName"], f"left:{leaver['id']}"]}
    # The leaver coming back later is still a rehire, under their own id, and takes a userName of their own.
    back = await _create(scim, headers, user_body(1, userName="lege1.returned@scimby.example"))
    assert back["id"] == leaver["id"] and back["active"] is True


async def test_every_write_is_audited_and_logged_for_the_engines(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, audit: RecordedAudit
) -> None:
    created = await _create(scim, headers, user_body())
    url = f"/scim/v2/Users/{created['id']}"
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    assert (await scim.patch(url, json=patch, headers=headers)).status_code == 200
    assert (await scim.delete(url, headers=headers)).status_code == 204
    assert [e.detail["operation"] for e in audit.events] == ["create", "patch", "delete"]
    assert {e.action for e in audit.events} == {"hr.user_changed"}
    assert all(e.resource_id == created["id"] and e.user_id == "test-client" for e in audit.events)
    assert audit.events[1].detail["changes"] == {"active": [True, False]}
    changes = audit.events[2].detail["changes"]
    assert set(changes) == {"employments"}  # inactive already: only the jobs end, now
    before, after = changes["employments"]
    assert [job["valid_to"] for job in before] == [None]
    assert after == [{**before[0], "valid_to": after[0]["valid_to"]}] and after[0]["valid_to"] is not None
    logged = await session.scalar(
        select(func.count())
        .select_from(EngineChange)
        .where(EngineChange.kind == "user", EngineChange.key == created["id"])
    )
    # One per write; recomputing the assignments logs its own when rows changed.
    assert logged is not None and logged >= 3


async def test_unknown_endpoint_and_writes_to_discovery_answer_scim_errors(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    missing = await scim.get("/scim/v2/Nothing", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["schemas"] == [ERROR]
    refused = await scim.post("/scim/v2/Schemas", json={}, headers=headers)
    assert refused.status_code == 405
    assert refused.json()["schemas"] == [ERROR]
    assert (await scim.get("/scim/v2/Users/no-such-user", headers=headers)).status_code == 404


async def test_writes_compile_the_role_documents_at_most_once(
    scim: httpx.AsyncClient, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[object] = []

    def counting_load_policy(path: Path) -> CompiledPolicy:
        compiled.append(path)
        return load_policy(path)

    COMPILED_POLICIES.clear()
    monkeypatch.setattr(compiled_cache, "load_policy", counting_load_policy)
    for n in range(3):
        created = await _create(scim, headers, user_body(n))
        body = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": n != 1}]}
        assert (await scim.patch(f"/scim/v2/Users/{created['id']}", json=body, headers=headers)).status_code == 200

    assert len(compiled) <= 1


async def test_a_write_logs_its_user_once_and_the_engine_loads_it_once(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _count_engine_loads(monkeypatch)

    created = await _create(scim, headers, user_body())  # its roles change too: the recompute logs the user

    logged = await session.scalars(select(EngineChange.seq).where(EngineChange.key == created["id"]))
    assert len(list(logged)) == 1
    assert loaded == [created["id"]]


async def test_consecutive_changes_to_one_user_load_it_into_the_engine_once(
    scim: httpx.AsyncClient,
    headers: dict[str, str],
    session: AsyncSession,
    app: Litestar,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = await _create(scim, headers, user_body())
    loaded = _count_engine_loads(monkeypatch)
    await log_change(session, "user", created["id"])
    await log_change(session, "user", created["id"])
    await session.commit()

    await app.state.decision_point.catch_up()

    assert loaded == [created["id"]]


async def test_an_engine_that_applied_a_writers_last_change_reads_no_more_for_it(
    scim: httpx.AsyncClient, headers: dict[str, str], app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _create(scim, headers, user_body())
    point = app.state.decision_point
    reads: list[int] = []

    async def counting_changes_since(session: AsyncSession, after: int) -> Any:
        reads.append(after)
        return await changes_since(session, after)

    monkeypatch.setattr(runtime, "changes_since", counting_changes_since)

    assert await point.catch_up(through=point.applied_seq) == point.applied_seq
    assert reads == []
    await point.catch_up(through=point.applied_seq + 1)  # not applied yet: the log is read
    assert reads == [point.applied_seq]


def _count_engine_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the users the app's engine loads from now on."""
    loaded: list[str] = []

    async def counting_load_user(session: AsyncSession, user_id: str) -> Any:
        loaded.append(user_id)
        return await load_user(session, user_id)

    monkeypatch.setattr(runtime, "load_user", counting_load_user)
    return loaded
