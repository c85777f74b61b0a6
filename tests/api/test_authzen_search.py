"""AuthZEN search: complete, paged answers that agree with evaluation, through roles, units and care relations."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.policies.models import RoleAssignment
from tests.api.conftest import TokenFactory, bearer
from tests.api.world import DOCTOR, PATIENT, UNIT, add_world
from tests.factories import T0, add_user

NURSE_DOCTOR = "lege2"


@pytest.fixture
async def world(session: AsyncSession) -> None:
    await add_world(session)
    await add_user(session, NURSE_DOCTOR, unit=UNIT, position="7006")
    session.add(
        RoleAssignment(
            user_id=NURSE_DOCTOR, role_id="legevakt.lege", unit_id=UNIT, valid_from=T0, valid_to=None, source="hr"
        )
    )
    await session.commit()


pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("authz:evaluate", "context:write"))


def who_may_read(page: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"type": "user"},
        "action": {"name": "read"},
        "resource": {"type": "journal.note", "id": "n", "properties": {"patient": PATIENT}},
    }
    if page:
        body["page"] = page
    return body


async def _relate(client: httpx.AsyncClient, headers: dict[str, str], rid: str, **target: str) -> None:
    body = {"patient": PATIENT, "kind": "admission", "valid_from": "2026-01-01T00:00:00Z", **target}
    assert (await client.put(f"/v1/care-relations/{rid}", json=body, headers=headers)).status_code == 201


async def _who(client: httpx.AsyncClient, headers: dict[str, str], **page: Any) -> dict[str, Any]:
    response = await client.post("/access/v1/search/subject", json=who_may_read(page or None), headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert isinstance(answer, dict)
    return answer


async def test_nobody_may_read_a_patient_without_a_care_relation(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert (await _who(client, headers))["results"] == []


async def test_a_personal_relation_admits_one_user_and_a_unit_relation_everyone_there(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await _relate(client, headers, "r-user", user=DOCTOR)
    assert (await _who(client, headers))["results"] == [{"type": "user", "id": DOCTOR}]
    await _relate(client, headers, "r-unit", unit=UNIT)
    assert [r["id"] for r in (await _who(client, headers))["results"]] == [DOCTOR, NURSE_DOCTOR]


async def test_search_agrees_with_evaluation_after_a_block(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await _relate(client, headers, "r-unit", unit=UNIT)
    block = {"patient": PATIENT, "user": NURSE_DOCTOR, "reason": "relative", "valid_from": "2026-01-01T00:00:00Z"}
    await client.put("/v1/patient-blocks/blk", json=block, headers=headers)
    assert [r["id"] for r in (await _who(client, headers))["results"]] == [DOCTOR]


async def test_subject_search_pages_without_losing_anyone(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await _relate(client, headers, "r-unit", unit=UNIT)
    first = await _who(client, headers, limit=1)
    assert [r["id"] for r in first["results"]] == [DOCTOR]
    assert first["page"]["total"] == 2
    second = await _who(client, headers, limit=1, token=first["page"]["next_token"])
    assert [r["id"] for r in second["results"]] == [NURSE_DOCTOR]
    assert second["page"]["next_token"] == ""


async def test_action_search_lists_what_the_user_may_do(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    body = {
        "subject": {"type": "user", "id": DOCTOR, "properties": {"unit": UNIT}},
        "resource": {"type": "journal.note", "id": "n", "properties": {"patient": PATIENT}},
    }
    before = (await client.post("/access/v1/search/action", json=body, headers=headers)).json()
    assert before["results"] == []
    await _relate(client, headers, "r-user", user=DOCTOR)
    after = (await client.post("/access/v1/search/action", json=body, headers=headers)).json()
    assert [r["name"] for r in after["results"]] == ["print", "read", "sign", "write"]


async def test_subject_search_for_another_subject_type_is_400(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = who_may_read()
    body["subject"]["type"] = "service"
    response = await client.post("/access/v1/search/subject", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["field"] == "subject.type"


async def test_well_known_lists_the_search_endpoints(client: httpx.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/authzen-configuration")).json()
    assert metadata["search_subject_endpoint"].endswith("/access/v1/search/subject")
    assert metadata["search_action_endpoint"].endswith("/access/v1/search/action")
    assert "search_resource_endpoint" not in metadata
