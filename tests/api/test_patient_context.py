"""Patient context API: care relations and patient blocks are validated, idempotent, paginated and scoped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import TokenFactory, bearer
from tests.api.world import DOCTOR, OTHER_PATIENT, PATIENT, UNIT, add_world

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: Any) -> None:
    await add_world(session)


@pytest.fixture
def auth(token: TokenFactory) -> dict[str, str]:
    return bearer(token("context:write"))


def relation(**overrides: Any) -> dict[str, Any]:
    body = {"patient": PATIENT, "unit": UNIT, "kind": "admission", "valid_from": "2026-01-01T00:00:00Z"}
    body.update(overrides)
    return body


async def test_put_creates_then_replaces_and_get_reads_it(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = await client.put("/v1/care-relations/adm-1", json=relation(), headers=auth)
    assert first.status_code == 201, first.text
    second = await client.put("/v1/care-relations/adm-1", json=relation(kind="referral"), headers=auth)
    assert second.status_code == 200
    read = (await client.get("/v1/care-relations/adm-1", headers=auth)).json()
    assert read["kind"] == "referral"
    assert read["unit"] == UNIT and read["user"] is None
    assert read["valid_from"] == "2026-01-01T00:00:00Z"


async def test_delete_removes_and_a_second_delete_is_404(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await client.put("/v1/care-relations/adm-2", json=relation(), headers=auth)
    assert (await client.delete("/v1/care-relations/adm-2", headers=auth)).status_code == 204
    assert (await client.get("/v1/care-relations/adm-2", headers=auth)).status_code == 404
    again = await client.delete("/v1/care-relations/adm-2", headers=auth)
    assert again.status_code == 404
    assert again.json()["field"] == "id"


async def test_list_filters_by_patient_and_pages(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for i in range(3):
        await client.put(f"/v1/care-relations/r{i}", json=relation(), headers=auth)
    await client.put("/v1/care-relations/other", json=relation(patient=OTHER_PATIENT), headers=auth)
    page = (await client.get(f"/v1/care-relations?patient={PATIENT}&limit=2", headers=auth)).json()
    assert [r["id"] for r in page["items"]] == ["r0", "r1"]
    rest = (await client.get(f"/v1/care-relations?patient={PATIENT}&cursor={page['next_cursor']}", headers=auth)).json()
    assert [r["id"] for r in rest["items"]] == ["r2"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (relation(patient="12345678901"), "patient"),
        (relation(kind="visit"), "kind"),
        (relation(user=DOCTOR), "user"),
        ({**relation(), "unit": None}, "user"),
        (relation(unit="nowhere"), "unit"),
        (relation(valid_to="2025-01-01T00:00:00Z"), "valid_to"),
        (relation(valid_from="2026-01-01T00:00:00"), "valid_from"),
        (relation(valid_from="yesterday"), "valid_from"),
        (relation(valid_from="0001-01-01T00:00:00+01:00"), "valid_from"),  # before year 1 in UTC
        (relation(valid_to="9999-12-31T23:30:00-01:00"), "valid_to"),  # after year 9999 in UTC
        (relation(unit="ward\x00"), "unit"),  # PostgreSQL's text holds no NUL
        (relation(user="u" * 65, unit=None), "user"),
        ({"unit": UNIT, "kind": "admission", "valid_from": "2026-01-01T00:00:00Z"}, "patient"),
    ],
)
async def test_bad_relation_is_400_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await client.put("/v1/care-relations/bad-1", json=body, headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert (await client.get("/v1/care-relations/bad-1", headers=auth)).status_code == 404


@pytest.mark.parametrize(("relation_id", "field"), [("a,b", "id"), ("a%00b", "path")])  # a NUL: at the app's edge
async def test_id_with_a_comma_or_a_nul_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], relation_id: str, field: str
) -> None:
    response = await client.put(f"/v1/care-relations/{relation_id}", json=relation(), headers=auth)
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_bulk_applies_good_records_and_names_each_bad_one(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    records = [
        {"id": "b0", **relation()},
        {"id": "b1", **relation(patient="123")},
        {"id": "b2", **relation(user=DOCTOR, unit=None)},
        {"id": "b3", **relation(valid_from=17)},
        {**relation()},
        {"id": "b5", **relation(valid_from="0001-01-01T00:00:00+01:00")},  # no UTC moment: rejected, not a 500
    ]
    response = await client.post("/v1/care-relations/bulk", json={"relations": records}, headers=auth)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["applied"] == 2
    assert [(p["index"], p["field"]) for p in result["rejected"]] == [
        (1, "relations[1].patient"),
        (3, "relations[3].valid_from"),
        (4, "relations[4].id"),
        (5, "relations[5].valid_from"),  # its place in the request, not among the records that decoded
    ]
    assert (await client.get("/v1/care-relations/b0", headers=auth)).status_code == 200
    assert (await client.get("/v1/care-relations/b2", headers=auth)).json()["user"] == DOCTOR
    assert (await client.get("/v1/care-relations/b1", headers=auth)).status_code == 404


async def test_block_against_a_category(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = {
        "patient": PATIENT,
        "category": "protected_address",
        "reason": "court order",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    response = await client.put("/v1/patient-blocks/blk-1", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["category"] == "protected_address"
    listed = (await client.get(f"/v1/patient-blocks?patient={PATIENT}", headers=auth)).json()
    assert [b["id"] for b in listed["items"]] == ["blk-1"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"user": DOCTOR, "unit": UNIT}, "user"),
        ({"category": "vip"}, "category"),
        ({"unit": UNIT, "reason": " "}, "reason"),
        ({"unit": UNIT, "reason": "asked\x00"}, "reason"),
        ({"unit": UNIT, "valid_to": "9999-12-31T23:30:00-01:00"}, "valid_to"),
    ],
)
async def test_bad_block_is_400_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], extra: dict[str, Any], field: str
) -> None:
    body = {"patient": PATIENT, "reason": "patient asked", "valid_from": "2026-01-01T00:00:00Z", **extra}
    response = await client.put("/v1/patient-blocks/blk-x", json=body, headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


async def test_context_needs_the_context_write_scope(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await client.put("/v1/care-relations/x", json=relation(), headers=bearer(token("directory:read")))
    assert response.status_code == 403


async def test_every_context_change_is_an_audit_event_naming_patient_and_caller(
    client: httpx.AsyncClient, auth: dict[str, str], session: Any
) -> None:
    from sqlalchemy import select

    from accessctl.audit.models import AuditEventRow

    await client.put("/v1/care-relations/aud-1", json=relation(), headers=auth)
    await client.put("/v1/care-relations/aud-1", json=relation(kind="referral"), headers=auth)
    await client.delete("/v1/care-relations/aud-1", headers=auth)
    rows = (
        await session.scalars(
            select(AuditEventRow).where(AuditEventRow.resource_id == "aud-1").order_by(AuditEventRow.seq)
        )
    ).all()
    assert [(r.action, r.data_action) for r in rows] == [
        ("context.changed", "created"),
        ("context.changed", "replaced"),
        ("context.changed", "deleted"),
    ]
    assert {(r.patient, r.resource_type, r.client_system) for r in rows} == {(PATIENT, "care_relation", "test-client")}
