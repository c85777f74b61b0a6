"""Break-the-glass refused (403 with the reason, and audited), and no grant when its audit record cannot be written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.models import AuditOutboxRow
from accessctl.audit.outbox import OutboxDrain
from accessctl.changes import log_change
from accessctl.context.models import PatientBlock
from accessctl.directory.models import Organisation, User
from tests.api.break_glass_world import audit_rows, break_glass, grants
from tests.api.conftest import TokenFactory, bearer
from tests.api.test_authzen import evaluation
from tests.api.test_decision_audit import FailingStore
from tests.api.world import DOCTOR, PATIENT, UNIT, add_world
from tests.factories import add_user

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: Any) -> None:
    await add_world(session)


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("authz:evaluate", "context:write"))


async def _refused(client: httpx.AsyncClient, headers: dict[str, str], code: str, **changes: Any) -> None:
    response = await break_glass(client, headers, **changes)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == code


async def _changed(app: Litestar, session: AsyncSession, kind: Any, key: str) -> None:
    """Commit a directory change as HR sync would, and let the app's engine catch up."""
    await log_change(session, kind, key)
    await session.commit()
    await app.state.decision_point.catch_up()


async def test_refused_when_no_role_of_the_user_in_the_unit_may_break_the_glass(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, app: Litestar
) -> None:
    await add_user(session, "sekretaer1", unit=UNIT, position="6801")
    await _changed(app, session, "user", "sekretaer1")
    await _refused(client, headers, "break_glass_not_allowed", user="sekretaer1")
    (refusal,) = await audit_rows(session, "break_glass.refused")
    assert (refusal.user_id, refusal.patient, refusal.outcome, refusal.reason) == (
        "sekretaer1",
        PATIENT,
        "deny",
        "break_glass_not_allowed",
    )
    assert await grants(session) == []


async def test_refused_in_a_unit_the_user_does_not_work_in(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await _refused(client, headers, "not_employed_in_unit", unit="testby")


async def test_refused_when_a_block_names_the_user_and_the_deny_offers_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    block = {"patient": PATIENT, "user": DOCTOR, "reason": "neighbour", "valid_from": "2026-01-01T00:00:00Z"}
    assert (await client.put("/v1/patient-blocks/b-1", json=block, headers=headers)).status_code == 201
    answer = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
    assert answer["context"]["reason"] == "blocked_for_user"
    assert "break_glass" not in answer["context"]
    await _refused(client, headers, "blocked_for_user")
    assert await session.get(PatientBlock, "b-1") is not None
    assert await grants(session) == []


async def test_refused_when_the_user_is_inactive(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, app: Litestar
) -> None:
    await session.execute(update(User).where(User.id == DOCTOR).values(status="inactive"))
    await _changed(app, session, "user", DOCTOR)
    await _refused(client, headers, "subject_inactive")


async def test_refused_when_the_organisation_is_not_live(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, app: Litestar
) -> None:
    await session.execute(update(Organisation).where(Organisation.id == "testby").values(agreement_signed=False))
    await _changed(app, session, "organisation", "testby")
    await _refused(client, headers, "organisation_not_live")


async def test_a_grant_is_never_without_its_audit_record_when_the_audit_store_fails(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, app: Litestar
) -> None:
    writer = app.state.audit_writer
    real = writer.engine
    writer.engine = FailingStore(real)
    response = await break_glass(client, headers)
    assert response.status_code == 503
    assert response.json()["code"] == "store_unavailable"
    writer.engine = real
    # The grant committed together with its record in the audit outbox; nothing chained it yet.
    [grant] = await grants(session)
    staged = await session.scalars(select(AuditOutboxRow.event))
    assert [(e["action"], e["break_glass_grant_id"]) for e in staged] == [("break_glass.granted", grant.id)]
    assert await audit_rows(session, "break_glass.granted") == []
    # Once the store is back, the drain chains it (no grace period here), and a retry is given the same grant.
    assert await OutboxDrain(writer.engine, writer, grace_s=0).run_once() == 1
    [granted] = await audit_rows(session, "break_glass.granted")
    assert granted.break_glass_grant_id == grant.id
    retry = await break_glass(client, headers)
    assert (retry.status_code, retry.json()["id"]) == (200, grant.id)


async def test_a_refusal_is_audited_before_it_is_answered(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    await _refused(client, headers, "not_employed_in_unit", unit="testby")
    [refused] = await audit_rows(session, "break_glass.refused")
    assert (refused.user_id, refused.reason) == (DOCTOR, "not_employed_in_unit")
    assert await session.scalar(select(func.count()).select_from(AuditOutboxRow)) == 0


async def test_an_unknown_grant_cannot_be_ended(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/v1/break-glass/no-such-grant/end", headers=headers)
    assert (response.status_code, response.json()["field"]) == (404, "id")


async def test_a_grant_id_with_a_nul_is_a_400_naming_the_path(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post("/v1/break-glass/a%00b/end", headers=headers)  # a 500 on PostgreSQL
    assert (response.status_code, response.json()["field"]) == (400, "path")  # refused at the app's edge
