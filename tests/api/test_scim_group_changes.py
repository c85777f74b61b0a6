"""A unit written over SCIM is the unit decisions use, every write of one is audited and logged, and so is the org tree.

SCIM Groups and `PUT /v1/org/units` are two doors to the same units: what one writes the other sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.changes.models import EngineChange
from tests.api.conftest import TokenFactory, bearer
from tests.api.scim_support import (
    CLINIC,
    HEALTH,
    PATCH_OP,
    PATIENT,
    SCIM_JSON,
    SCIMBY_NUMBER,
    UNIT,
    WARD,
    RecordedAudit,
    add_scim_world,
    days,
    decide,
    employment,
    group_body,
    scim_headers,
    serving_with_recorded_audit,
    user_body,
)

NEW = "scimby.akutt"


@pytest.fixture
async def world(session: Any) -> None:
    await add_scim_world(session)


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return scim_headers(token, "hr:write", "authz:evaluate", "context:write")


def _add_services(*services: str) -> dict[str, Any]:
    operation = {"op": "add", "path": f"{UNIT}:services", "value": list(services)}
    return {"schemas": [PATCH_OP], "Operations": [operation]}


@pytest.mark.usefixtures("world")
async def test_a_unit_created_over_scim_is_an_acting_unit_once_it_provides_the_service(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await client.post("/scim/v2/Groups", json=group_body(parent=CLINIC), headers=headers)
    assert created.status_code == 201, created.text
    body = user_body(7)
    body[HEALTH]["employments"] = [employment(NEW, "7006", start=days(-1))]
    joiner = await client.post("/scim/v2/Users", json=body, headers=headers)
    assert joiner.status_code == 201, joiner.text
    user_id = joiner.json()["id"]
    relation = {"patient": PATIENT, "user": user_id, "kind": "appointment", "valid_from": days(-30)}
    assert (await client.put("/v1/care-relations/cr-akutt", json=relation, headers=headers)).status_code == 201

    # A physician in a unit without the out-of-hours service holds no role there: denied.
    assert (await decide(client, headers, user_id, NEW))["decision"] is False
    patched = await client.patch(f"/scim/v2/Groups/{NEW}", json=_add_services("legevakt"), headers=headers)
    assert patched.status_code == 200, patched.text
    # The service change re-derives the staff's roles, and the very next decision sees it.
    permitted = await decide(client, headers, user_id, NEW)
    assert permitted["decision"] is True, permitted
    assert permitted["context"]["roles"] == ["legevakt.lege"]
    removed = {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f"{UNIT}:services"}]}
    assert (await client.patch(f"/scim/v2/Groups/{NEW}", json=removed, headers=headers)).status_code == 200
    assert (await decide(client, headers, user_id, NEW))["decision"] is False


@pytest.fixture
async def audited(app: Litestar, world: None) -> AsyncIterator[tuple[httpx.AsyncClient, RecordedAudit]]:
    """A client whose audit events are kept in a list instead of the audit store."""
    audit = RecordedAudit()
    async with serving_with_recorded_audit(app, audit) as client:
        yield client, audit


async def test_every_group_write_is_audited_and_logged_for_the_engines(
    audited: tuple[httpx.AsyncClient, RecordedAudit], headers: dict[str, str], session: AsyncSession
) -> None:
    client, audit = audited
    assert (await client.post("/scim/v2/Groups", json=group_body(), headers=headers)).status_code == 201
    url = f"/scim/v2/Groups/{NEW}"
    assert (await client.patch(url, json=_add_services("legevakt"), headers=headers)).status_code == 200
    refused = await client.put(url, json=group_body(parent="scimby.nowhere"), headers=headers)
    assert refused.status_code == 400  # a refused write is not audited
    assert (await client.delete(url, headers=headers)).status_code == 204

    assert [e.detail["operation"] for e in audit.events] == ["create", "patch", "delete"]
    assert {e.action for e in audit.events} == {actions.HR_UNIT_CHANGED}
    assert all(e.resource_type == "Unit" and e.resource_id == NEW for e in audit.events)
    assert all(e.user_id == "test-client" and e.detail["organisation"] == SCIMBY_NUMBER for e in audit.events)
    assert audit.events[0].detail["changes"]["parent"] == [None, "scimby"]
    assert audit.events[1].detail["changes"] == {"services": [[], ["legevakt"]]}
    assert audit.events[2].detail["changes"]["name"] == ["Akutteam", None]
    logged = await session.scalar(
        select(func.count()).select_from(EngineChange).where(EngineChange.kind == "unit", EngineChange.key == NEW)
    )
    assert logged == 3


async def test_the_org_tree_put_is_audited_and_sees_the_units_scim_wrote(
    audited: tuple[httpx.AsyncClient, RecordedAudit], token: TokenFactory
) -> None:
    client, audit = audited
    headers = {**bearer(token("hr:write", sub="org-feed")), "Content-Type": SCIM_JSON}
    assert (await client.post("/scim/v2/Groups", json=group_body(), headers=headers)).status_code == 201
    tree = {
        "org_number": SCIMBY_NUMBER,
        "units": [
            {"id": "scimby", "name": "scimby"},
            {"id": CLINIC, "name": "Legevakten", "parent": "scimby"},
            {"id": NEW, "name": "Akutteam", "parent": "scimby"},
            {"id": "scimby.ny", "name": "Ny enhet", "parent": "scimby"},
        ],
    }
    response = await client.put("/v1/org/units", json=tree, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["removed"] == [WARD]
    tree_events = [e for e in audit.events if e.action == actions.HR_ORG_TREE_CHANGED]
    assert len(tree_events) == 1
    event = tree_events[0]
    assert event.user_id == "org-feed"
    assert event.resource_id == "scimby"
    assert {k: event.detail[k] for k in ("organisation", "created", "updated", "removed")} == {
        "organisation": SCIMBY_NUMBER,
        "created": 1,
        "updated": 1,
        "removed": 1,
    }
    assert event.detail["units"] == {"created": ["scimby.ny"], "updated": [CLINIC], "removed": [WARD]}
    # The unit SCIM created was left as it was, and SCIM reads what the tree put.
    assert event.detail["unchanged"] == 2
    assert (await client.get(f"/scim/v2/Groups/{CLINIC}", headers=headers)).json()["displayName"] == "Legevakten"
    # The same tree again changes nothing, and is not audited as a change.
    assert (await client.put("/v1/org/units", json=tree, headers=headers)).json()["unchanged"] == 4
    assert len([e for e in audit.events if e.action == actions.HR_ORG_TREE_CHANGED]) == 1
