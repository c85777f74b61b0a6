"""Notifications leave through the outbox: retried with backoff, never lost when the sender dies; expiries audited."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.break_glass import Notification, NotificationRelay, OutboxNotification, WebhookSender
from accessctl.db import Database, utcnow
from tests.api.break_glass_world import REASON_TEXT, add_past_grant, audit_rows, break_glass
from tests.api.conftest import TokenFactory, bearer
from tests.api.world import PATIENT, add_world

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: Any) -> None:
    await add_world(session)


class RecordingSender:
    """Fails the first `failures` sends, then records each delivered notification."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.delivered: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("receiver down")
        self.delivered.append(notification)


class HangingSender:
    """Never finishes a send, like a receiver that stops answering before the process is killed."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def send(self, notification: Notification) -> None:
        self.entered.set()
        await asyncio.Event().wait()


def _relay(database: Database, app: Litestar, sender: Any, at: datetime | None = None) -> NotificationRelay:
    clock = (lambda: at) if at is not None else utcnow
    return NotificationRelay(
        database.sessions, sender, app.state.audit_writer, overdue_days=7, interval_s=0.05, clock=clock
    )


async def _outbox(session: AsyncSession) -> list[OutboxNotification]:
    query = select(OutboxNotification).order_by(OutboxNotification.id).execution_options(populate_existing=True)
    return list(await session.scalars(query))


@pytest.fixture
async def granted(client: httpx.AsyncClient, token: TokenFactory) -> dict[str, Any]:
    response = await break_glass(client, bearer(token("authz:evaluate")))
    assert response.status_code == 201, response.text
    grant = response.json()
    assert isinstance(grant, dict)
    return grant


async def test_a_grant_queues_one_notification_without_patient_or_free_text(
    session: AsyncSession, granted: dict[str, Any]
) -> None:
    (row,) = await _outbox(session)
    assert (row.kind, row.payload["grant_id"], row.sent_at) == ("break_glass.granted", granted["id"], None)
    text = json.dumps(row.payload)
    assert PATIENT not in text
    assert REASON_TEXT not in text


async def test_a_failed_send_is_kept_and_retried_after_backoff(
    session: AsyncSession, database: Database, app: Litestar, granted: dict[str, Any]
) -> None:
    now = utcnow()
    sender = RecordingSender(failures=1)
    assert await _relay(database, app, sender, now).deliver(now) == 0
    (row,) = await _outbox(session)
    assert (row.attempts, row.sent_at) == (1, None)
    assert row.last_error is not None and "receiver down" in row.last_error
    assert row.next_attempt_at > now
    assert await _relay(database, app, sender, now).deliver(now) == 0  # not due yet: no hammering
    later = row.next_attempt_at
    assert await _relay(database, app, sender, later).deliver(later) == 1
    assert [n.payload["grant_id"] for n in sender.delivered] == [granted["id"]]
    assert (await _outbox(session))[0].sent_at is not None
    assert await _relay(database, app, sender, later).deliver(later) == 0  # sent once, not again


async def test_nothing_is_lost_when_the_sender_is_killed_mid_send_and_a_new_one_starts(
    session: AsyncSession, database: Database, app: Litestar, granted: dict[str, Any]
) -> None:
    hanging = HangingSender()
    first = _relay(database, app, hanging)
    first.start()
    await asyncio.wait_for(hanging.entered.wait(), timeout=5)
    await first.close()  # the process dies with the send in flight
    (row,) = await _outbox(session)
    assert row.sent_at is None

    sender = RecordingSender()
    second = _relay(database, app, sender)
    second.start()
    try:
        for _ in range(100):
            if sender.delivered:
                break
            await asyncio.sleep(0.02)
    finally:
        await second.close()
    assert [n.event_id for n in sender.delivered] == [row.event_id]
    assert (await _outbox(session))[0].sent_at is not None


async def test_a_claim_left_by_a_killed_relay_lapses_and_the_notification_is_sent_then(
    session: AsyncSession, database: Database, app: Litestar, granted: dict[str, Any]
) -> None:
    now = utcnow()
    await _relay(database, app, RecordingSender(), now)._claim_due(now)  # killed between its claim and its send
    sender = RecordingSender()
    assert await _relay(database, app, sender, now).deliver(now) == 0  # claimed: another replica keeps off
    later = now + timedelta(seconds=60)
    assert await _relay(database, app, sender, later).deliver(later) == 1
    assert [n.payload["grant_id"] for n in sender.delivered] == [granted["id"]]


async def test_a_grant_that_ran_out_is_audited_as_ended_by_expiry(
    client: httpx.AsyncClient, session: AsyncSession, database: Database, app: Litestar
) -> None:
    await add_past_grant(session, "ran-out", utcnow() - timedelta(hours=2), minutes=30)
    relay = _relay(database, app, RecordingSender())
    assert await relay.record_expiries(utcnow()) == 1
    assert await relay.record_expiries(utcnow()) == 0
    (ended,) = await audit_rows(session, "break_glass.ended", "ran-out")
    assert ended.reason == "expired"


async def test_the_webhook_posts_json_with_an_idempotency_key_and_fails_on_an_error_status() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204 if len(seen) == 1 else 500)

    sender = WebhookSender("https://privacy.example/hook", transport=httpx.MockTransport(answer))
    notification = Notification(
        event_id=uuid.uuid4(), kind="break_glass.granted", payload={"grant_id": "g"}, created_at=utcnow()
    )
    try:
        await sender.send(notification)
        with pytest.raises(httpx.HTTPStatusError):
            await sender.send(notification)
    finally:
        await sender.close()
    body = json.loads(seen[0].content)
    assert (body["kind"], body["data"], body["event_id"]) == (
        "break_glass.granted",
        {"grant_id": "g"},
        str(notification.event_id),
    )
    assert seen[0].headers["Idempotency-Key"] == str(notification.event_id)
