"""Manual role assignments over HTTP: asked for by one person, approved by a second (the approving token's subject),
for a third; an end date, a known role and unit; effective once approved."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.conftest import TokenFactory, bearer
from tests.api.world import DOCTOR, UNIT, add_world
from tests.factories import add_user

pytestmark = pytest.mark.usefixtures("world")
NURSE = "nurse1"


@pytest.fixture
async def world(session: AsyncSession) -> None:
    await add_world(session)
    await add_user(session, NURSE)
    await session.commit()


def grant(**changes: Any) -> dict[str, Any]:
    body = {
        "user": NURSE,
        "role": "legevakt.lege",
        "unit": UNIT,
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_to": "2099-01-01T00:00:00Z",
    }
    return {**body, **changes}


def asker(token: TokenFactory, sub: str = "admin1") -> dict[str, str]:
    return bearer(token("policy:admin", sub=sub))


def approver(token: TokenFactory, sub: str = "manager1") -> dict[str, str]:
    return bearer(token("policy:approve", sub=sub))


async def asked(client: httpx.AsyncClient, token: TokenFactory, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v1/role-assignments", json=grant(**changes), headers=asker(token))
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


async def approved(
    client: httpx.AsyncClient, token: TokenFactory, request_id: int, sub: str = "manager1"
) -> httpx.Response:
    return await client.post(f"/v1/role-assignments/requests/{request_id}/approve", headers=approver(token, sub))


async def nurse_reason(client: httpx.AsyncClient, token: TokenFactory) -> str:
    """Why the nurse may or may not read appointments at the clinic (a request without a patient)."""
    body = {
        "subject": {"type": "user", "id": NURSE, "properties": {"unit": UNIT}},
        "action": {"name": "read"},
        "resource": {"type": "patient.appointment", "id": "x", "properties": {}},
    }
    response = await client.post("/access/v1/evaluation", json=body, headers=bearer(token("authz:evaluate")))
    assert response.status_code == 200, response.text
    return str(response.json()["context"]["reason"])


async def test_manual_grant_takes_effect_once_approved_and_revocation_removes_it(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    assert await nurse_reason(client, token) == "not_employed_in_unit"
    request = await asked(client, token)
    assert (request["status"], request["requested_by"]) == ("pending", "admin1")
    assert await nurse_reason(client, token) == "not_employed_in_unit"  # nothing counts until approved
    waiting = (await client.get("/v1/role-assignments/requests", headers=approver(token))).json()["items"]
    assert [r["id"] for r in waiting] == [request["id"]]

    response = await approved(client, token, request["id"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["source"], created["approver"], created["granted_by"]) == ("manual", "manager1", "admin1")
    assert await nurse_reason(client, token) == "patient_required"  # the role layer grants it now
    assert (await client.get("/v1/role-assignments/requests", headers=approver(token))).json()["items"] == []
    assert (await approved(client, token, request["id"], "manager2")).status_code == 409  # approved already

    headers = asker(token)
    assert (await client.delete(f"/v1/role-assignments/{created['id']}", headers=headers)).status_code == 204
    assert await nurse_reason(client, token) == "not_employed_in_unit"


async def test_the_approver_comes_from_the_token_not_the_request_body(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    response = await client.post("/v1/role-assignments", json=grant(approver="manager1"), headers=asker(token))
    assert response.status_code == 400 and "approver" in response.text


@pytest.mark.parametrize(
    ("approving", "field"),
    [("admin1", "approver"), (" Admin1 ", "approver"), (NURSE, "approver"), (NURSE.upper(), "approver")],
)
async def test_the_asker_or_the_user_cannot_approve(
    client: httpx.AsyncClient, token: TokenFactory, approving: str, field: str
) -> None:
    request = await asked(client, token)
    response = await approved(client, token, request["id"], approving)
    assert response.status_code == 409 and response.json()["field"] == field
    assert await nurse_reason(client, token) == "not_employed_in_unit"


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"user": "admin1"}, 409, "user"),
        ({"user": "ADMIN1"}, 409, "user"),
        ({"role": "no.such.role"}, 400, "role"),
        ({"unit": "no.such.unit"}, 400, "unit"),
        ({"valid_to": "2025-06-01T00:00:00Z", "valid_from": "2025-01-01T00:00:00Z"}, 400, "valid_to"),
        ({"valid_from": "2026-01-01T00:00:00"}, 400, "valid_from"),
        ({"valid_to": "2099-01-01T00:00:00"}, 400, "valid_to"),
    ],
)
async def test_manual_grant_is_refused_naming_the_field(
    client: httpx.AsyncClient, token: TokenFactory, changes: dict[str, Any], status: int, field: str
) -> None:
    response = await client.post("/v1/role-assignments", json=grant(**changes), headers=asker(token))
    assert response.status_code == status, response.text
    assert response.json()["field"] == field


async def test_manual_grant_needs_an_end_date(client: httpx.AsyncClient, token: TokenFactory) -> None:
    body = grant()
    del body["valid_to"]
    response = await client.post("/v1/role-assignments", json=body, headers=asker(token))
    assert response.status_code == 400
    assert response.json()["field"] == "valid_to"


async def test_hr_assignment_cannot_be_deleted_by_hand(client: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = bearer(token("policy:admin", sub="admin1"))
    [row] = (await client.get("/v1/role-assignments", params={"user": DOCTOR}, headers=headers)).json()["items"]
    assert row["source"] == "hr"
    assert (await client.delete(f"/v1/role-assignments/{row['id']}", headers=headers)).status_code == 409


async def test_listing_filters_and_pages(client: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = asker(token)
    assert (await approved(client, token, (await asked(client, token))["id"])).status_code == 201
    first = (await client.get("/v1/role-assignments", params={"limit": 1, "unit": UNIT}, headers=headers)).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    params = {"limit": 1, "unit": UNIT, "cursor": first["next_cursor"]}
    second = (await client.get("/v1/role-assignments", params=params, headers=headers)).json()
    assert [second["items"][0]["user"]] != [first["items"][0]["user"]] and second["next_cursor"] is None
    only = (await client.get("/v1/role-assignments", params={"user": NURSE}, headers=headers)).json()["items"]
    assert [r["user"] for r in only] == [NURSE]


async def test_asking_needs_policy_admin_and_approving_needs_policy_approve(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    response = await client.post("/v1/role-assignments", json=grant(), headers=bearer(token("policy:approve")))
    assert response.status_code == 403
    request = await asked(client, token)
    response = await client.post(
        f"/v1/role-assignments/requests/{request['id']}/approve", headers=asker(token, "manager1")
    )
    assert response.status_code == 403
