"""The directory read API: filters, cursor pagination, details, and clear errors for bad parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.policies.models import Role, RoleAssignment
from tests.api.conftest import TokenFactory, bearer
from tests.factories import T0, add_organisation, add_unit, add_user


@pytest.fixture
async def region(session: AsyncSession) -> None:
    for i, name in enumerate(["aa", "bb", "cc", "dd", "ee"]):
        await add_organisation(session, f"org-{name}", seed=i, kind="gp_office" if name == "cc" else "municipality")
    await add_unit(session, "org-aa.root", "org-aa")
    await add_unit(session, "org-aa.legevakt", "org-aa", parent="org-aa.root", services=("legevakt",))
    await add_unit(session, "org-bb.root", "org-bb", services=("fastlege",))
    await add_user(session, "u1", unit="org-aa.legevakt", position="7006")
    await add_user(session, "u2", unit="org-bb.root")
    await add_user(session, "u3", status="inactive")
    session.add(Role(id="legevakt-lege", name="Legevaktlege"))
    await session.flush()
    session.add(
        RoleAssignment(
            user_id="u1",
            role_id="legevakt-lege",
            unit_id="org-aa.legevakt",
            valid_from=T0,
            valid_to=None,
            source="hr",
        )
    )
    await session.commit()


async def _read(client: httpx.AsyncClient, token: TokenFactory, path: str) -> dict[str, Any]:
    response = await client.get(path, headers=bearer(token("directory:read")))
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


@pytest.mark.usefixtures("region")
async def test_cursor_pagination_walks_every_organisation_once(client: httpx.AsyncClient, token: TokenFactory) -> None:
    seen: list[str] = []
    path = "/v1/organisations?limit=2"
    pages = 0
    while True:
        body = await _read(client, token, path)
        seen += [o["id"] for o in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        path = f"/v1/organisations?limit=2&cursor={body['next_cursor']}"
    assert seen == ["org-aa", "org-bb", "org-cc", "org-dd", "org-ee"]
    assert pages == 3


@pytest.mark.usefixtures("region")
async def test_organisations_filter_by_kind(client: httpx.AsyncClient, token: TokenFactory) -> None:
    body = await _read(client, token, "/v1/organisations?kind=gp_office")
    assert [o["id"] for o in body["items"]] == ["org-cc"]
    assert body["items"][0]["org_number"].isdigit()


@pytest.mark.usefixtures("region")
async def test_units_carry_their_services_and_filter_by_service(client: httpx.AsyncClient, token: TokenFactory) -> None:
    body = await _read(client, token, "/v1/units?service=legevakt")
    assert [(u["id"], u["services"], u["parent_id"]) for u in body["items"]] == [
        ("org-aa.legevakt", ["legevakt"], "org-aa.root")
    ]
    one = await _read(client, token, "/v1/units/org-bb.root")
    assert one["services"] == ["fastlege"]


@pytest.mark.usefixtures("region")
async def test_users_carry_employments_and_role_assignments(client: httpx.AsyncClient, token: TokenFactory) -> None:
    user = await _read(client, token, "/v1/users/u1")
    assert user["employments"] == [
        {"unit_id": "org-aa.legevakt", "position_code": "7006", "valid_from": "2024-01-01T00:00:00Z", "valid_to": None}
    ]
    assert [(a["role_id"], a["unit_id"], a["source"]) for a in user["role_assignments"]] == [
        ("legevakt-lege", "org-aa.legevakt", "hr")
    ]
    assert datetime.fromisoformat(user["employments"][0]["valid_from"]).tzinfo == UTC


@pytest.mark.usefixtures("region")
@pytest.mark.parametrize(
    ("query", "expected"),
    [("organisation=org-aa", ["u1"]), ("unit=org-bb.root", ["u2"]), ("status=inactive", ["u3"])],
)
async def test_users_filter(client: httpx.AsyncClient, token: TokenFactory, query: str, expected: list[str]) -> None:
    body = await _read(client, token, f"/v1/users?{query}")
    assert [u["id"] for u in body["items"]] == expected


@pytest.mark.usefixtures("region")
@pytest.mark.parametrize("path", ["/v1/users/nobody", "/v1/units/nowhere", "/v1/organisations/none"])
async def test_unknown_id_is_404_naming_the_id(client: httpx.AsyncClient, token: TokenFactory, path: str) -> None:
    response = await client.get(path, headers=bearer(token("directory:read")))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": response.json()["message"], "field": "id"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("limit=ten", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=MTIz", "cursor"),
        ("cursor=Ilx1ZDgwMCI", "cursor"),  # the JSON string "\ud800": a lone surrogate, no UTF-8 text
        ("cursor=ImFcdTAwMDAi", "cursor"),  # the JSON string "a\u0000": PostgreSQL's text holds no NUL
        ("status=on-leave", "status"),
        ("organisation=a%00b", "query"),  # refused at the edge, for every route
    ],
)
async def test_bad_parameters_are_400_naming_the_field(
    client: httpx.AsyncClient, token: TokenFactory, query: str, field: str
) -> None:
    response = await client.get(f"/v1/users?{query}", headers=bearer(token("directory:read")))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert response.json()["code"] == "invalid_request"


async def test_a_nul_in_the_path_is_400_naming_it(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await client.get("/v1/users/a%00b", headers=bearer(token("directory:read")))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "path"
