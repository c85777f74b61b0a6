"""Apply user records one by one, each in its own savepoint: a bad one never stops (or half-writes) the rest.

Each record goes through `HrUserService` (the SCIM writer), so checks, change log, role recompute and the audit
detail are the same whatever the source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.sink import AuditOutbox, AuditSink
from accessctl.db import utcnow
from accessctl.directory.models import User
from accessctl.errors import AccessctlError
from accessctl.hr_sync.hooks import AssignmentRecompute
from accessctl.hr_sync.mapping import EMPLOYMENTS
from accessctl.hr_sync.query import visible
from accessctl.hr_sync.records import UserRecord
from accessctl.hr_sync.runs import RecordError
from accessctl.hr_sync.service import HrUserService

# SCIM attribute names in the writer's errors, as the record's own field names.
_FIELD_NAMES = {"externalId": "hr_id", "userName": "user_name", "If-Match": "version"}


def record_field(scim_field: str | None) -> str:
    """The record field a SCIM attribute path names (`...:employments[0].unit` -> `employments[0].unit`)."""
    if not scim_field:
        return "record"
    if scim_field.startswith(EMPLOYMENTS):
        return "employments" + scim_field.removeprefix(EMPLOYMENTS)
    return _FIELD_NAMES.get(scim_field, scim_field)


@dataclass
class ApplyResult:
    """Which records were written (hr id -> user id) and which were rejected, with why."""

    written: dict[str, str] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)


async def apply_user_records(
    session: AsyncSession,
    records: Sequence[UserRecord],
    *,
    recompute: AssignmentRecompute,
    actor: str,
    audit: AuditSink,
    name_of: Callable[[str], str] = str,
) -> ApplyResult:
    """Create or replace each record's user (matched by HR id); a rejected record leaves no trace.

    Audit events of a record reach `audit` only once its savepoint is released, so a rejected record is not
    audited as changed. `name_of` turns an HR id into what errors call the record (a DN, say).
    """
    result = ApplyResult()
    counts: dict[str, int] = {}
    for record in records:
        counts[record.hr_id] = counts.get(record.hr_id, 0) + 1
    existing = dict(
        (await session.execute(select(User.hr_id, User.id).where(User.hr_id.in_(list(counts))))).tuples().all()
    )
    for record in records:
        if counts[record.hr_id] > 1:
            message = f"HR id {record.hr_id} appears {counts[record.hr_id]} times in one run"
            result.errors.append(RecordError(name_of(record.hr_id), "hr_id", message))
            continue
        held = AuditOutbox()
        service = HrUserService(session, recompute=recompute, audit=held, actor=actor)
        try:
            async with session.begin_nested():
                user_id = existing.get(record.hr_id)
                if user_id is not None and await _visible(session, user_id):
                    await service.replace(user_id, record, None)
                else:
                    stored, _ = await service.create(record)
                    user_id = stored.id
        except AccessctlError as exc:
            result.errors.append(RecordError(name_of(record.hr_id), record_field(exc.field), exc.message))
            continue
        except IntegrityError as exc:
            result.errors.append(RecordError(name_of(record.hr_id), "record", f"refused by the database: {exc.orig}"))
            continue
        result.written[record.hr_id] = user_id
        await held.deliver(audit)
    return result


async def _visible(session: AsyncSession, user_id: str) -> bool:
    """Whether the writer can replace this user (else `create` brings a deleted leaver back, a rehire)."""
    found = await session.scalar(select(User.id).where(User.id == user_id, visible(utcnow())))
    return found is not None
