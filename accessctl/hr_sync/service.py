"""Joiners, movers and leavers from SCIM: every write is whole, versioned, logged for engines and audited."""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent
from accessctl.audit.sink import AuditSink
from accessctl.changes import log_change
from accessctl.db import utcnow
from accessctl.directory.models import Employment, Unit, User
from accessctl.hr_sync.errors import InvalidValue, UniquenessViolation, VersionMismatch
from accessctl.hr_sync.hooks import AssignmentRecompute, LeaverGuard, NoLeaverGuard
from accessctl.hr_sync.mapping import EMPLOYMENTS, user_from_scim, user_to_scim
from accessctl.hr_sync.patch import apply_patch
from accessctl.hr_sync.query import visible
from accessctl.hr_sync.records import EnterpriseRecord, StoredUser, UserRecord
from accessctl.hr_sync.store import load_user, read_user

Operation = Literal["create", "replace", "patch", "delete", "release"]
# The userName a SCIM-deleted user's row keeps once a newcomer has been given theirs.
RELEASED_PREFIX = "left:"


def _diff(before: UserRecord | None, after: UserRecord) -> dict[str, Any]:
    """The fields a write changed, as [before, after] (employments as lists of dicts), for the audit detail."""
    old = asdict(before) if before is not None else {}
    new = asdict(after)
    return {name: [old.get(name), value] for name, value in new.items() if old.get(name) != value}


def _check_version(user: User, if_match: int | None) -> None:
    if if_match is not None and if_match != user.version:
        raise VersionMismatch(f"the user is at version {user.version}, not {if_match}; read it again", field="If-Match")


class HrUserService:
    """SCIM's view of users: `create`, `replace`, `patch`, `deactivate`, each in the caller's transaction."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        recompute: AssignmentRecompute,
        audit: AuditSink,
        actor: str,
        guard: LeaverGuard | None = None,
    ) -> None:
        self.session = session
        self.recompute = recompute
        self.audit = audit
        self.actor = actor
        self.guard = guard or NoLeaverGuard()

    async def create(self, record: UserRecord) -> tuple[StoredUser, bool]:
        """A joiner; a leaver SCIM deleted comes back under the same id when HR sends the same person (externalId):
        a rehire. True when the row is new."""
        now = utcnow()
        returning = await self._deleted_match(record, now)
        if returning is not None:
            before = (await read_user(self.session, returning, now)).record
            return await self._write(returning, record, "create", now, before), False
        await self._release_user_name(record, now)
        user = User(id=str(uuid.uuid4()), version=0, created_at=now)
        return await self._write(user, record, "create", now, None), True

    async def replace(self, user_id: str, record: UserRecord, if_match: int | None) -> StoredUser:
        """A PUT: the record replaces everything HR owns, employments included (a mover ends the old one)."""
        now = utcnow()
        user = await load_user(self.session, user_id, now, for_update=True)
        _check_version(user, if_match)
        before = (await read_user(self.session, user, now)).record
        return await self._write(user, record, "replace", now, before)

    async def patch(self, user_id: str, body: Any, if_match: int | None) -> StoredUser:
        """A PATCH: applied to the current representation, then written like a PUT."""
        now = utcnow()
        user = await load_user(self.session, user_id, now, for_update=True)
        _check_version(user, if_match)
        current = await read_user(self.session, user, now)
        record = user_from_scim(apply_patch(user_to_scim(current, location=""), body))
        return await self._write(user, record, "patch", now, current.record)

    async def deactivate(self, user_id: str, if_match: int | None) -> None:
        """A DELETE is a leaver: inactive at once and every employment ended now; the row stays for the audit."""
        now = utcnow()
        user = await load_user(self.session, user_id, now, for_update=True)
        _check_version(user, if_match)
        before = await read_user(self.session, user, now)
        await self.guard.check(self.session, [user.id])
        await self.session.execute(
            delete(Employment).where(Employment.user_id == user.id, Employment.valid_from >= now)
        )
        open_now = or_(Employment.valid_to.is_(None), Employment.valid_to > now)
        await self.session.execute(
            update(Employment).where(Employment.user_id == user.id, open_now).values(valid_to=now)
        )
        if user.status == "active":
            user.deactivated_at = now
        user.status = "inactive"
        user.version += 1
        user.updated_at = now
        await self.session.flush()
        # What the two statements above left, in the order `read_user` reads it (valid_to is not part of it).
        ended = tuple(
            replace(job, valid_to=now) if job.valid_to is None or job.valid_to > now else job
            for job in before.record.employments
            if job.valid_from < now
        )
        after = replace(before.record, active=False, employments=ended)
        await self._changed(user.id, before.record, after, "delete", now)

    # -- internals

    @staticmethod
    def _columns(record: UserRecord) -> dict[str, Any]:
        return {
            "hr_id": record.hr_id,
            "user_name": record.user_name,
            "given_name": record.given_name,
            "family_name": record.family_name,
            "email": record.email,
            "hpr_number": record.hpr_number,
            "status": "active" if record.active else "inactive",
            "enterprise": record.enterprise.stored() if record.enterprise is not None else None,
        }

    @staticmethod
    def _same_ids(record: UserRecord) -> ColumnElement[bool]:
        """Users with this record's externalId or its userName (case-insensitive): each from its own index."""
        return or_(User.hr_id == record.hr_id, func.lower(User.user_name) == record.user_name.lower())

    async def _deleted_match(self, record: UserRecord, now: datetime) -> User | None:
        """The SCIM-deleted user with this record's externalId, if any: the same person, back.

        Never by userName alone: HR gives a leaver's address to a newcomer, who must not inherit the leaver's id,
        and with it their care relations, hand-granted roles and audit history.
        """
        returning: User | None = await self.session.scalar(
            select(User).where(User.hr_id == record.hr_id, ~visible(now))
        )
        return returning

    async def _release_user_name(self, record: UserRecord, now: datetime) -> None:
        """A SCIM-deleted user of another person who holds this userName gives it up to the newcomer (userName is
        unique over every row, and SCIM treats the leaver as gone); the leaver's row keeps `left:<id>`, audited."""
        holders = await self.session.scalars(
            select(User).where(
                func.lower(User.user_name) == record.user_name.lower(), User.hr_id != record.hr_id, ~visible(now)
            )
        )
        for leaver in list(holders):
            before = (await read_user(self.session, leaver, now)).record
            leaver.user_name = f"{RELEASED_PREFIX}{leaver.id}"
            leaver.version += 1
            leaver.updated_at = now
            await self.session.flush()
            await self._changed(leaver.id, before, replace(before, user_name=leaver.user_name), "release", now)

    async def _check(self, user_id: str, record: UserRecord) -> None:
        """Unique externalId and userName (case-insensitive), and every employment's unit known."""
        clashes = await self.session.scalars(
            select(User.hr_id).where(User.id != user_id, self._same_ids(record)).limit(2)
        )
        taken = set(clashes)
        if record.hr_id in taken:
            raise UniquenessViolation(f"externalId {record.hr_id!r} belongs to another user", field="externalId")
        if taken:
            raise UniquenessViolation(f"userName {record.user_name!r} belongs to another user", field="userName")
        wanted = {job.unit for job in record.employments}
        known = set(await self.session.scalars(select(Unit.id).where(Unit.id.in_(wanted))))
        for index, job in enumerate(record.employments):
            if job.unit not in known:
                at = f"{EMPLOYMENTS}[{index}].unit"
                raise InvalidValue(f"{at}: no unit {job.unit!r}", field=at)

    async def _write(
        self,
        user: User,
        record: UserRecord,
        operation: Operation,
        now: datetime,
        before: UserRecord | None,
    ) -> StoredUser:
        """Check, then replace the row's fields and all its employments, then announce the change."""
        if record.enterprise is None:
            # A source without Enterprise attributes (the LDAP pull) leaves the ones HR sent over SCIM alone.
            kept = before.enterprise if before is not None else None
            record = replace(record, enterprise=kept or EnterpriseRecord())
        await self._check(user.id, record)
        leaving = before is not None and before.active and not record.active
        if leaving:
            await self.guard.check(self.session, [user.id])
        for name, value in self._columns(record).items():
            setattr(user, name, value)
        if leaving:
            user.deactivated_at = now
        elif record.active:
            user.deactivated_at = None
        user.version += 1
        user.updated_at = now
        self.session.add(user)
        if before is not None:  # a new user has no employments yet
            await self.session.execute(delete(Employment).where(Employment.user_id == user.id))
        self.session.add_all(
            Employment(
                user_id=user.id,
                unit_id=job.unit,
                position_code=job.position_code,
                valid_from=job.valid_from,
                valid_to=job.valid_to,
            )
            for job in record.employments
        )
        await self.session.flush()
        await self._changed(user.id, before, record, operation, now)
        return await read_user(self.session, user, now)

    async def _changed(
        self, user_id: str, before: UserRecord | None, after: UserRecord, operation: Operation, now: datetime
    ) -> None:
        """Re-derive role assignments, tell the engines, and audit: in that order, in the same transaction."""
        if await self.recompute(self.session, user_id) is not True:
            await log_change(self.session, "user", user_id)
        detail = {"operation": operation, "user": user_id, "changes": _diff(before, after)}
        await self.audit.record(
            AuditEvent(
                action=actions.HR_USER_CHANGED,
                occurred_at=now,
                user_id=self.actor,
                resource_type="User",
                resource_id=user_id,
                detail=_jsonable(detail),
            )
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
