"""Joiners, movers and leavers pushed over SCIM change the very next access decision."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import TokenFactory
from tests.api.scim_support import (
    CLINIC,
    HEALTH,
    WARD,
    add_scim_world,
    days,
    decide,
    employment,
    relate,
    scim_headers,
    user_body,
)

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: Any) -> None:
    await add_scim_world(session)


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return scim_headers(token, "hr:write", "authz:evaluate", "context:write")


async def _joiner(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = await client.post("/scim/v2/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_joiner_is_permitted_and_a_delete_denies_on_the_next_decision(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    user_id = await _joiner(client, headers, user_body())
    await relate(client, headers, user_id)
    assert (await decide(client, headers, user_id, CLINIC))["decision"] is True
    assert (await client.delete(f"/scim/v2/Users/{user_id}", headers=headers)).status_code == 204
    after = await decide(client, headers, user_id, CLINIC)
    assert after["decision"] is False
    assert after["context"]["reason"] == "subject_inactive"


async def test_future_dated_employment_gives_access_only_from_its_date(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = user_body(2)
    body[HEALTH]["employments"] = [employment(start=days(10))]
    user_id = await _joiner(client, headers, body)
    await relate(client, headers, user_id)
    before = await decide(client, headers, user_id, CLINIC)
    assert before["decision"] is False
    assert before["context"]["reason"] == "not_employed_in_unit"
    body[HEALTH]["employments"] = [employment(start=days(-1))]  # HR moves the start date to yesterday
    assert (await client.put(f"/scim/v2/Users/{user_id}", json=body, headers=headers)).status_code == 200
    assert (await decide(client, headers, user_id, CLINIC))["decision"] is True


async def test_mover_keeps_the_old_unit_until_its_end_date_and_loses_it_after(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    user_id = await _joiner(client, headers, user_body(3))
    await relate(client, headers, user_id)
    body = user_body(3)
    # Moved to the nursing home: the clinic job ends in a day, then (re-pushed) ended an hour ago.
    body[HEALTH]["employments"] = [
        employment(CLINIC, start=days(-400), end=days(1)),
        employment(WARD, position="7010", start=days(1)),
    ]
    assert (await client.put(f"/scim/v2/Users/{user_id}", json=body, headers=headers)).status_code == 200
    assert (await decide(client, headers, user_id, CLINIC))["decision"] is True
    body[HEALTH]["employments"][0] = employment(CLINIC, start=days(-400), end=days(-1 / 24))
    assert (await client.put(f"/scim/v2/Users/{user_id}", json=body, headers=headers)).status_code == 200
    moved = await decide(client, headers, user_id, CLINIC)
    assert moved["decision"] is False
    assert moved["context"]["reason"] == "not_employed_in_unit"
