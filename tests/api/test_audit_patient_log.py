"""A patient sees who has accessed their record: names, organisation, when, what and why; no ids, no free text."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent
from accessctl.directory.models import Organisation, Unit, User
from tests.api.conftest import TokenFactory, bearer
from tests.api.test_audit_queries import record
from tests.api.test_authzen import evaluation
from tests.api.world import DOCTOR, OTHER_PATIENT, PATIENT, UNIT, add_world
from tests.integration.audit.helpers import decision

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: AsyncSession) -> None:
    """The API test world, with names that differ from the ids so a leaked id cannot hide behind a name."""
    await add_world(session)
    await session.execute(update(User).where(User.id == DOCTOR).values(given_name="Kari", family_name="Nordmann"))
    await session.execute(update(Unit).where(Unit.id == UNIT).values(name="Legevakten"))
    await session.execute(update(Organisation).where(Organisation.id == "testby").values(name="Testby kommune"))
    await session.commit()


def access(n: int, **overrides: Any) -> AuditEvent:
    """A permit by the world's doctor at the out-of-hours clinic, `n` minutes after T0."""
    fields: dict[str, Any] = {
        "user_id": DOCTOR,
        "hpr_number": "9144889",
        "roles": ("legevakt.lege",),
        "unit_id": UNIT,
        "organisation_id": "testby",
        "patient": PATIENT,
        "detail": {"care_relation_kind": "appointment"},
    }
    return decision(n, **{**fields, **overrides})


def patient_headers(token: TokenFactory, patient: str = PATIENT) -> dict[str, str]:
    return bearer(token("patient-log:read", sub="portal", claims={"patient": patient}))


async def log(client: httpx.AsyncClient, token: TokenFactory, **params: Any) -> dict[str, Any]:
    url = f"/v1/audit/patients/{PATIENT}/access-log"
    response = await client.get(url, params=params, headers=patient_headers(token))
    assert response.status_code == 200, response.text
    page = response.json()
    assert isinstance(page, dict)
    return page


async def test_patient_sees_who_from_where_when_what_and_why_newest_first(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    glass = access(5, break_glass_grant_id="bg-1", break_glass_reason_code="unconscious_patient", detail=None)
    await record(app, [access(0, data_action="print"), glass])
    items = (await log(client, token))["items"]
    assert [item["at"] for item in items] == ["2026-11-26T09:05:00Z", "2026-11-26T09:00:00Z"]
    newest, oldest = items
    assert (newest["who"], newest["roles"]) == ("Kari Nordmann", ["Legevaktlege"])
    assert (newest["unit"], newest["organisation"]) == ("Legevakten", "Testby kommune")
    assert newest["data"] == {"type": "journal.note", "label": "Clinical notes"}
    assert newest["why"] == {
        "basis": "break_glass",
        "code": "unconscious_patient",
        "label": "Break-the-glass: You were unconscious",
    }
    assert oldest["why"] == {"basis": "care_relation", "code": "appointment", "label": "You had an appointment"}
    assert oldest["access"] == "Printed"


async def test_patient_log_shows_accesses_only_not_denied_attempts_nor_other_patients(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    denied = access(1, action=actions.DECISION_DENY, outcome="deny", reason="no_care_relation", detail=None)
    await record(app, [access(0), denied, access(2, patient=OTHER_PATIENT)])
    assert [item["at"] for item in (await log(client, token))["items"]] == ["2026-11-26T09:00:00Z"]


async def test_patient_log_never_shows_internal_ids_or_free_text(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    typed = "Patient rang me at home and asked"
    events = [
        access(0, detail={"care_relation_kind": "admission", "clinician_note": typed}, workstation="ws-secret-17"),
        access(1, break_glass_grant_id="bg-secret-grant", break_glass_reason_code=typed, client_system="emr-x"),
        access(2, roles=("legevakt.lege", "role-without-a-row"), reason="permit_unit", detail=None),
    ]
    await record(app, events)
    body = await log(client, token, limit=2)
    later = await log(client, token, cursor=body["next_cursor"])
    cursor = base64.urlsafe_b64decode(body["next_cursor"] + "==").decode()
    shown = json.dumps([body, later]) + cursor
    internal = [DOCTOR, "testby", "9144889", "bg-secret-grant", "legevakt.lege", "role-without", "permit_unit"]
    internal += [str(e.id) for e in events] + [typed, "ws-secret", "emr-x", "clinician_note", "note-0", "note-1"]
    for value in internal:
        assert value not in shown, value
    glass = body["items"][1]["why"]
    assert glass == {"basis": "break_glass", "code": None, "label": "Break-the-glass: Emergency access"}
    assert body["items"][0]["why"]["basis"] == "role"


async def test_patient_log_pages_newest_first_without_gaps_or_repeats(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    # Ties: several accesses at one moment, told apart (ids are not shown) by what was done.
    kinds = {"read": "Read", "print": "Printed", "export": "Exported", "sign": "Signed"}
    events = [access(n % 3, data_action=list(kinds)[n // 3]) for n in range(10)]
    await record(app, events)
    seen: list[tuple[str, str]] = []
    body = await log(client, token, limit=4)
    pages = 1
    while True:
        seen += [(item["at"], item["access"]) for item in body["items"]]
        if body["next_cursor"] is None:
            break
        body = await log(client, token, limit=4, cursor=body["next_cursor"])
        pages += 1
    assert pages == 3
    assert [at for at, _ in seen] == sorted((at for at, _ in seen), reverse=True)
    expected = {(e.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"), kinds[e.data_action or ""]) for e in events}
    assert len(seen) == len(set(seen)) == 10 and set(seen) == expected


@pytest.mark.parametrize(
    "claims", [{"patient": OTHER_PATIENT}, {}, {"patient": [PATIENT]}], ids=["other", "none", "list"]
)
async def test_patient_token_for_another_patient_is_refused(
    client: httpx.AsyncClient, token: TokenFactory, claims: dict[str, Any]
) -> None:
    headers = bearer(token("patient-log:read", claims=claims))
    response = await client.get(f"/v1/audit/patients/{PATIENT}/access-log", headers=headers)
    assert response.status_code == 403 and response.json()["field"] == "patient"


async def test_patient_log_needs_the_patient_log_scope(client: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = bearer(token("audit:read", claims={"patient": PATIENT, "organisations": ["*"]}))
    response = await client.get(f"/v1/audit/patients/{PATIENT}/access-log", headers=headers)
    assert response.status_code == 403 and response.json()["field"] == "scope"


async def test_a_permit_by_care_relation_from_the_evaluation_api_appears_in_the_patient_log(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    headers = bearer(token("authz:evaluate", "context:write"))
    relation = {"patient": PATIENT, "user": DOCTOR, "kind": "referral", "valid_from": "2026-01-01T00:00:00Z"}
    assert (await client.put("/v1/care-relations/cr-log", json=relation, headers=headers)).status_code == 201
    answer = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
    assert answer["decision"] is True
    items = (await log(client, token))["items"]
    assert len(items) == 1
    assert items[0]["why"] == {"basis": "care_relation", "code": "referral", "label": "You were referred"}
    assert (items[0]["who"], items[0]["organisation"]) == ("Kari Nordmann", "Testby kommune")


async def test_bad_cursor_or_limit_is_400_naming_the_field(client: httpx.AsyncClient, token: TokenFactory) -> None:
    url = f"/v1/audit/patients/{PATIENT}/access-log"
    forged = [["2026-11-26T09:00:00Z", 5], [5, "abc"], ["0001-01-01T00:00:00+01:00", "abc"], {"at": "x"}]
    cursors = [base64.urlsafe_b64encode(json.dumps(position).encode()).decode() for position in forged]
    cursors.append(base64.urlsafe_b64encode(b"[" * 3000).decode())  # deeper than the JSON parser recurses
    cases = [({"cursor": "zz"}, "cursor"), ({"limit": "0"}, "limit"), *(({"cursor": c}, "cursor") for c in cursors)]
    for params, field in cases:
        response = await client.get(url, params=params, headers=patient_headers(token))
        assert response.status_code == 400 and response.json()["field"] == field
