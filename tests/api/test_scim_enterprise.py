"""The Enterprise User extension is HR's data: stored as sent, returned as stored, never derived from employments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import User
from accessctl.hr_sync import HrUserService
from accessctl.hr_sync.hooks import no_recompute
from accessctl.hr_sync.records import UserRecord
from tests.api.conftest import TokenFactory
from tests.api.scim_support import (
    ENTERPRISE,
    HEALTH,
    PATCH_OP,
    USER_URN,
    WARD,
    RecordedAudit,
    add_scim_world,
    days,
    employment,
    scim_headers,
    serving_with_recorded_audit,
    user_body,
)

HR_DATA = {
    "employeeNumber": "E-4711",
    "costCenter": "KST 3100",
    "organization": "Scimby kommune",
    "division": "Helse og omsorg",
    "department": "Legevakten",
    "manager": {"value": "hr-00099"},
}


@pytest.fixture
async def scim(app: Litestar, session: Any) -> AsyncIterator[httpx.AsyncClient]:
    await add_scim_world(session)
    async with serving_with_recorded_audit(app, RecordedAudit()) as client:
        yield client


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return scim_headers(token, "hr:write")


async def _create(scim: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await scim.post("/scim/v2/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created, dict)
    return created


def _ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


async def test_every_enterprise_attribute_round_trips_through_put_exactly_as_sent(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    created = await _create(scim, headers, user_body(1, **{ENTERPRISE: {}}))
    assert ENTERPRISE not in created
    assert created["schemas"] == [USER_URN, HEALTH]
    url = f"/scim/v2/Users/{created['id']}"
    replaced = await scim.put(url, json=user_body(1, **{ENTERPRISE: HR_DATA}), headers=headers)
    assert replaced.status_code == 200, replaced.text
    read = (await scim.get(url, headers=headers)).json()
    assert read[ENTERPRISE] == HR_DATA
    assert ENTERPRISE in read["schemas"]
    row = await session.get(User, created["id"], populate_existing=True)
    assert row is not None and row.enterprise == HR_DATA
    # PUT replaces: the extension left out is HR saying it has none.
    body = user_body(1)
    del body[ENTERPRISE]
    assert ENTERPRISE not in (await scim.put(url, json=body, headers=headers)).json()


async def test_patch_adds_replaces_and_removes_enterprise_attributes(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await _create(scim, headers, user_body(2))
    url = f"/scim/v2/Users/{created['id']}"
    response = await scim.patch(
        url,
        json=_ops(
            {"op": "add", "path": f"{ENTERPRISE}:costCenter", "value": "KST 3100"},
            {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Legevakten natt"},
            {"op": "remove", "path": f"{ENTERPRISE}:employeeNumber"},
            {"op": "add", "path": ENTERPRISE, "value": {"manager": {"value": "hr-00099"}}},
        ),
        headers=headers,
    )
    assert response.status_code == 200, response.text
    expected = {"costCenter": "KST 3100", "department": "Legevakten natt", "manager": {"value": "hr-00099"}}
    assert response.json()[ENTERPRISE] == expected
    assert (await scim.get(url, headers=headers)).json()[ENTERPRISE] == expected
    removed = await scim.patch(url, json=_ops({"op": "remove", "path": ENTERPRISE}), headers=headers)
    assert ENTERPRISE not in removed.json()


async def test_a_mover_keeps_the_enterprise_attributes_hr_sent(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await _create(scim, headers, user_body(3, **{ENTERPRISE: HR_DATA}))
    body = user_body(3, **{ENTERPRISE: HR_DATA})
    body[HEALTH]["employments"] = [employment(WARD, "7010", start=days(-1))]
    moved = await scim.put(f"/scim/v2/Users/{created['id']}", json=body, headers=headers)
    assert moved.status_code == 200, moved.text
    # Nothing is derived from the new employment: not the unit, not the organisation, not the number.
    assert moved.json()[ENTERPRISE] == HR_DATA
    assert moved.json()[HEALTH]["employments"][0]["unit"] == WARD


@pytest.mark.parametrize(
    ("enterprise", "field"),
    [
        ({"costCenter": 3100}, f"{ENTERPRISE}:costCenter"),
        ({"department": "x" * 201}, f"{ENTERPRISE}:department"),
        ({"manager": "hr-00099"}, f"{ENTERPRISE}:manager"),
        ({"manager": {"value": ["hr-00099"]}}, f"{ENTERPRISE}:manager.value"),
        ("E-4711", ENTERPRISE),
    ],
)
async def test_a_bad_enterprise_value_is_refused_naming_it(
    scim: httpx.AsyncClient, headers: dict[str, str], enterprise: Any, field: str
) -> None:
    response = await scim.post("/scim/v2/Users", json=user_body(4, **{ENTERPRISE: enterprise}), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "invalidValue"
    assert response.json()["detail"].startswith(field)


async def test_a_source_without_enterprise_attributes_leaves_them_as_they_are(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    """The LDAP pull writes users through the same writer but carries no Enterprise data: it must not wipe it."""
    created = await _create(scim, headers, user_body(5, **{ENTERPRISE: HR_DATA}))
    audit = RecordedAudit()
    service = HrUserService(session, recompute=no_recompute, audit=audit, actor="ldap-sync")
    record = UserRecord("hr-00005", "lege5@scimby.example", "Kari", "Lie", employments=())
    stored = await service.replace(created["id"], record, None)
    await session.commit()
    assert stored.record.enterprise is not None and stored.record.enterprise.stored() == HR_DATA
    assert "enterprise" not in audit.events[0].detail["changes"]
    assert (await scim.get(f"/scim/v2/Users/{created['id']}", headers=headers)).json()[ENTERPRISE] == HR_DATA
