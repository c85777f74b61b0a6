"""SCIM list queries: each filter operator, sorting, pagination, and PATCH in its path and no-path forms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.api.conftest import TokenFactory, serving
from tests.api.scim_support import (
    CLINIC,
    HEALTH,
    PATCH_OP,
    WARD,
    add_scim_world,
    employment,
    scim_headers,
    user_body,
)


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return scim_headers(token, "hr:write")


@pytest.fixture
async def scim(app: Litestar, session: Any, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Three users: 1 and 2 active at the clinic, 3 deactivated (but still employed) at the nursing home."""
    await add_scim_world(session)
    async with serving(app) as client:
        for n, family in ((1, "Berg"), (2, "Aas"), (3, "Dahl")):
            body = user_body(n, name={"givenName": "Kari", "familyName": family})
            if n == 3:
                body.update(active=False, emails=[{"value": "dahl@other.example", "type": "work"}])
                body[HEALTH]["employments"] = [employment(WARD, "7010")]
            assert (await client.post("/scim/v2/Users", json=body, headers=headers)).status_code == 201
        yield client


async def _names(scim: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = await scim.get("/scim/v2/Users", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [r["name"]["familyName"] for r in response.json()["Resources"]]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "LEGE1@scimby.example"', ["Berg"]),
        ('userName ne "lege1@scimby.example"', ["Aas", "Dahl"]),
        ('name.familyName co "a"', ["Aas", "Dahl"]),
        ('userName sw "lege2"', ["Aas"]),
        ('displayName eq "KARI DAHL"', ["Dahl"]),
        ('emails ew "other.example"', ["Dahl"]),
        ('emails.value eq "lege1@scimby.example"', ["Berg"]),
        ('emails[type eq "work" and value co "other"]', ["Dahl"]),
        ('externalId eq "hr-00002"', ["Aas"]),
        ("active eq true", ["Aas", "Berg"]),
        ("active eq false", ["Dahl"]),
        ('externalId gt "hr-00001"', ["Aas", "Dahl"]),
        ('externalId le "hr-00002"', ["Aas", "Berg"]),
        ('meta.lastModified gt "2000-01-01T00:00:00Z"', ["Aas", "Berg", "Dahl"]),
        ('meta.lastModified lt "2000-01-01T00:00:00Z"', []),
        ("emails pr", ["Aas", "Berg", "Dahl"]),
        ('name.familyName eq "Aas" or name.familyName eq "Dahl"', ["Aas", "Dahl"]),
        ('active eq true and not (name.familyName eq "Aas")', ["Berg"]),
    ],
)
async def test_filter_operators(
    scim: httpx.AsyncClient, headers: dict[str, str], expression: str, expected: list[str]
) -> None:
    assert await _names(scim, headers, filter=expression, sortBy="name.familyName") == expected


@pytest.mark.parametrize(
    "expression",
    [
        "userName eq",
        'nickName eq "x"',
        'userName zz "x"',
        "(active eq true",
        "(" * 3000 + 'userName eq "x"' + ")" * 3000,
        " or ".join(f'userName eq "u{i}"' for i in range(1500)),
    ],
    ids=["no-value", "unknown-attribute", "unknown-operator", "unclosed", "nested-3000-deep", "1500-terms"],
)
async def test_bad_filter_is_invalid_filter(scim: httpx.AsyncClient, headers: dict[str, str], expression: str) -> None:
    response = await scim.get("/scim/v2/Users", params={"filter": expression}, headers=headers)
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidFilter"


async def test_sorting_and_pagination(scim: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert await _names(scim, headers, sortBy="name.familyName", sortOrder="descending") == ["Dahl", "Berg", "Aas"]
    response = await scim.get(
        "/scim/v2/Users", params={"sortBy": "name.familyName", "startIndex": 2, "count": 1}, headers=headers
    )
    page = response.json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert [r["name"]["familyName"] for r in page["Resources"]] == ["Berg"]
    assert await _names(scim, headers, count=0) == []


@pytest.mark.parametrize("start", ["2147483648", "99999999999999999999"])
async def test_start_index_past_the_integer_range_is_invalid_value(
    scim: httpx.AsyncClient, headers: dict[str, str], start: str
) -> None:
    for url in ("/scim/v2/Users", "/scim/v2/Groups"):
        response = await scim.get(url, params={"startIndex": start}, headers=headers)
        assert response.status_code == 400, response.text
        assert (response.json()["scimType"], "startIndex" in response.json()["detail"]) == ("invalidValue", True)


async def test_attributes_naming_the_core_schema_keep_the_core_attributes_only(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    params = {"filter": 'externalId eq "hr-00001"', "attributes": "urn:ietf:params:scim:schemas:core:2.0:User"}
    response = await scim.get("/scim/v2/Users", params=params, headers=headers)
    assert response.status_code == 200, response.text
    [only] = response.json()["Resources"]
    assert only["userName"] and only["name"]["familyName"] == "Berg"
    assert HEALTH not in only


async def test_search_request_and_attribute_projection(scim: httpx.AsyncClient, headers: dict[str, str]) -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'externalId eq "hr-00001"',
        "attributes": ["userName"],
    }
    response = await scim.post("/scim/v2/Users/.search", json=body, headers=headers)
    assert response.status_code == 200, response.text
    [only] = response.json()["Resources"]
    assert set(only) == {"schemas", "id", "userName"}


async def _root_search(scim: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> httpx.Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], **params}
    return await scim.post("/scim/v2/.search", json=body, headers=headers)


def _found(page: dict[str, Any]) -> list[str]:
    """Users by family name, Groups by display name."""
    return [r["name"]["familyName"] if "name" in r else r["displayName"] for r in page["Resources"]]


async def test_a_search_from_the_root_finds_users_then_groups(scim: httpx.AsyncClient, headers: dict[str, str]) -> None:
    everything = (await _root_search(scim, headers, sortBy="name.familyName")).json()
    assert everything["totalResults"] == 6
    assert _found(everything) == ["Aas", "Berg", "Dahl", "scimby", CLINIC, WARD]
    assert [r["meta"]["resourceType"] for r in everything["Resources"]] == ["User"] * 3 + ["Group"] * 3

    across = (await _root_search(scim, headers, sortBy="name.familyName", startIndex=3, count=2)).json()
    assert (across["totalResults"], across["startIndex"], _found(across)) == (6, 3, ["Dahl", "scimby"])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('displayName sw "kari d" or displayName sw "scimby.s"', ["Dahl", WARD]),
        ('userName eq "lege2@scimby.example"', ["Aas"]),  # Groups have no userName: none of them match
        ('meta.lastModified gt "2000-01-01T00:00:00Z" and name.familyName eq "Berg"', ["Berg"]),
        ('externalId eq "hr-00003" or externalId eq "scimby"', ["Dahl", "scimby"]),
    ],
)
async def test_a_root_filter_matches_each_resource_type_that_has_its_attributes(
    scim: httpx.AsyncClient, headers: dict[str, str], expression: str, expected: list[str]
) -> None:
    response = await _root_search(scim, headers, filter=expression)
    assert response.status_code == 200, response.text
    assert _found(response.json()) == expected


async def test_a_root_filter_that_fits_no_resource_type_is_invalid(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await _root_search(scim, headers, filter='nickName eq "x"')
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "invalidFilter"


async def _patch(
    scim: httpx.AsyncClient, headers: dict[str, str], *operations: dict[str, Any], confirm: bool = False
) -> httpx.Response:
    listed = await scim.get("/scim/v2/Users", params={"filter": 'externalId eq "hr-00001"'}, headers=headers)
    user_id = listed.json()["Resources"][0]["id"]
    body = {"schemas": [PATCH_OP], "Operations": list(operations)}
    # The world's other user left already: a second leaver among three is past the mass-change guard.
    params = {"confirm_mass_change": "true"} if confirm else {}
    return await scim.patch(f"/scim/v2/Users/{user_id}", json=body, headers=headers, params=params)


async def test_patch_value_path_replaces_the_work_address(scim: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await _patch(
        scim, headers, {"op": "replace", "path": 'emails[type eq "work"].value', "value": "kari@new.example"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["emails"] == [{"value": "kari@new.example", "type": "work"}]


async def test_patch_without_path_sets_each_attribute_of_the_object(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    value = {"name": {"familyName": "Lie"}, HEALTH: {"hprNumber": "7654321"}, "active": False}
    response = await _patch(scim, headers, {"op": "Replace", "value": value}, confirm=True)
    assert response.status_code == 200, response.text
    user = response.json()
    assert (user["name"], user[HEALTH]["hprNumber"], user["active"]) == (
        {"givenName": "Kari", "familyName": "Lie"},
        "7654321",
        False,
    )


async def test_patch_adds_an_employment_and_removes_the_hpr_number(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await _patch(
        scim,
        headers,
        {"op": "add", "path": f"{HEALTH}:employments", "value": [employment(WARD, "7010")]},
        {"op": "remove", "path": f"{HEALTH}:hprNumber"},
    )
    assert response.status_code == 200, response.text
    health = response.json()[HEALTH]
    assert [job["unit"] for job in health["employments"]] == [CLINIC, WARD]
    assert "hprNumber" not in health


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "remove"}, "noTarget"),
        ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
        ({"op": "replace", "path": 'emails[type eq "home" and value co "zz"].value', "value": "x@y.z"}, "noTarget"),
        ({"op": "replace", "path": "userName[", "value": "x"}, "invalidPath"),
        ({"op": "remove", "path": f"{HEALTH}:employments"}, "invalidValue"),
        ({"op": "replace", "path": "ID", "value": "x"}, "mutability"),
    ],
)
async def test_bad_patch_is_rejected_whole(
    scim: httpx.AsyncClient, headers: dict[str, str], operation: dict[str, Any], scim_type: str
) -> None:
    response = await _patch(scim, headers, {"op": "replace", "path": "name.familyName", "value": "Changed"}, operation)
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == scim_type
    assert await _names(scim, headers, filter='externalId eq "hr-00001"') == ["Berg"]


@pytest.mark.parametrize("op", ["replace", "remove"])
async def test_patch_of_a_sub_attribute_over_values_that_are_not_objects_is_invalid_value(
    scim: httpx.AsyncClient, headers: dict[str, str], op: str
) -> None:
    second = {"op": op, "path": "emails.value"} | ({"value": "z@y.no"} if op == "replace" else {})
    response = await _patch(scim, headers, {"op": "add", "path": "emails", "value": "x@y.no"}, second)
    assert response.status_code == 400, response.text
    assert (response.json()["scimType"], "emails" in response.json()["detail"]) == ("invalidValue", True)


async def test_groups_are_units_with_their_current_members(scim: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await scim.get("/scim/v2/Groups", params={"filter": f'id eq "{CLINIC}"'}, headers=headers)
    [clinic] = response.json()["Resources"]
    assert len(clinic["members"]) == 2
    assert (await scim.get(f"/scim/v2/Groups/{WARD}", headers=headers)).json().get("members") is None
