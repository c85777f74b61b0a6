"""Privacy officers export the audit log as CSV or JSON Lines, streamed in keyset batches, and the export is audited."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions, queries
from accessctl.audit.models import AuditEventRow
from tests.api.conftest import TokenFactory
from tests.api.test_audit_queries import officer, record
from tests.integration.audit.helpers import decision

WINDOW = {"from": "2026-11-26T00:00:00Z", "to": "2026-11-28T00:00:00Z"}


async def test_export_of_more_rows_than_one_batch_is_complete_and_ordered(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [decision(n % 700) for n in range(2100)]  # three rows per minute: ties across batch edges
    await record(app, events)
    fetched: list[int] = []
    real_page = queries.events_page

    async def counting_page(*args: Any, **kwargs: Any) -> Any:
        page = await real_page(*args, **kwargs)
        fetched.append(len(page))
        return page

    monkeypatch.setattr(queries, "events_page", counting_page)
    # Only decisions: the export records itself (audit.exported, now), which may fall inside the window.
    response = await client.get(
        "/v1/audit/events/export",
        params={"format": "json", "action": "decision.permit", **WINDOW},
        headers=officer(token, "*"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == [str(e.id) for e in sorted(events, key=lambda e: (e.occurred_at, e.id))]
    assert fetched == [1000, 1000, 100]  # paged through the database, never fetched whole


async def test_csv_export_has_a_header_and_one_row_per_event_of_the_token_organisations(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    mine = decision(0, organisation_id="org-a", detail={"care_relation_kind": "admission"})
    await record(app, [mine, decision(1, organisation_id="org-b")])
    response = await client.get("/v1/audit/events/export", params={"format": "csv"}, headers=officer(token, "org-a"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["id"] for row in rows] == [str(mine.id)]
    assert rows[0]["roles"] == "nurse;ward-clerk"
    assert json.loads(rows[0]["detail"]) == {"care_relation_kind": "admission"}
    assert rows[0]["occurred_at"] == "2026-11-26T09:00:00+00:00"


async def test_every_export_is_itself_recorded_in_the_audit_log(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory, session: AsyncSession
) -> None:
    await record(app, [decision(0)])
    params = {"format": "json", "patient": "01817012345", **WINDOW}
    response = await client.get("/v1/audit/events/export", params=params, headers=officer(token, "org-hospital"))
    assert response.status_code == 200
    rows = (await session.scalars(select(AuditEventRow).where(AuditEventRow.action == actions.AUDIT_EXPORTED))).all()
    assert len(rows) == 1
    assert (rows[0].user_id, rows[0].patient) == ("officer", "01817012345")
    assert rows[0].detail is not None
    assert rows[0].detail["format"] == "json"
    assert rows[0].detail["filter"]["organisations"] == ["org-hospital"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"format": "csv", "from": "2026-11-26"}, "from"),
        ({"format": "csv", "from": "0001-01-01T00:00:00+01:00"}, "from"),  # no moment in UTC
        ({"format": "json", "patient": ""}, "patient"),
    ],
)
async def test_export_with_bad_parameters_is_400_naming_the_field_and_records_nothing(
    client: httpx.AsyncClient, token: TokenFactory, session: AsyncSession, params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/audit/events/export", params=params, headers=officer(token, "*"))
    assert response.status_code == 400 and response.json()["field"] == field
    exported = await session.scalars(select(AuditEventRow).where(AuditEventRow.action == actions.AUDIT_EXPORTED))
    assert exported.all() == []


async def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted_json_keeps_them(
    client: httpx.AsyncClient, app: Litestar, token: TokenFactory
) -> None:
    formulas: dict[str, Any] = {
        "workstation": '=HYPERLINK("http://x")',
        "client_system": "+cmd|' /C calc'!A0",
        "resource_id": "@SUM(1)",
    }
    event = decision(0, organisation_id="org-a", **formulas)
    await record(app, [event])
    headers = officer(token, "org-a")
    response = await client.get("/v1/audit/events/export", params={"format": "csv"}, headers=headers)
    row = next(csv.DictReader(io.StringIO(response.text)))
    assert {name: row[name] for name in formulas} == {name: "'" + value for name, value in formulas.items()}
    assert row["user_id"] == event.user_id  # plain text is left as it is
    response = await client.get("/v1/audit/events/export", params={"format": "json"}, headers=headers)
    line = json.loads(response.text.splitlines()[0])
    assert {name: line[name] for name in formulas} == formulas
