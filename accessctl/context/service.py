"""Write and read the patient context: care relations and patient blocks. Each write logs an engine change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.changes import ChangeKind, log_change
from accessctl.context.models import CareRelation, PatientBlock
from accessctl.context.specs import CareRelationSpec, PatientBlockSpec, check_id
from accessctl.db import serialise
from accessctl.directory.models import Unit, User
from accessctl.errors import InvalidInput, NotFound

_Row = TypeVar("_Row", CareRelation, PatientBlock)


@dataclass(frozen=True)
class ItemProblem:
    """One rejected record of a bulk request."""

    index: int
    id: str
    field: str | None
    message: str


class PatientContext:
    """Care relations and patient blocks: idempotent upserts by the caller's id, deletes, filtered reads."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put_care_relation(self, relation_id: str, spec: CareRelationSpec, prefix: str = "") -> bool:
        """Create or replace; True when it was created. The caller commits."""
        check_id(relation_id, f"{prefix}id" if prefix else "id")
        spec.check(prefix)
        await self._check_targets(spec.user, spec.unit, prefix)
        values = {
            "patient": spec.patient,
            "user_id": spec.user,
            "unit_id": spec.unit,
            "kind": spec.kind,
            "valid_from": spec.valid_from,
            "valid_to": spec.valid_to,
        }
        created = await self._upsert(CareRelation, relation_id, values)
        await log_change(self._session, "care_relation", relation_id)
        return created

    async def put_patient_block(self, block_id: str, spec: PatientBlockSpec, prefix: str = "") -> bool:
        check_id(block_id, f"{prefix}id" if prefix else "id")
        spec.check(prefix)
        await self._check_targets(spec.user, spec.unit, prefix)
        values = {
            "patient": spec.patient,
            "user_id": spec.user,
            "unit_id": spec.unit,
            "category": spec.category,
            "reason": spec.reason,
            "valid_from": spec.valid_from,
            "valid_to": spec.valid_to,
        }
        created = await self._upsert(PatientBlock, block_id, values)
        await log_change(self._session, "patient_block", block_id)
        return created

    async def put_care_relations(self, items: Sequence[tuple[int, str, CareRelationSpec]]) -> list[ItemProblem]:
        """Apply each record (with its index in the request) in its own savepoint: a bad one is reported, naming
        its place in the request; the good ones still apply."""
        problems: list[ItemProblem] = []
        for index, relation_id, spec in items:
            prefix = f"relations[{index}]."
            try:
                async with self._session.begin_nested():
                    await self.put_care_relation(relation_id, spec, prefix)
            except InvalidInput as exc:
                problems.append(ItemProblem(index, relation_id, exc.field, exc.message))
        return problems

    async def delete(self, kind: ChangeKind, row_id: str) -> str:
        """Delete a care relation or block; returns its patient. The caller commits."""
        model = CareRelation if kind == "care_relation" else PatientBlock
        await serialise(self._session, f"{model.__tablename__}:{row_id}")
        row: CareRelation | PatientBlock | None = await self._session.get(model, row_id)
        if row is None:
            raise NotFound(f"no {kind.replace('_', ' ')} {row_id!r}", field="id")
        patient: str = row.patient
        await self._session.delete(row)
        await log_change(self._session, kind, row_id)
        return patient

    async def get_care_relation(self, relation_id: str) -> CareRelation:
        row = await self._session.get(CareRelation, relation_id)
        if row is None:
            raise NotFound(f"no care relation {relation_id!r}", field="id")
        return row

    async def get_patient_block(self, block_id: str) -> PatientBlock:
        row = await self._session.get(PatientBlock, block_id)
        if row is None:
            raise NotFound(f"no patient block {block_id!r}", field="id")
        return row

    async def rows(
        self,
        model: type[_Row],
        *,
        patient: str | None,
        user: str | None,
        unit: str | None,
        after: str | None,
        limit: int,
    ) -> list[_Row]:
        """Care relations or patient blocks matching the filters, ordered by id, after the cursor id."""
        query = select(model)
        for column, value in ((model.patient, patient), (model.user_id, user), (model.unit_id, unit)):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(model.id > after)
        return list(await self._session.scalars(query.order_by(model.id).limit(limit)))

    async def _check_targets(self, user: str | None, unit: str | None, prefix: str) -> None:
        if user is not None and await self._session.get(User, user) is None:
            raise InvalidInput(f"no user {user!r}", field=f"{prefix}user")
        if unit is not None and await self._session.get(Unit, unit) is None:
            raise InvalidInput(f"no unit {unit!r}", field=f"{prefix}unit")

    async def _upsert(
        self, model: type[CareRelation] | type[PatientBlock], row_id: str, values: dict[str, Any]
    ) -> bool:
        await serialise(self._session, f"{model.__tablename__}:{row_id}")
        row = await self._session.get(model, row_id)
        if row is None:
            self._session.add(model(id=row_id, **values))
            await self._session.flush()
            return True
        for name, value in values.items():
            setattr(row, name, value)
        await self._session.flush()
        return False
