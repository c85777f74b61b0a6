"""The relay and the review queue on a database of their own, as deployed: other connections commit while a round
runs, and two replicas work at once. Each expiry is audited once, each overdue notice queued once, each notification
sent once, and a verdict stands against a second reviewer's.

On SQLite a round that read in a plain transaction could not write once the audit writer had committed ("database
is locked"): the expiry's record stayed, unmarked, and every round wrote another.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.audit import AuditEvent, AuditWriter, actions
from accessctl.audit.models import AuditEventRow
from accessctl.audit.sink import AuditOutbox
from accessctl.break_glass import (
    AlreadyReviewed,
    BreakGlassGrant,
    BreakGlassReview,
    Notification,
    NotificationRelay,
    ReviewerScope,
    ReviewQueue,
)
from accessctl.break_glass.outbox import GRANT_MADE, enqueue, grant_summary
from accessctl.db import begin_writing, make_engine, utcnow
from accessctl.migrate import PROJECT_ROOT
from accessctl.settings import Secret, Settings
from tests.api.break_glass_world import past_grant
from tests.api.world import DOCTOR, PATIENT, add_world
from tests.conftest import _server_url
from tests.databases import fresh_database


@pytest.fixture
def own_url(tmp_path: Path) -> Iterator[str]:
    """A migrated database of this run's kind that only this test uses (not the shared rolled-back connection)."""
    with fresh_database(_server_url(), tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        yield url


@dataclass
class Replica:
    """One server process's share: its engine, sessions and audit writer."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer: AuditWriter


@pytest.fixture
async def replicas(own_url: str, tmp_path: Path) -> AsyncIterator[tuple[Replica, Replica]]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=Secret(own_url),
        dev_key_path=tmp_path / "key.pem",
        change_poll_seconds=0,
        policies_dir=PROJECT_ROOT / "policies",
    )
    made = []
    for _ in range(2):
        engine = make_engine(own_url)
        writer = AuditWriter.from_settings(engine, settings)
        await writer.start()
        made.append(Replica(engine, async_sessionmaker(engine, expire_on_commit=False), writer))
    async with made[0].sessions() as session:
        await add_world(session)
    try:
        yield made[0], made[1]
    finally:
        for replica in made:
            await replica.writer.close()
            await replica.engine.dispose()


def _decision(now: datetime) -> AuditEvent:
    return AuditEvent(action=actions.DECISION_PERMIT, occurred_at=now, user_id=DOCTOR, patient=PATIENT)


class DecisionsMeanwhile:
    """Records each notification; while "sending" it, another connection commits a decision's audit record."""

    def __init__(self, writer: AuditWriter, pause_s: float = 0.0) -> None:
        self.writer = writer
        self.pause_s = pause_s
        self.delivered: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        await self.writer.record(_decision(utcnow()))
        await asyncio.sleep(self.pause_s)
        self.delivered.append(notification)


async def _add_grants(sessions: async_sessionmaker[AsyncSession], count: int, granted_at: datetime) -> list[str]:
    ids = [f"ran-out-{i}" for i in range(count)]
    async with sessions() as session:
        session.add_all(past_grant(grant_id, granted_at) for grant_id in ids)
        await session.flush()
        for grant_id in ids:
            grant = await session.get(BreakGlassGrant, grant_id)
            assert grant is not None
            session.add(BreakGlassReview(grant_id=grant_id, status="pending"))
            enqueue(session, GRANT_MADE, grant_summary(grant), granted_at)
        await session.commit()
    return ids


async def _ended_records(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    a = AuditEventRow
    async with sessions() as session:
        rows = await session.execute(
            select(a.break_glass_grant_id, func.count())
            .where(a.action == actions.BREAK_GLASS_ENDED)
            .group_by(a.break_glass_grant_id)
        )
        return {str(grant_id): int(n) for grant_id, n in rows}


async def _unrecorded(sessions: async_sessionmaker[AsyncSession]) -> int:
    g = BreakGlassGrant
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).where(g.end_recorded_at.is_(None))) or 0)


async def test_an_expiry_is_audited_once_though_the_audit_writer_commits_during_the_round(
    replicas: tuple[Replica, Replica],
) -> None:
    one, _ = replicas
    ids = await _add_grants(one.sessions, 3, utcnow() - timedelta(hours=2))
    relay = NotificationRelay(one.sessions, DecisionsMeanwhile(one.writer), one.writer, overdue_days=7)
    counts = [await relay.record_expiries(utcnow()) for _ in range(3)]
    assert counts == [3, 0, 0]
    assert await _ended_records(one.sessions) == dict.fromkeys(ids, 1)
    assert await _unrecorded(one.sessions) == 0


async def test_a_notification_is_marked_sent_once_though_decisions_commit_while_it_is_sent(
    replicas: tuple[Replica, Replica],
) -> None:
    one, _ = replicas
    await _add_grants(one.sessions, 2, utcnow() - timedelta(minutes=5))
    sender = DecisionsMeanwhile(one.writer)
    relay = NotificationRelay(one.sessions, sender, one.writer, overdue_days=7)
    sent = [await relay.deliver(utcnow()) for _ in range(3)]
    assert sent == [2, 0, 0]
    assert sorted(n.payload["grant_id"] for n in sender.delivered) == ["ran-out-0", "ran-out-1"]


async def test_two_replicas_audit_each_expiry_queue_each_notice_and_send_each_notification_once(
    replicas: tuple[Replica, Replica],
) -> None:
    ids = await _add_grants(replicas[0].sessions, 8, utcnow() - timedelta(days=8))
    senders = [DecisionsMeanwhile(replica.writer, pause_s=0.01) for replica in replicas]
    relays = [
        NotificationRelay(replica.sessions, sender, replica.writer, overdue_days=7, batch=5)
        for replica, sender in zip(replicas, senders, strict=True)
    ]
    for _ in range(4):
        await asyncio.gather(*(relay.run_once() for relay in relays))
    assert await _ended_records(replicas[0].sessions) == dict.fromkeys(ids, 1)
    delivered = [n for sender in senders for n in sender.delivered]
    kinds = sorted((n.kind, n.payload["grant_id"]) for n in delivered)
    # Each grant's "granted" notice and its one "review overdue" notice, each sent by one replica only.
    assert kinds == sorted((kind, i) for i in ids for kind in ("break_glass.granted", "break_glass.review_overdue"))
    assert len({n.event_id for n in delivered}) == len(delivered)


async def _verdict(session: AsyncSession, grant_id: str, outcome: str, reviewer: str) -> None:
    """A reviewer's POST, as the route does it: a writer's transaction, the review, then the commit."""
    await begin_writing(session)
    queue = ReviewQueue(session, audit=AuditOutbox(), overdue_days=7)
    comment = f"{reviewer} checked the admission note"
    await queue.review(
        grant_id, outcome, comment, reviewer=reviewer, scope=ReviewerScope(organisations=None), now=utcnow()
    )
    await session.commit()


async def test_two_reviewers_at_once_the_second_verdict_is_refused_and_changes_nothing(
    replicas: tuple[Replica, Replica],
) -> None:
    one, two = replicas
    (grant_id,) = await _add_grants(one.sessions, 1, utcnow() - timedelta(hours=1))
    async with one.sessions() as first, two.sessions() as second:
        await begin_writing(first)
        queue = ReviewQueue(first, audit=AuditOutbox(), overdue_days=7)
        scope = ReviewerScope(organisations=None)
        await queue.review(grant_id, "justified", "po1 checked the note", reviewer="po1", scope=scope, now=utcnow())
        late = asyncio.create_task(_verdict(second, grant_id, "unjustified", "po2"))
        await asyncio.sleep(0.3)  # the second reviewer asks while the first verdict is not yet committed
        await first.commit()
        with pytest.raises(AlreadyReviewed):
            await late
    async with one.sessions() as session:
        review = await session.get(BreakGlassReview, grant_id)
    assert review is not None
    assert (review.status, review.reviewer, review.comment) == ("justified", "po1", "po1 checked the note")
