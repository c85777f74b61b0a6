"""Patient context API for clinical systems (scope context:write): care relations and patient blocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import AuditEvent
from accessctl.audit.actions import CONTEXT_CHANGED
from accessctl.audit.sink import AuditOutbox
from accessctl.changes import ChangeKind
from accessctl.context.models import CareRelation, PatientBlock
from accessctl.context.service import ItemProblem, PatientContext
from accessctl.context.specs import CareRelationSpec, PatientBlockSpec
from accessctl.db import utcnow
from accessctl.errors import InvalidInput
from accessctl.web.auth import caller, requires
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession, writing_sessions
from accessctl.web.directory import Limit, after_cursor, next_page
from accessctl.web.errors import field_problem
from accessctl.web.pagination import DEFAULT_LIMIT, Page, check_limit

MAX_BULK = 5000
_Row = TypeVar("_Row", CareRelation, PatientBlock)
_Out = TypeVar("_Out", "CareRelationOut", "PatientBlockOut")
RELATION: ChangeKind = "care_relation"
BLOCK: ChangeKind = "patient_block"


class CareRelationIn(msgspec.Struct):
    patient: str
    kind: str
    valid_from: datetime
    valid_to: datetime | None = None
    user: str | None = None
    unit: str | None = None

    def spec(self) -> CareRelationSpec:
        return CareRelationSpec(self.patient, self.kind, self.valid_from, self.valid_to, self.user, self.unit)


class CareRelationItem(CareRelationIn):
    id: str = ""


class CareRelationOut(msgspec.Struct):
    id: str
    patient: str
    user: str | None
    unit: str | None
    kind: str
    valid_from: datetime
    valid_to: datetime | None

    @classmethod
    def of(cls, row: CareRelation) -> CareRelationOut:
        return cls(row.id, row.patient, row.user_id, row.unit_id, row.kind, row.valid_from, row.valid_to)


class PatientBlockIn(msgspec.Struct):
    patient: str
    reason: str
    valid_from: datetime
    valid_to: datetime | None = None
    user: str | None = None
    unit: str | None = None
    category: str | None = None

    def spec(self) -> PatientBlockSpec:
        return PatientBlockSpec(
            self.patient, self.reason, self.valid_from, self.valid_to, self.user, self.unit, self.category
        )


class PatientBlockOut(msgspec.Struct):
    id: str
    patient: str
    user: str | None
    unit: str | None
    category: str | None
    reason: str
    valid_from: datetime
    valid_to: datetime | None

    @classmethod
    def of(cls, row: PatientBlock) -> PatientBlockOut:
        return cls(
            row.id, row.patient, row.user_id, row.unit_id, row.category, row.reason, row.valid_from, row.valid_to
        )


class BulkCareRelations(msgspec.Struct):
    relations: list[dict[str, Any]]


class BulkResult(msgspec.Struct):
    applied: int
    rejected: list[ItemProblem]


def _changes(request: Request[Any, Any, Any], kind: str, changes: list[tuple[str, str, str]]) -> AuditOutbox:
    """The audit events of (id, patient, operation) changes to care relations or blocks, made by the caller."""
    outbox = AuditOutbox()
    now, client = utcnow(), caller(request)
    outbox.events = [
        AuditEvent(
            action=CONTEXT_CHANGED,
            occurred_at=now,
            patient=patient,
            resource_type=kind,
            resource_id=row_id,
            data_action=operation,
            client_system=client,
        )
        for row_id, patient, operation in changes
    ]
    return outbox


async def _listed(
    session: AsyncSession,
    model: type[_Row],
    view: Callable[[_Row], _Out],
    *,
    patient: str | None,
    user: str | None,
    unit: str | None,
    cursor: str | None,
    limit: int,
) -> Page[_Out]:
    """One page of care relations or blocks, filtered by patient, user and unit, ordered by id."""
    rows = await PatientContext(session).rows(
        model, patient=patient, user=user, unit=unit, after=after_cursor(cursor), limit=check_limit(limit) + 1
    )
    return next_page([view(r) for r in rows], limit)


def _operation(created: bool) -> str:
    return "created" if created else "replaced"


def _saved(body: Any, created: bool) -> Response[Any]:
    return Response(body, status_code=201 if created else 200)


def _items(raw: list[dict[str, Any]]) -> tuple[list[tuple[int, str, CareRelationSpec]], list[ItemProblem]]:
    """Decode each record on its own, so one malformed record does not sink the others; each good one keeps its
    index in the request."""
    good: list[tuple[int, str, CareRelationSpec]] = []
    bad: list[ItemProblem] = []
    for index, record in enumerate(raw):
        try:
            item = msgspec.convert(record, CareRelationItem)
        except msgspec.ValidationError as exc:
            field, message = field_problem(str(exc), f"relations[{index}]")
            bad.append(ItemProblem(index, str(record.get("id", "")), field, message))
            continue
        if not item.id:
            bad.append(ItemProblem(index, "", f"relations[{index}].id", "id is required"))
            continue
        good.append((index, item.id, item.spec()))
    return good, bad


class CareRelationController(Controller):
    path = "/v1/care-relations"
    guards = [requires("context:write")]
    tags = ["patient context"]
    dependencies = writing_sessions()

    @put("/{relation_id:str}", status_code=200)
    async def put_relation(
        self,
        db_session: DbSession,
        request: Request[Any, Any, Any],
        relation_id: FromPath[str],
        data: JSONBody[CareRelationIn],
    ) -> Response[CareRelationOut]:
        """Create or replace a care relation under the caller's id (201 when created)."""
        service = PatientContext(db_session)
        created = await service.put_care_relation(relation_id, data.spec())
        row = await service.get_care_relation(relation_id)
        body = CareRelationOut.of(row)
        await committed(
            db_session,
            request.app.state,
            _changes(request, RELATION, [(relation_id, row.patient, _operation(created))]),
        )
        return _saved(body, created)

    @delete("/{relation_id:str}", status_code=204)
    async def delete_relation(
        self, db_session: DbSession, request: Request[Any, Any, Any], relation_id: FromPath[str]
    ) -> None:
        patient = await PatientContext(db_session).delete(RELATION, relation_id)
        await committed(db_session, request.app.state, _changes(request, RELATION, [(relation_id, patient, "deleted")]))

    @get("/{relation_id:str}")
    async def get_relation(self, db_session: DbSession, relation_id: FromPath[str]) -> CareRelationOut:
        return CareRelationOut.of(await PatientContext(db_session).get_care_relation(relation_id))

    @get("/")
    async def list_relations(
        self,
        db_session: DbSession,
        patient: FromQuery[str | None] = None,
        user: FromQuery[str | None] = None,
        unit: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[CareRelationOut]:
        return await _listed(
            db_session,
            CareRelation,
            CareRelationOut.of,
            patient=patient,
            user=user,
            unit=unit,
            cursor=cursor,
            limit=limit,
        )

    @post("/bulk", status_code=200)
    async def bulk(
        self, db_session: DbSession, request: Request[Any, Any, Any], data: JSONBody[BulkCareRelations]
    ) -> BulkResult:
        """A unit's admission list: each record applies on its own; bad ones are returned, naming the field."""
        if len(data.relations) > MAX_BULK:
            raise InvalidInput(f"at most {MAX_BULK} relations in one request", field="relations")
        good, rejected = _items(data.relations)
        problems = await PatientContext(db_session).put_care_relations(good)
        failed = {p.index for p in problems}
        written = [(rid, spec.patient, "written") for index, rid, spec in good if index not in failed]
        await committed(db_session, request.app.state, _changes(request, RELATION, written))
        rejected += problems
        rejected.sort(key=lambda p: p.index)
        return BulkResult(applied=len(good) - len(problems), rejected=rejected)


class PatientBlockController(Controller):
    path = "/v1/patient-blocks"
    guards = [requires("context:write")]
    tags = ["patient context"]
    dependencies = writing_sessions()

    @put("/{block_id:str}", status_code=200)
    async def put_block(
        self,
        db_session: DbSession,
        request: Request[Any, Any, Any],
        block_id: FromPath[str],
        data: JSONBody[PatientBlockIn],
    ) -> Response[PatientBlockOut]:
        """Create or replace a block against a named user, a unit, or a category (201 when created)."""
        service = PatientContext(db_session)
        created = await service.put_patient_block(block_id, data.spec())
        body = PatientBlockOut.of(await service.get_patient_block(block_id))
        await committed(
            db_session, request.app.state, _changes(request, BLOCK, [(block_id, body.patient, _operation(created))])
        )
        return _saved(body, created)

    @delete("/{block_id:str}", status_code=204)
    async def delete_block(
        self, db_session: DbSession, request: Request[Any, Any, Any], block_id: FromPath[str]
    ) -> None:
        patient = await PatientContext(db_session).delete(BLOCK, block_id)
        await committed(db_session, request.app.state, _changes(request, BLOCK, [(block_id, patient, "deleted")]))

    @get("/{block_id:str}")
    async def get_block(self, db_session: DbSession, block_id: FromPath[str]) -> PatientBlockOut:
        return PatientBlockOut.of(await PatientContext(db_session).get_patient_block(block_id))

    @get("/")
    async def list_blocks(
        self,
        db_session: DbSession,
        patient: FromQuery[str | None] = None,
        user: FromQuery[str | None] = None,
        unit: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[PatientBlockOut]:
        return await _listed(
            db_session,
            PatientBlock,
            PatientBlockOut.of,
            patient=patient,
            user=user,
            unit=unit,
            cursor=cursor,
            limit=limit,
        )
