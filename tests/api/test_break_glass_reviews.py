"""The review queue: who sees which grants, who may review them, and reviews that run late."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.break_glass import OutboxNotification
from accessctl.db import utcnow
from tests.api.break_glass_world import add_past_grant, break_glass, officer
from tests.api.conftest import TokenFactory, bearer
from tests.api.world import DOCTOR, UNIT, add_world

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: Any) -> None:
    await add_world(session)


@pytest.fixture
async def grant_id(client: httpx.AsyncClient, token: TokenFactory) -> str:
    response = await break_glass(client, bearer(token("authz:evaluate")))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _queue(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/break-glass/reviews", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert isinstance(items, list)
    return items


async def _review(
    client: httpx.AsyncClient, headers: dict[str, str], grant_id: str, outcome: str = "justified"
) -> httpx.Response:
    body = {"outcome": outcome, "comment": "Checked against the admission note."}
    return await client.post(f"/v1/break-glass/{grant_id}/review", json=body, headers=headers)


@pytest.mark.parametrize(
    ("claims", "sees"),
    [
        ({"organisations": ["testby"]}, True),
        ({"organisations": ["*"]}, True),
        ({"organisations": ["otherby"]}, False),
        ({"units": ["testby"]}, True),  # a manager of the municipality sees the clinic below it
        ({"units": [UNIT]}, True),
        ({"units": ["otherby.legevakt"]}, False),
    ],
)
async def test_privacy_officers_see_their_organisations_and_managers_their_unit_subtrees(
    client: httpx.AsyncClient, token: TokenFactory, grant_id: str, claims: dict[str, Any], sees: bool
) -> None:
    headers = officer(token, "reviewer", **claims)
    assert [i["id"] for i in await _queue(client, headers)] == ([grant_id] if sees else [])
    answer = await _review(client, headers, grant_id)
    assert answer.status_code == (200 if sees else 404), answer.text


async def test_a_review_token_without_organisations_or_units_is_refused(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    response = await client.get("/v1/break-glass/reviews", headers=bearer(token("btg:review")))
    assert response.status_code == 403
    assert response.json()["field"] == "organisations"


@pytest.mark.parametrize("spelling", [DOCTOR, DOCTOR.upper(), f" {DOCTOR} "])  # however the IdP spells the sub
async def test_the_user_who_broke_the_glass_cannot_review_it(
    client: httpx.AsyncClient, token: TokenFactory, grant_id: str, spelling: str
) -> None:
    response = await _review(client, officer(token, spelling), grant_id)
    assert (response.status_code, response.json()["code"]) == (403, "self_review")
    assert (await _queue(client, officer(token)))[0]["status"] == "pending"


async def test_a_follow_up_may_be_settled_later_but_a_verdict_stands(
    client: httpx.AsyncClient, token: TokenFactory, grant_id: str
) -> None:
    assert (await _review(client, officer(token), grant_id, "follow_up")).json()["status"] == "follow_up"
    assert (await _review(client, officer(token), grant_id, "unjustified")).json()["status"] == "unjustified"
    again = await _review(client, officer(token), grant_id, "justified")
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    bad = await _review(client, officer(token), grant_id, "fine")
    assert (bad.status_code, bad.json()["field"]) == (400, "outcome")


async def test_a_nul_in_the_comment_the_grant_id_or_a_filter_is_a_400_naming_it_and_changes_nothing(
    client: httpx.AsyncClient, token: TokenFactory, grant_id: str
) -> None:
    body = {"outcome": "justified", "comment": "Checked\x00"}
    response = await client.post(f"/v1/break-glass/{grant_id}/review", json=body, headers=officer(token))
    assert (response.status_code, response.json()["field"]) == (400, "comment")
    response = await client.post("/v1/break-glass/a%00b/review", json={**body, "comment": "ok"}, headers=officer(token))
    assert (response.status_code, response.json()["field"]) == (400, "path")  # refused at the app's edge
    response = await client.get("/v1/break-glass/reviews", params={"user": "a\x00b"}, headers=officer(token))
    assert (response.status_code, response.json()["field"]) == (400, "query")  # refused at the app's edge
    (item,) = await _queue(client, officer(token))
    assert (item["status"], item["comment"]) == ("pending", None)


async def test_reviews_older_than_the_limit_are_flagged_and_notified_once(
    client: httpx.AsyncClient, token: TokenFactory, session: AsyncSession, app: Litestar, grant_id: str
) -> None:
    await add_past_grant(session, "old-grant", utcnow() - timedelta(days=8))
    late = await _queue(client, officer(token), overdue="true")
    assert [(i["id"], i["overdue"]) for i in late] == [("old-grant", True)]
    assert [i["id"] for i in await _queue(client, officer(token), overdue="false")] == [grant_id]

    relay = app.state.notification_relay
    assert await relay.queue_overdue(utcnow()) == 1
    assert await relay.queue_overdue(utcnow()) == 0
    kinds = await session.scalars(
        select(OutboxNotification.kind).where(OutboxNotification.payload["grant_id"].as_string() == "old-grant")
    )
    assert list(kinds) == ["break_glass.review_overdue"]


async def test_the_queue_filters_by_user_and_time_and_pages_oldest_first(
    client: httpx.AsyncClient, token: TokenFactory, session: AsyncSession, grant_id: str
) -> None:
    now = utcnow()
    await add_past_grant(session, "two-days", now - timedelta(days=2))
    await add_past_grant(session, "one-day", now - timedelta(days=1))
    headers = officer(token)
    first = await client.get("/v1/break-glass/reviews", params={"limit": 2}, headers=headers)
    page = first.json()
    assert [i["id"] for i in page["items"]] == ["two-days", "one-day"]
    rest = await _queue(client, headers, limit=2, cursor=page["next_cursor"])
    assert [i["id"] for i in rest] == [grant_id]
    since = (now - timedelta(hours=36)).isoformat()
    assert [i["id"] for i in await _queue(client, headers, **{"from": since})] == ["one-day", grant_id]
    assert await _queue(client, headers, user="someone-else") == []
    assert len(await _queue(client, headers, user=DOCTOR, unit=UNIT, organisation="testby")) == 3
