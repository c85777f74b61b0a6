"""A decision about a patient is answered only after its audit record is committed; a failing store fails closed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from accessctl.audit.models import AuditEventRow
from accessctl.changes import CHANGES_READ_AT_ONCE
from accessctl.changes.models import EngineChange
from accessctl.db import Transactions
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


async def _audited(session: AsyncSession, decision_id: str) -> AuditEventRow | None:
    row: AuditEventRow | None = await session.scalar(
        select(AuditEventRow).where(AuditEventRow.id == uuid.UUID(decision_id))
    )
    return row


async def test_permit_and_deny_about_a_patient_are_both_recorded_with_who_what_and_why(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    denied = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
    row = await _audited(session, denied["context"]["decision_id"])
    assert row is not None
    assert (row.action, row.outcome, row.reason) == ("decision.deny", "deny", "no_care_relation")
    assert (row.user_id, row.unit_id, row.organisation_id, row.patient) == (DOCTOR, UNIT, "testby", PATIENT)
    assert (row.resource_type, row.resource_id, row.data_action) == ("journal.note", "note-1", "read")
    assert (row.client_system, row.workstation, row.purpose_of_use) == ("emr", "ws-17", "TREAT")
    assert row.policy_version == denied["context"]["policy_version"]

    relation = {"patient": PATIENT, "user": DOCTOR, "kind": "appointment", "valid_from": "2026-01-01T00:00:00Z"}
    await client.put("/v1/care-relations/cr-a", json=relation, headers=headers)
    permitted = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
    row = await _audited(session, permitted["context"]["decision_id"])
    assert row is not None
    assert (row.outcome, row.reason, list(row.roles)) == ("permit", "permit_care_relation", ["legevakt.lege"])


async def test_every_decision_of_a_batch_about_a_patient_is_recorded(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    base = evaluation()
    body = {"subject": base["subject"], "action": base["action"], "evaluations": [{"resource": base["resource"]}] * 3}
    answers = (await client.post("/access/v1/evaluations", json=body, headers=headers)).json()["evaluations"]
    for answer in answers:
        assert await _audited(session, answer["context"]["decision_id"]) is not None


async def _decision_rows(session: AsyncSession) -> int:
    return len((await session.scalars(select(AuditEventRow.id))).all())


@pytest.mark.parametrize(
    ("part", "value", "field"),
    [
        ("subject", {"type": "user", "id": "u" * 65, "properties": {"unit": UNIT}}, "subject.id"),
        ("subject", {"type": "user", "id": DOCTOR, "properties": {"unit": "x" * 65}}, "subject.properties.unit"),
        (
            "subject",
            {"type": "user", "id": DOCTOR, "properties": {"unit": UNIT, "purpose_of_use": "P" * 17}},
            "subject.properties.purpose_of_use",
        ),
        ("action", {"name": "a" * 17}, "action.name"),
        ("resource", {"type": "t" * 65, "id": "note-1", "properties": {"patient": PATIENT}}, "resource.type"),
        ("resource", {"type": "journal.note", "id": "n" * 129, "properties": {"patient": PATIENT}}, "resource.id"),
        ("subject", {"type": "user", "id": "u\x00", "properties": {"unit": UNIT}}, "subject.id"),  # no NUL in text
        ("resource", {"type": "journal.note", "id": "n\x00", "properties": {"patient": PATIENT}}, "resource.id"),
    ],
)
async def test_a_part_longer_than_its_audit_field_is_400_naming_it_and_the_batch_records_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, part: str, value: Any, field: str
) -> None:
    """On PostgreSQL such a row would fail the COPY, and with it every other decision sharing the group commit."""
    single = {**evaluation(), part: value}
    response = await client.post("/access/v1/evaluation", json=single, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    batch = {**evaluation(), "evaluations": [{}] * 10 + [{part: value}]}  # ten good ones, then the long one
    response = await client.post("/access/v1/evaluations", json=batch, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == f"evaluations[10].{field}"
    assert await _decision_rows(session) == 0


async def test_free_form_context_longer_than_its_field_is_cut_and_the_decision_recorded(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    body = {**evaluation(), "context": {"client_system": "c" * 300, "workstation": "w\x00" + "w" * 129}}
    answer = (await client.post("/access/v1/evaluation", json=body, headers=headers)).json()
    row = await _audited(session, answer["context"]["decision_id"])
    assert row is not None
    assert (row.client_system, row.workstation) == ("c" * 128, "w" * 128)


class FailingStore:
    """An audit store whose every commit fails, as when the database is down."""

    def __init__(self, real: Transactions) -> None:
        self._real = real

    @property
    def dialect(self) -> Any:
        return self._real.dialect

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        raise OperationalError("INSERT", {}, Exception("connection refused"))
        yield  # pragma: no cover

    def connect(self) -> Any:
        return self._real.connect()


async def test_patient_decision_fails_closed_with_503_when_the_audit_store_fails(
    client: httpx.AsyncClient, headers: dict[str, str], app: Litestar
) -> None:
    writer = app.state.audit_writer
    writer.engine = FailingStore(writer.engine)
    response = await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)
    assert response.status_code == 503
    assert "decision" not in response.json()
    assert response.json()["code"] == "store_unavailable"


class SlowStore:
    """An audit store that holds each commit until the test lets it go."""

    def __init__(self, real: Transactions) -> None:
        self._real = real
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    @property
    def dialect(self) -> Any:
        return self._real.dialect

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        self.entered.set()
        await self.release.wait()
        async with self._real.begin() as conn:
            yield conn

    def connect(self) -> Any:
        return self._real.connect()


async def test_acknowledged_revocation_is_never_followed_by_a_permit_decided_before_it(
    client: httpx.AsyncClient, headers: dict[str, str], app: Litestar
) -> None:
    relation = {"patient": PATIENT, "user": DOCTOR, "kind": "appointment", "valid_from": "2026-01-01T00:00:00Z"}
    await client.put("/v1/care-relations/cr-r", json=relation, headers=headers)
    writer = app.state.audit_writer
    slow = SlowStore(writer.engine)
    writer.engine = slow
    finished: list[str] = []

    async def evaluate() -> bool:
        answer = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
        finished.append("permit-answered")
        return bool(answer["decision"])

    async def revoke() -> int:
        status = (await client.delete("/v1/care-relations/cr-r", headers=headers)).status_code
        finished.append("revocation-acknowledged")
        return status

    permit = asyncio.create_task(evaluate())
    await slow.entered.wait()  # the permit is decided and waits for its audit commit
    revocation = asyncio.create_task(revoke())
    await asyncio.sleep(0.2)
    assert not revocation.done(), "the revocation must wait for the permit decided before it"
    writer.engine = slow._real
    slow.release.set()
    assert await permit is True
    assert await revocation == 204
    assert finished == ["permit-answered", "revocation-acknowledged"]
    after = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
    assert after["decision"] is False


async def test_a_revocation_logged_behind_more_changes_than_one_read_is_applied_before_its_answer(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    relation = {"patient": PATIENT, "user": DOCTOR, "kind": "appointment", "valid_from": "2026-01-01T00:00:00Z"}
    assert (await client.put("/v1/care-relations/cr-b", json=relation, headers=headers)).status_code == 201
    assert (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()["decision"] is True
    # Another process (an HR sync, a bulk load) logged more changes than this process reads at once.
    backlog = [{"kind": "user", "key": DOCTOR}] * (CHANGES_READ_AT_ONCE + 1)
    await session.execute(insert(EngineChange), backlog)
    await session.commit()
    block = {"patient": PATIENT, "user": DOCTOR, "reason": "Neighbour", "valid_from": "2026-01-01T00:00:00Z"}
    assert (await client.put("/v1/patient-blocks/b-1", json=block, headers=headers)).status_code == 201
    answer = (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).json()
    assert answer["decision"] is False, f"a permit after the block was acknowledged: {answer}"
