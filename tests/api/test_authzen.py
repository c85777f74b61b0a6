"""AuthZEN 1.0 evaluation over HTTP: decisions with context, batches with semantics, and revocations that hold."""

from __future__ import annotations

import uuid
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
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("authz:evaluate", "context:write"))


def evaluation(patient: str = PATIENT, user: str = DOCTOR, **resource: Any) -> dict[str, Any]:
    return {
        "subject": {"type": "user", "id": user, "properties": {"unit": UNIT, "purpose_of_use": "TREAT"}},
        "action": {"name": "read"},
        "resource": {"type": "journal.note", "id": "note-1", "properties": {"patient": patient, **resource}},
        "context": {"client_system": "emr", "workstation": "ws-17"},
    }


async def _decide(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/access/v1/evaluation", json=body, headers=headers)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert isinstance(decision, dict)
    return decision


async def _relate(client: httpx.AsyncClient, headers: dict[str, str], relation_id: str = "cr-1") -> None:
    body = {"patient": PATIENT, "user": DOCTOR, "kind": "appointment", "valid_from": "2026-01-01T00:00:00Z"}
    assert (await client.put(f"/v1/care-relations/{relation_id}", json=body, headers=headers)).status_code == 201


async def test_deny_without_care_relation_offers_break_the_glass(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answer = await _decide(client, headers, evaluation())
    assert answer["decision"] is False
    context = answer["context"]
    assert context["reason"] == "no_care_relation"
    assert context["break_glass"]["available"] is True
    assert context["break_glass"]["reasons"]
    assert uuid.UUID(context["decision_id"])
    assert context["policy_version"].startswith("sha256:")


async def test_care_relation_permits_at_once_and_its_removal_denies_at_once(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert (await _decide(client, headers, evaluation()))["decision"] is False  # cached deny must not survive
    await _relate(client, headers)
    permitted = await _decide(client, headers, evaluation())
    assert permitted["decision"] is True
    assert permitted["context"]["reason"] == "permit_care_relation"
    assert permitted["context"]["roles"] == ["legevakt.lege"]
    assert (await client.delete("/v1/care-relations/cr-1", headers=headers)).status_code == 204
    revoked = await _decide(client, headers, evaluation())
    assert revoked["decision"] is False
    assert revoked["context"]["reason"] == "no_care_relation"


async def test_block_naming_the_user_beats_the_care_relation(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await _relate(client, headers)
    assert (await _decide(client, headers, evaluation()))["decision"] is True
    block = {"patient": PATIENT, "user": DOCTOR, "reason": "neighbour", "valid_from": "2026-01-01T00:00:00Z"}
    assert (await client.put("/v1/patient-blocks/b-1", json=block, headers=headers)).status_code == 201
    answer = await _decide(client, headers, evaluation())
    assert answer["decision"] is False
    assert answer["context"]["reason"] == "blocked_for_user"
    assert "break_glass" not in answer["context"]


async def test_unknown_subject_is_denied(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    answer = await _decide(client, headers, evaluation(user="nobody"))
    assert answer == {"decision": False, "context": answer["context"]}
    assert answer["context"]["reason"] == "unknown_subject"


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    body = evaluation()
    body["future_extension"] = {"x": 1}
    body["subject"]["nickname"] = "doc"
    assert (await _decide(client, headers, body))["context"]["reason"] == "no_care_relation"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("subject"), "subject"),
        (lambda b: b["subject"].pop("id"), "subject.id"),
        (lambda b: b["action"].pop("name"), "action.name"),
        (lambda b: b["resource"].pop("type"), "resource.type"),
        (lambda b: b["resource"]["properties"].update(patient="12345678901"), "resource.properties.patient"),
        (lambda b: b["resource"]["properties"].update(categories="secret"), "resource.properties.categories"),
        (lambda b: b["subject"]["properties"].update(unit=42), "subject.properties.unit"),
    ],
)
async def test_bad_request_is_400_naming_the_field(
    client: httpx.AsyncClient, headers: dict[str, str], mutate: Any, field: str
) -> None:
    body = evaluation()
    mutate(body)
    response = await client.post("/access/v1/evaluation", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


async def test_evaluation_needs_the_evaluate_scope(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await client.post("/access/v1/evaluation", json=evaluation(), headers=bearer(token("directory:read")))
    assert response.status_code == 403


def batch(semantic: str | None = None) -> dict[str, Any]:
    base = evaluation()
    items = [
        {"resource": {"type": "journal.note", "id": "a", "properties": {"patient": PATIENT}}},
        {"resource": {"type": "journal.note", "id": "b", "properties": {"patient": OTHER_PATIENT}}},
        {"resource": {"type": "journal.note", "id": "c", "properties": {"patient": PATIENT}}},
    ]
    body: dict[str, Any] = {"subject": base["subject"], "action": base["action"], "evaluations": items}
    if semantic:
        body["options"] = {"evaluations_semantic": semantic}
    return body


@pytest.mark.parametrize(
    ("semantic", "decisions"),
    [
        (None, [True, False, True]),
        ("execute_all", [True, False, True]),
        ("deny_on_first_deny", [True, False]),
        ("permit_on_first_permit", [True]),
    ],
)
async def test_evaluations_take_defaults_and_honour_the_semantic(
    client: httpx.AsyncClient, headers: dict[str, str], semantic: str | None, decisions: list[bool]
) -> None:
    await _relate(client, headers)
    response = await client.post("/access/v1/evaluations", json=batch(semantic), headers=headers)
    assert response.status_code == 200, response.text
    answers = response.json()["evaluations"]
    assert [a["decision"] for a in answers] == decisions
    assert len({a["context"]["decision_id"] for a in answers}) == len(answers)


async def test_evaluations_item_missing_a_part_without_default_is_400(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = batch()
    del body["action"]
    response = await client.post("/access/v1/evaluations", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["field"] == "evaluations[0].action"


async def test_evaluations_with_unknown_semantic_is_400(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/access/v1/evaluations", json=batch("most_votes"), headers=headers)
    assert response.status_code == 400
    assert response.json()["field"] == "options.evaluations_semantic"
