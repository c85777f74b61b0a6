"""Break the glass end to end over HTTP: offered on a deny, granted, permits, ends, reviewed, counted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.break_glass_world import REASON_TEXT, audit_rows, break_glass, grants, officer
from tests.api.conftest import TokenFactory, bearer
from tests.api.test_authzen import evaluation
from tests.api.world import DOCTOR, PATIENT, UNIT, add_world

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: Any) -> None:
    await add_world(session)


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("authz:evaluate", "context:write"))


async def _decide(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert isinstance(decision, dict)
    return decision


async def test_deny_offers_the_configured_reasons_then_a_grant_permits_and_ending_it_denies_again(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    denied = await _decide(client, headers)
    offer = denied["context"]["break_glass"]
    assert offer == {
        "available": True,
        "reasons": ["emergency", "unconscious_patient", "patient_consent", "other"],
        "max_minutes": 240,
    }

    response = await break_glass(client, headers)
    assert response.status_code == 201, response.text
    grant = response.json()
    assert (grant["status"], grant["role"], grant["organisation"]) == ("active", "legevakt.lege", "testby")
    assert grant["purpose_of_use"] == "ETREAT"
    granted_at, expires_at = datetime.fromisoformat(grant["granted_at"]), datetime.fromisoformat(grant["expires_at"])
    assert expires_at - granted_at == timedelta(minutes=60)

    (granted,) = await audit_rows(session, "break_glass.granted", grant["id"])
    assert (granted.user_id, granted.unit_id, granted.patient, granted.roles) == (
        DOCTOR,
        UNIT,
        PATIENT,
        ["legevakt.lege"],
    )
    assert (granted.break_glass_reason_code, granted.purpose_of_use) == ("unconscious_patient", "ETREAT")
    assert granted.detail is not None and granted.detail["reason_text"] == REASON_TEXT
    assert (granted.client_system, granted.workstation) == ("emr", "ws-17")

    permitted = await _decide(client, headers)
    assert permitted["decision"] is True
    assert permitted["context"]["reason"] == "permit_break_glass"
    assert permitted["context"]["break_glass_grant"] == grant["id"]
    (access,) = await audit_rows(session, "decision.permit", grant["id"])
    assert access.break_glass_reason_code == "unconscious_patient"
    assert str(access.id) == permitted["context"]["decision_id"]

    ended = await client.post(f"/v1/break-glass/{grant['id']}/end", headers=headers)
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    assert (await _decide(client, headers))["decision"] is False
    (end,) = await audit_rows(session, "break_glass.ended", grant["id"])
    assert end.reason == "ended_early"


async def test_a_second_request_while_a_grant_is_active_returns_that_grant(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    first = await break_glass(client, headers)
    second = await break_glass(client, headers, reason_code="emergency", reason_text="Asked again by the nurse")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert len(await audit_rows(session, "break_glass.granted")) == 1


async def test_duration_is_capped_at_the_role_documents_maximum(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    grant = (await break_glass(client, headers, duration_minutes=600)).json()
    assert grant["duration_minutes"] == 240
    span = datetime.fromisoformat(grant["expires_at"]) - datetime.fromisoformat(grant["granted_at"])
    assert span == timedelta(hours=4)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason_code": "curiosity"}, "reason_code"),
        ({"reason_text": "  urgent  "}, "reason_text"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"patient": "12345678901"}, "patient"),
        # PostgreSQL's text holds no NUL: it answered 500 there, and stored the text on SQLite.
        ({"reason_text": REASON_TEXT + "\x00"}, "reason_text"),
        ({"user": "a\x00b"}, "user"),
        ({"unit": "a\x00b"}, "unit"),
        ({"workstation": "ws\x00"}, "workstation"),
        # Longer than the audit record's field: it named that (user_id, unit_id), not the request's.
        ({"user": "u" * 65}, "user"),
        ({"unit": "u" * 65}, "unit"),
        ({"client_system": "c" * 129}, "client_system"),
    ],
)
async def test_a_bad_request_is_a_400_naming_the_field_and_grants_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, changes: dict[str, Any], field: str
) -> None:
    response = await break_glass(client, headers, **changes)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert await grants(session) == []
    assert await audit_rows(session, "break_glass.granted") == []
    assert await audit_rows(session, "break_glass.refused") == []


async def test_only_authz_evaluate_callers_may_break_the_glass(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await break_glass(client, officer(token))
    assert response.status_code == 403
    assert response.json()["field"] == "scope"


async def test_review_queue_then_review_then_statistics(
    client: httpx.AsyncClient, headers: dict[str, str], token: TokenFactory, session: AsyncSession
) -> None:
    await _decide(client, headers)  # an ordinary (denied) evaluation
    grant = (await break_glass(client, headers)).json()
    await _decide(client, headers)
    await _decide(client, headers)  # two accesses under the grant

    queue = await client.get("/v1/break-glass/reviews", params={"status": "pending"}, headers=officer(token))
    assert queue.status_code == 200, queue.text
    (item,) = queue.json()["items"]
    assert (item["id"], item["status"], item["overdue"], item["accesses"]) == (grant["id"], "pending", False, 2)
    assert item["reason_text"] == REASON_TEXT

    reviewed = await client.post(
        f"/v1/break-glass/{grant['id']}/review",
        json={"outcome": "justified", "comment": "Unconscious on arrival; documented in the note."},
        headers=officer(token),
    )
    assert reviewed.status_code == 200, reviewed.text
    assert (reviewed.json()["status"], reviewed.json()["reviewer"]) == ("justified", "po1")
    (audited,) = await audit_rows(session, "break_glass.reviewed", grant["id"])
    assert (audited.user_id, audited.reason) == ("po1", "justified")
    pending = await client.get("/v1/break-glass/reviews", params={"status": "pending"}, headers=officer(token))
    assert pending.json()["items"] == []

    stats = await client.get("/v1/break-glass/stats", params={"group_by": "unit"}, headers=officer(token))
    assert stats.status_code == 200, stats.text
    (group,) = stats.json()["groups"]
    assert group["group"] == UNIT
    assert (group["grants"], group["reviewed"], group["share_reviewed"], group["unjustified"]) == (1, 1, 1.0, 0)
    assert (group["break_glass_accesses"], group["patient_accesses"], group["share_of_accesses"]) == (2, 2, 1.0)
    for group_by, key in (("role", "legevakt.lege"), ("user", DOCTOR), ("reason", "unconscious_patient")):
        answer = await client.get("/v1/break-glass/stats", params={"group_by": group_by}, headers=officer(token))
        assert [g["group"] for g in answer.json()["groups"]] == [key], group_by
        assert answer.json()["groups"][0]["break_glass_accesses"] == 2
