"""SCIM Groups are units: created, replaced, patched and deleted through the org tree's checks, with ETags."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.context.models import CareRelation, PatientBlock
from accessctl.directory.models import Unit, UnitService
from tests.api.conftest import TokenFactory
from tests.api.scim_support import (
    CLINIC,
    ERROR,
    GROUP_URN,
    HEALTH,
    PATCH_OP,
    SCIMBY_NUMBER,
    UNIT,
    WARD,
    RecordedAudit,
    add_scim_world,
    days,
    employment,
    group_body,
    scim_headers,
    serving_with_recorded_audit,
    user_body,
)
from tests.factories import T0, add_organisation, add_unit, org_number

NEW = "scimby.akutt"
PATIENT = "01817006872"  # synthetic: month 01 + 80


@pytest.fixture
async def audit(app: Litestar) -> RecordedAudit:
    return RecordedAudit()


@pytest.fixture
async def scim(app: Litestar, session: Any, audit: RecordedAudit) -> AsyncIterator[httpx.AsyncClient]:
    await add_scim_world(session)
    async with serving_with_recorded_audit(app, audit) as client:
        yield client


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return scim_headers(token, "hr:write")


async def _create(scim: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await scim.post("/scim/v2/Groups", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created, dict)
    return created


def _ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


async def _units(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Unit)) or 0)


async def test_a_group_is_created_read_replaced_patched_and_deleted_as_a_unit(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    created = await _create(scim, headers, group_body(services=["legevakt"]))
    assert created["id"] == created["externalId"] == NEW
    assert created["schemas"] == [GROUP_URN, UNIT]
    assert created[UNIT] == {
        "organisation": SCIMBY_NUMBER,
        "parent": "scimby",
        "kind": "team",
        "services": ["legevakt"],
    }
    row = await session.get(Unit, NEW, populate_existing=True)
    assert row is not None and (row.organisation_id, row.parent_id, row.name) == ("scimby", "scimby", "Akutteam")

    url = f"/scim/v2/Groups/{NEW}"
    read = await scim.get(url, headers=headers)
    assert read.json() == created
    assert read.headers["etag"] == created["meta"]["version"]
    assert (await scim.get(url, headers={**headers, "If-None-Match": read.headers["etag"]})).status_code == 304

    # PUT replaces: moved under the clinic, renamed; services left out means none.
    body = group_body(name="Akutteam Legevakt", parent=CLINIC, kind="section")
    replaced = await scim.put(url, json=body, headers=headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()[UNIT] == {"organisation": SCIMBY_NUMBER, "parent": CLINIC, "kind": "section"}
    assert replaced.json()["meta"]["version"] != created["meta"]["version"]
    row = await session.get(Unit, NEW, populate_existing=True)
    assert row is not None and (row.parent_id, row.name, row.kind) == (CLINIC, "Akutteam Legevakt", "section")

    patched = await scim.patch(
        url,
        json=_ops(
            {"op": "replace", "path": "displayName", "value": "Akutt"},
            {"op": "add", "path": f"{UNIT}:services", "value": ["sykehjem"]},
            {"op": "remove", "path": f"{UNIT}:parent"},
        ),
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["displayName"] == "Akutt"
    assert patched.json()[UNIT] == {"organisation": SCIMBY_NUMBER, "kind": "section", "services": ["sykehjem"]}
    services = set(await session.scalars(select(UnitService.service_id).where(UnitService.unit_id == NEW)))
    assert services == {"sykehjem"}

    assert (await scim.delete(url, headers=headers)).status_code == 204
    assert (await scim.get(url, headers=headers)).status_code == 404
    assert await session.get(Unit, NEW, populate_existing=True) is None


async def test_members_are_the_users_employed_now_and_cannot_be_written(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await _create(scim, headers, group_body())
    body = user_body(1)
    body[HEALTH]["employments"] = [employment(NEW)]
    user = await scim.post("/scim/v2/Users", json=body, headers=headers)
    assert user.status_code == 201, user.text
    group = (await scim.get(f"/scim/v2/Groups/{NEW}", headers=headers)).json()
    assert [m["value"] for m in group["members"]] == [user.json()["id"]]
    refused = await scim.patch(
        f"/scim/v2/Groups/{NEW}",
        json=_ops({"op": "add", "path": "members", "value": [{"value": "x"}]}),
        headers=headers,
    )
    assert refused.status_code == 400
    assert refused.json()["scimType"] == "mutability"
    # Attribute names are case-insensitive: `Members` is the same read-only attribute, not one to ignore.
    refused = await scim.patch(
        f"/scim/v2/Groups/{NEW}",
        json=_ops({"op": "add", "path": "Members", "value": [{"value": "x"}]}),
        headers=headers,
    )
    assert refused.status_code == 400
    assert refused.json()["scimType"] == "mutability"


async def test_an_existing_unit_id_cannot_be_created_again(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    response = await scim.post("/scim/v2/Groups", json=group_body(CLINIC, "Another clinic"), headers=headers)
    assert response.status_code == 409
    assert response.json()["scimType"] == "uniqueness"
    assert "externalId" in response.json()["detail"]
    row = await session.get(Unit, CLINIC, populate_existing=True)
    assert row is not None and row.name == CLINIC


async def _other_organisation(session: AsyncSession) -> None:
    await add_organisation(session, "andreby", seed=12)
    await add_unit(session, "andreby", "andreby")
    await session.commit()


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        (group_body(organisation="123456789"), f"{UNIT}:organisation", "123456789"),
        (group_body(organisation=org_number(99)), f"{UNIT}:organisation", org_number(99)),
        (group_body(parent="scimby.nowhere"), f"{UNIT}:parent", "scimby.nowhere"),
        (group_body(parent="andreby"), f"{UNIT}:parent", "andreby"),
        (group_body(services=["no-such-service"]), f"{UNIT}:services", "no-such-service"),
        (group_body(name=" "), "displayName", "displayName"),
        (group_body("bad id"), "externalId", "externalId"),
        ({**group_body(), "externalId": None}, "externalId", "required"),
        ({"schemas": [GROUP_URN], "externalId": NEW, "displayName": "X"}, UNIT, "organisation"),
    ],
)
async def test_a_bad_unit_is_refused_naming_the_attribute_and_nothing_is_written(
    scim: httpx.AsyncClient,
    headers: dict[str, str],
    session: AsyncSession,
    body: dict[str, Any],
    field: str,
    named: str,
) -> None:
    await _other_organisation(session)
    before = await _units(session)
    response = await scim.post("/scim/v2/Groups", json=body, headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["schemas"] == [ERROR]
    assert error["scimType"] == "invalidValue"
    assert error["detail"].startswith(field)
    assert named in error["detail"]
    assert await _units(session) == before


@pytest.mark.parametrize(
    ("operation", "scim_type", "field"),
    [
        # The municipality under its own clinic: a cycle, refused by the org tree's check.
        ({"op": "replace", "path": f"{UNIT}:parent", "value": CLINIC}, "invalidValue", f"{UNIT}:parent"),
        ({"op": "replace", "path": f"{UNIT}:organisation", "value": org_number(12)}, "mutability", "organisation"),
        ({"op": "replace", "path": "externalId", "value": "scimby.renamed"}, "mutability", "externalId"),
        ({"op": "replace", "path": "id", "value": "x"}, "mutability", "id"),
        ({"op": "remove", "path": UNIT}, "invalidValue", UNIT),
        ({"op": "add", "path": f"{HEALTH}:hprNumber", "value": "1234567"}, "invalidPath", HEALTH),
    ],
)  # fmt: skip
async def test_a_bad_patch_is_refused_whole_naming_the_attribute(
    scim: httpx.AsyncClient,
    headers: dict[str, str],
    session: AsyncSession,
    operation: dict[str, Any],
    scim_type: str,
    field: str,
) -> None:
    await _other_organisation(session)
    rename = {"op": "replace", "path": "displayName", "value": "Renamed"}
    response = await scim.patch("/scim/v2/Groups/scimby", json=_ops(rename, operation), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == scim_type
    assert field in response.json()["detail"]
    row = await session.get(Unit, "scimby", populate_existing=True)
    assert row is not None and (row.name, row.parent_id, row.organisation_id) == ("scimby", None, "scimby")


async def test_a_stale_if_match_is_refused_412_and_the_current_one_passes(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    created = await _create(scim, headers, group_body())
    url = f"/scim/v2/Groups/{NEW}"
    assert (await scim.put(url, json=group_body(name="First"), headers=headers)).status_code == 200
    stale = {**headers, "If-Match": created["meta"]["version"]}
    put = await scim.put(url, json=group_body(name="Second"), headers=stale)
    assert put.status_code == 412
    assert put.json()["schemas"] == [ERROR]
    patch = await scim.patch(url, json=_ops({"op": "replace", "path": "displayName", "value": "Third"}), headers=stale)
    assert patch.status_code == 412
    assert (await scim.delete(url, headers=stale)).status_code == 412
    row = await session.get(Unit, NEW, populate_existing=True)
    assert row is not None and row.name == "First"
    current = {**headers, "If-Match": (await scim.get(url, headers=headers)).headers["etag"]}
    assert (await scim.put(url, json=group_body(name="Second"), headers=current)).status_code == 200


async def test_a_membership_change_changes_the_etag(scim: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await _create(scim, headers, group_body())
    body = user_body(2)
    body[HEALTH]["employments"] = [employment(NEW)]
    assert (await scim.post("/scim/v2/Users", json=body, headers=headers)).status_code == 201
    stale = {**headers, "If-Match": created["meta"]["version"]}
    assert (await scim.put(f"/scim/v2/Groups/{NEW}", json=group_body(), headers=stale)).status_code == 412


async def _employ(scim: httpx.AsyncClient, headers: dict[str, str], start: str, end: str | None) -> None:
    body = user_body(3)
    body[HEALTH]["employments"] = [employment(NEW, "7010", start=start, end=end)]
    assert (await scim.post("/scim/v2/Users", json=body, headers=headers)).status_code == 201


@pytest.mark.parametrize(
    ("dependent", "named"),
    [
        ("child", "1 child unit"),
        ("current", "1 current or future employment"),
        ("future", "1 current or future employment"),
        ("ended", "1 ended employment"),
        ("care_relation", "1 care relation"),
        ("block", "1 patient block"),
    ],
)
async def test_a_unit_something_refers_to_is_not_deleted_and_the_error_says_what(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, dependent: str, named: str
) -> None:
    await _create(scim, headers, group_body())
    if dependent == "child":
        await _create(scim, headers, group_body("scimby.akutt.natt", "Natt", parent=NEW))
    elif dependent == "current":
        await _employ(scim, headers, days(-10), None)
    elif dependent == "future":
        await _employ(scim, headers, days(10), None)
    elif dependent == "ended":
        await _employ(scim, headers, days(-100), days(-10))
    elif dependent == "care_relation":
        session.add(CareRelation(id="cr-1", patient=PATIENT, unit_id=NEW, kind="home_care_decision", valid_from=T0))
    else:
        session.add(PatientBlock(id="pb-1", patient=PATIENT, unit_id=NEW, reason="neighbour", valid_from=T0))
    await session.commit()
    response = await scim.delete(f"/scim/v2/Groups/{NEW}", headers=headers)
    assert response.status_code == 409, response.text
    assert response.json()["schemas"] == [ERROR]
    assert named in response.json()["detail"]
    assert await session.get(Unit, NEW, populate_existing=True) is not None


async def test_groups_filter_on_external_id_and_search_with_a_projection(
    scim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    listed = await scim.get("/scim/v2/Groups", params={"filter": f'externalId eq "{WARD}"'}, headers=headers)
    assert [g["id"] for g in listed.json()["Resources"]] == [WARD]
    search = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'displayName sw "scimby."',
        "attributes": [f"{UNIT}:services"],
    }
    found = await scim.post("/scim/v2/Groups/.search", json=search, headers=headers)
    assert found.status_code == 200, found.text
    resources = found.json()["Resources"]
    assert [(g["id"], g[UNIT]) for g in resources] == [
        (CLINIC, {"services": ["legevakt"]}),
        (WARD, {"services": ["sykehjem"]}),
    ]
    assert "displayName" not in resources[0]


async def test_patch_without_a_path_sets_each_attribute_of_the_object(
    scim: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    value = {"displayName": "Legevakten", UNIT: {"kind": "clinic", "services": ["legevakt", "sykehjem"]}}
    response = await scim.patch(
        f"/scim/v2/Groups/{CLINIC}", json=_ops({"op": "replace", "value": value}), headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["displayName"] == "Legevakten"
    assert response.json()[UNIT]["services"] == ["legevakt", "sykehjem"]
    row = await session.get(Unit, CLINIC, populate_existing=True)
    assert row is not None and (row.name, row.kind, row.parent_id) == ("Legevakten", "clinic", "scimby")
