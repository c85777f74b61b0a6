"""The mass-change guard on SCIM: leavers arrive one request at a time, so the guard counts a window of them.

A broken HR export shows up as a stream of DELETEs. Past the limit (5 % of the active users within the window, or
every user of one organisation) the write stops with 409, changes nothing, and says how to confirm.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Employment, User
from accessctl.settings import Settings
from tests.api.conftest import TokenFactory
from tests.api.scim_support import (
    CLINIC,
    HEALTH,
    add_scim_world,
    decide,
    employment,
    relate,
    scim_headers,
    user_body,
)
from tests.factories import add_organisation, add_unit

SMALL_OFFICE = "smallby.legekontor"
STAFF = 20  # at the clinic; with the two of the small office, 22 active users: 5 % of them is 1.1
pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: AsyncSession) -> None:
    await add_scim_world(session)
    await add_organisation(session, "smallby", seed=12)
    await add_unit(session, "smallby", "smallby")
    await add_unit(session, SMALL_OFFICE, "smallby", parent="smallby", services=("legevakt",))
    await session.commit()


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings, with what a test's indirect parameter overrides."""
    return dataclasses.replace(settings, **getattr(request, "param", {}))


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return scim_headers(token, "hr:write", "authz:evaluate", "context:write")


@pytest.fixture
async def staff(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """The clinic's staff and the small office's two, created over SCIM; the office's come last."""
    ids = []
    for n in range(STAFF + 2):
        body = user_body(n)
        if n >= STAFF:
            body[HEALTH]["employments"] = [employment(unit=SMALL_OFFICE)]
        response = await client.post("/scim/v2/Users", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))
    return ids


async def _status(client: httpx.AsyncClient, headers: dict[str, str], user_id: str) -> int:
    return (await client.get(f"/scim/v2/Users/{user_id}", headers=headers)).status_code


async def test_one_leaver_passes_and_the_next_within_the_window_stops_with_nothing_changed(
    client: httpx.AsyncClient, headers: dict[str, str], staff: list[str]
) -> None:
    first, second = staff[0], staff[1]
    await relate(client, headers, second)
    assert (await client.delete(f"/scim/v2/Users/{first}", headers=headers)).status_code == 204

    stopped = await client.delete(f"/scim/v2/Users/{second}", headers=headers)

    assert stopped.status_code == 409, stopped.text
    detail = stopped.json()["detail"]
    assert "would deactivate 2 of 22 active users" in detail
    assert "counting 1 deactivated since" in detail
    assert "confirm_mass_change=true" in detail
    assert await _status(client, headers, second) == 200
    assert (await decide(client, headers, second, CLINIC))["decision"] is True


async def test_an_explicit_confirmation_lets_the_leaver_through_and_the_next_decision_denies(
    client: httpx.AsyncClient, headers: dict[str, str], staff: list[str]
) -> None:
    first, second = staff[0], staff[1]
    await relate(client, headers, second)
    assert (await client.delete(f"/scim/v2/Users/{first}", headers=headers)).status_code == 204

    confirmed = await client.delete(f"/scim/v2/Users/{second}?confirm_mass_change=true", headers=headers)

    assert confirmed.status_code == 204, confirmed.text
    assert await _status(client, headers, second) == 404
    after = await decide(client, headers, second, CLINIC)
    assert (after["decision"], after["context"]["reason"]) == (False, "subject_inactive")


async def test_setting_active_false_counts_as_a_leaver_like_a_delete(
    client: httpx.AsyncClient, headers: dict[str, str], staff: list[str]
) -> None:
    assert (await client.delete(f"/scim/v2/Users/{staff[0]}", headers=headers)).status_code == 204
    body: dict[str, Any] = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
    body["Operations"] = [{"op": "replace", "path": "active", "value": False}]

    stopped = await client.patch(f"/scim/v2/Users/{staff[1]}", json=body, headers=headers)

    assert stopped.status_code == 409, stopped.text
    assert (await client.get(f"/scim/v2/Users/{staff[1]}", headers=headers)).json()["active"] is True


@pytest.mark.parametrize("settings", [{"mass_change_share": 0.5}], indirect=True)
async def test_the_last_user_of_an_organisation_stops_even_under_the_share(
    client: httpx.AsyncClient, headers: dict[str, str], staff: list[str]
) -> None:
    office = staff[STAFF:]
    assert (await client.delete(f"/scim/v2/Users/{office[0]}", headers=headers)).status_code == 204

    stopped = await client.delete(f"/scim/v2/Users/{office[1]}", headers=headers)

    assert stopped.status_code == 409, stopped.text
    assert "would deactivate every active user of organisation" in stopped.json()["detail"]
    assert await _status(client, headers, office[1]) == 200


@pytest.mark.parametrize("settings", [{"mass_change_window_seconds": 0}], indirect=True)
async def test_a_zero_window_judges_each_request_alone(
    client: httpx.AsyncClient, headers: dict[str, str], staff: list[str]
) -> None:
    for user_id in staff[:3]:
        assert (await client.delete(f"/scim/v2/Users/{user_id}", headers=headers)).status_code == 204


@pytest.mark.parametrize("value", ["yes", "1", ""])
async def test_a_confirmation_that_is_not_true_or_false_is_refused_by_name(
    client: httpx.AsyncClient, headers: dict[str, str], staff: list[str], value: str
) -> None:
    answer = await client.delete(f"/scim/v2/Users/{staff[0]}?confirm_mass_change={value}", headers=headers)

    assert answer.status_code == 400, answer.text
    assert answer.json()["scimType"] == "invalidValue"
    assert "confirm_mass_change" in answer.json()["detail"]
    assert await _status(client, headers, staff[0]) == 200


async def _deactivated_at(session: AsyncSession, user_id: str) -> datetime | None:
    return await session.scalar(select(User.deactivated_at).where(User.id == user_id))


async def test_a_leaver_is_stamped_when_deactivated_and_a_returning_one_is_cleared(
    client: httpx.AsyncClient, headers: dict[str, str], staff: list[str], session: AsyncSession
) -> None:
    before = datetime.now(UTC)
    assert await _deactivated_at(session, staff[0]) is None
    assert (await client.delete(f"/scim/v2/Users/{staff[0]}", headers=headers)).status_code == 204
    stamped = await _deactivated_at(session, staff[0])
    assert stamped is not None and stamped >= before

    rehired = await client.post("/scim/v2/Users", json=user_body(0), headers=headers)

    assert rehired.status_code == 201, rehired.text
    assert rehired.json()["id"] == staff[0]
    assert await _deactivated_at(session, staff[0]) is None


@pytest.mark.parametrize("deactivated", [None, timedelta(days=-2)], ids=["never-stamped", "two-days-ago"])
async def test_users_inactive_since_before_the_window_do_not_count_as_recent_leavers(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    staff: list[str],
    session: AsyncSession,
    deactivated: timedelta | None,
) -> None:
    # Loaded as the demo region loads its leavers: inactive, written just now, jobs at the clinic ended an hour ago.
    now = datetime.now(UTC)
    for n in range(3):
        session.add(
            User(
                id=f"demo-leaver-{n}",
                hr_id=f"demo-{n}",
                user_name=f"demo-leaver-{n}@scimby.example",
                given_name="Demo",
                family_name=f"Leaver{n}",
                status="inactive",
                updated_at=now,
                deactivated_at=None if deactivated is None else now + deactivated,
            )
        )
        await session.flush()
        session.add(
            Employment(
                user_id=f"demo-leaver-{n}",
                unit_id=CLINIC,
                position_code="7006",
                valid_from=now - timedelta(days=400),
                valid_to=now - timedelta(hours=1),
            )
        )
    await session.commit()

    assert (await client.delete(f"/scim/v2/Users/{staff[0]}", headers=headers)).status_code == 204
    stopped = await client.delete(f"/scim/v2/Users/{staff[1]}", headers=headers)

    assert stopped.status_code == 409, stopped.text
    assert "would deactivate 2 of 22 active users" in stopped.json()["detail"]
    assert "counting 1 deactivated since" in stopped.json()["detail"]
