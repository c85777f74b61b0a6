"""Manual role assignments over HTTP: three people, an end date, a known role and unit; effective at once."""

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
        "approver": "manager1",
    }
    return {**body, **changes}


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


async def test_manual_grant_takes_effect_at_once_and_revocation_removes_it(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    headers = bearer(token("policy:admin", sub="admin1"))
    assert await nurse_reason(client, token) == "not_employed_in_unit"
    response = await client.post("/v1/role-assignments", json=grant(), headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["source"], created["approver"], created["granted_by"]) == ("manual", "manager1", "admin1")
    assert await nurse_reason(client, token) == "patient_required"  # the role layer grants it now

    assert (await client.delete(f"/v1/role-assignments/{created['id']}", headers=headers)).status_code == 204
    assert await nurse_reason(client, token) == "not_employed_in_unit"


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"approver": "admin1"}, 409, "approver"),
        ({"approver": " Admin1 "}, 409, "approver"),
        ({"user": "ADMIN1"}, 409, "user"),
        ({"approver": NURSE.upper()}, 409, "approver"),
        ({"user": "admin1"}, 409, "user"),
        ({"approver": NURSE}, 409, "approver"),
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
    headers = bearer(token("policy:admin", sub="admin1"))
    response = await client.post("/v1/role-assignments", json=grant(**changes), headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field


async def test_manual_grant_needs_an_end_date_and_an_approver(client: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = bearer(token("policy:admin", sub="admin1"))
    for missing in ("valid_to", "approver"):
        body = grant()
        del body[missing]
        response = await client.post("/v1/role-assignments", json=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["field"] == missing


async def test_hr_assignment_cannot_be_deleted_by_hand(client: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = bearer(token("policy:admin", sub="admin1"))
    [row] = (await client.get("/v1/role-assignments", params={"user": DOCTOR}, headers=headers)).json()["items"]
    assert row["source"] == "hr"
    assert (await client.delete(f"/v1/role-assignments/{row['id']}", headers=headers)).status_code == 409


async def test_listing_filters_and_pages(client: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = bearer(token("policy:admin", sub="admin1"))
    await client.post("/v1/role-assignments", json=grant(), headers=headers)
    first = (await client.get("/v1/role-assignments", params={"limit": 1, "unit": UNIT}, headers=headers)).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    params = {"limit": 1, "unit": UNIT, "cursor": first["next_cursor"]}
    second = (await client.get("/v1/role-assignments", params=params, headers=headers)).json()
    assert [second["items"][0]["user"]] != [first["items"][0]["user"]] and second["next_cursor"] is None
    only = (await client.get("/v1/role-assignments", params={"user": NURSE}, headers=headers)).json()["items"]
    assert [r["user"] for r in only] == [NURSE]


async def test_role_assignments_need_policy_admin(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await client.post("/v1/role-assignments", json=grant(), headers=bearer(token("policy:approve")))
    assert response.status_code == 403
