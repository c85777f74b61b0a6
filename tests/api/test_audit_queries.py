"""Privacy officers query the audit log by subject, kind and time, see only their organisations, page by keyset."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent
from tests.api.conftest import TokenFactory, bearer
from tests.integration.audit.helpers import T0, decision

OTHER_PATIENT = "02828929103"
EVENT_ID = "0192f0c1-0000-7000-8000-000000000001"


def _raw_cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def cursor_of(position: Any) -> str:
    """A cursor as this service spells them, around any JSON: a caller can send back whatever it likes."""
    return _raw_cursor(json.dumps(position).encode())


async def record(app: Litestar, events: Sequence[AuditEvent]) -> None:
    await app.state.audit_writer.record_many(events)


def officer(token: TokenFactory, *organisations: str) -> dict[str, str]:
    return bearer(token("audit:read", sub="officer", claims={"organisations": list(organisations)}))


async def ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    """Every id the query answers, following next_cursor to the end."""
    found: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/audit/events", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def test_officer_sees_only_the_organisations_in_the_token(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    events = [decision(n, organisation_id=org) for n, org in enumerate(["org-a", "org-b", "org-c", "org-a"])]
    await record(app, events)
    seen = await ids(client, officer(token, "org-a", "org-b"))
    assert seen == [str(events[n].id) for n in (0, 1, 3)]
    assert await ids(client, officer(token, "org-c"), patient=events[0].patient) == [str(events[2].id)]
    refused = await client.get("/v1/audit/events", params={"organisation": "org-c"}, headers=officer(token, "org-a"))
    assert refused.status_code == 403 and refused.json()["field"] == "organisation"


async def test_regional_officer_sees_every_organisation_and_events_without_one(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    published = AuditEvent(action=actions.POLICY_PUBLISHED, occurred_at=T0 + timedelta(minutes=9))  # no organisation
    events = [decision(0, organisation_id="org-a"), decision(1, organisation_id="org-z"), published]
    await record(app, events)
    window = {"from": "2026-11-26T00:00:00Z", "to": "2026-11-27T00:00:00Z"}
    assert await ids(client, officer(token, "*"), **window) == [str(e.id) for e in events]
    assert await ids(client, officer(token, "org-a", "org-z"), **window) == [str(e.id) for e in events[:2]]


@pytest.mark.parametrize("claims", [{}, {"organisations": "org-a"}, {"organisations": [1]}])
async def test_officer_token_without_an_organisations_list_sees_nothing(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory, claims: dict[str, Any]
) -> None:
    await record(app, [decision(0)])
    response = await client.get("/v1/audit/events", headers=bearer(token("audit:read", claims=claims)))
    assert response.status_code == 403
    assert response.json()["field"] == "organisations"
    assert "organisations" in response.json()["message"]


async def test_audit_query_needs_the_audit_read_scope(client: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = bearer(token("directory:read", claims={"organisations": ["*"]}))
    response = await client.get("/v1/audit/events", headers=headers)
    assert response.status_code == 403 and response.json()["field"] == "scope"


async def test_pages_follow_occurred_at_then_id_without_gaps_or_repeats(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    # Five events share each moment, so the id must break ties across page boundaries.
    events = [decision(n % 4) for n in range(20)]
    await record(app, list(reversed(events)))
    expected = [str(e.id) for e in sorted(events, key=lambda e: (e.occurred_at, e.id))]
    assert await ids(client, officer(token, "*"), organisation="org-hospital", limit=3) == expected


async def test_filters_narrow_by_subject_kind_outcome_break_glass_resource_and_time(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    plain = decision(0)
    other_patient = decision(1, patient=OTHER_PATIENT, user_id="nurse-9", unit_id="unit-er")
    denied = decision(2, action=actions.DECISION_DENY, outcome="deny", resource_type="journal.medication")
    glass = decision(3, break_glass_grant_id="grant-1", break_glass_reason_code="emergency")
    await record(app, [plain, other_patient, denied, glass])
    headers = officer(token, "org-hospital")
    cases: list[tuple[dict[str, Any], list[AuditEvent]]] = [
        ({"patient": OTHER_PATIENT}, [other_patient]),
        ({"user": "nurse-9"}, [other_patient]),
        ({"unit": "unit-er"}, [other_patient]),
        ({"action": "decision.deny"}, [denied]),
        ({"outcome": "permit"}, [plain, other_patient, glass]),
        ({"break_glass": "true"}, [glass]),
        ({"break_glass": "false"}, [plain, other_patient, denied]),
        ({"resource_type": "journal.medication"}, [denied]),
        ({"from": "2026-11-26T09:01:00Z", "to": "2026-11-26T09:03:00Z"}, [other_patient, denied]),
        ({"from": "2026-11-26T10:02:00+01:00"}, [denied, glass]),
        ({"outcome": "permit", "patient": plain.patient, "break_glass": "false"}, [plain]),
    ]
    for params, wanted in cases:
        assert await ids(client, headers, **params) == [str(e.id) for e in wanted], params


async def test_an_event_is_returned_with_every_field_the_officer_needs(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    glass = decision(3, break_glass_grant_id="grant-1", break_glass_reason_code="emergency")
    await record(app, [glass])
    item = (await client.get("/v1/audit/events", headers=officer(token, "org-hospital"))).json()["items"][0]
    assert item["id"] == item["decision_id"] == str(glass.id)
    assert item["occurred_at"] == "2026-11-26T09:03:00Z"
    assert (item["user_id"], item["hpr_number"], item["roles"]) == ("user-3", "1234567", ["nurse", "ward-clerk"])
    assert (item["break_glass_grant_id"], item["break_glass_reason_code"]) == ("grant-1", "emergency")
    assert (item["workstation"], item["policy_version"], item["seq"]) == ("ws-17", "v3", 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-26T09:00:00"}, "from"),  # no zone
        ({"to": "2026-13-01T00:00:00Z"}, "to"),
        ({"from": "2026-11-27T00:00:00Z", "to": "2026-11-26T00:00:00Z"}, "to"),
        ({"outcome": "maybe"}, "outcome"),
        ({"action": "decision.peek"}, "action"),
        ({"break_glass": "perhaps"}, "break_glass"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJ4IiwieSJd"}, "cursor"),  # ["x","y"]: decodes, but no position this service issued
        ({"cursor": cursor_of([["2026-11-26T09:00:00Z"], EVENT_ID])}, "cursor"),  # a list where the time goes
        ({"cursor": cursor_of([5, EVENT_ID])}, "cursor"),
        ({"cursor": cursor_of({"at": "2026-11-26T09:00:00Z"})}, "cursor"),
        ({"cursor": cursor_of(["2026-11-26T09:00:00Z", EVENT_ID, "extra"])}, "cursor"),
        ({"cursor": cursor_of(["0001-01-01T00:00:00+01:00", EVENT_ID])}, "cursor"),  # before year 1 in UTC
        ({"cursor": _raw_cursor(b"[" * 3000)}, "cursor"),  # nested deeper than the JSON parser recurses
        ({"from": "0001-01-01T00:00:00+01:00"}, "from"),
        ({"to": "9999-12-31T23:59:59-01:00"}, "to"),  # after year 9999 in UTC
        ({"patient": ""}, "patient"),
        ({"user": " "}, "user"),
        ({"unit": ""}, "unit"),
        ({"organisation": ""}, "organisation"),
        ({"resource_type": ""}, "resource_type"),
    ],
)
async def test_bad_filter_values_are_400_naming_the_field(
    client: httpx.AsyncClient, token: TokenFactory, params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/audit/events", params=params, headers=officer(token, "*"))
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
