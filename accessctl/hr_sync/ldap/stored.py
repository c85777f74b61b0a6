"""What the database holds for a directory's organisations: their units, and each user as a record, in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Employment, Organisation, Unit, User
from accessctl.errors import InvalidInput
from accessctl.hr_sync.records import EmploymentRecord, UserRecord

_CHUNK = 5000


@dataclass
class StoredUser:
    """A user as stored: id, the whole record, and which of its employments lie in the directory's organisations."""

    id: str
    record: UserRecord
    in_scope: tuple[EmploymentRecord, ...]
    outside: tuple[EmploymentRecord, ...]

    def scoped(self) -> UserRecord:
        """The record as the directory should see it: only employments in its organisations."""
        return _with_jobs(self.record, self.in_scope)


@dataclass
class StoredState:
    """The organisations in scope (number -> id), their units, and the users that hold or held jobs there."""

    organisations: dict[str, str]
    scope_units: set[str]
    users: dict[str, StoredUser] = field(default_factory=dict)
    # organisation id -> unit id -> (parent, name, kind): to skip trees the directory does not change.
    trees: dict[str, dict[str, tuple[str | None, str, str]]] = field(default_factory=dict)


def _with_jobs(record: UserRecord, jobs: Iterable[EmploymentRecord], *, active: bool | None = None) -> UserRecord:
    ordered = tuple(sorted(jobs, key=lambda j: (j.valid_from, j.unit, j.position_code)))
    return replace(record, employments=ordered, active=record.active if active is None else active)


def merged(stored: StoredUser | None, wanted: UserRecord) -> UserRecord:
    """The record to write: the directory's fields and employments, plus the user's jobs elsewhere, kept."""
    return wanted if stored is None else _with_jobs(wanted, (*wanted.employments, *stored.outside))


def left_scope(stored: StoredUser, now: datetime) -> UserRecord:
    """A user gone from the directory: its jobs there end now (future ones never start); inactive unless a job
    elsewhere is still open."""
    ended = [
        EmploymentRecord(j.unit, j.position_code, j.valid_from, now)
        for j in stored.in_scope
        if j.valid_from < now and (j.valid_to is None or j.valid_to > now)
    ]
    past = [j for j in stored.in_scope if j.valid_to is not None and j.valid_to <= now]
    still_working = any(j.valid_to is None or j.valid_to > now for j in stored.outside)
    return _with_jobs(stored.record, (*past, *ended, *stored.outside), active=stored.record.active and still_working)


async def load_state(session: AsyncSession, org_numbers: Iterable[str], hr_ids: Iterable[str]) -> StoredState:
    """The scope's organisations and units, and every user with a job there or an HR id the directory names."""
    numbers = sorted(set(org_numbers))
    organisations = dict(
        (
            await session.execute(
                select(Organisation.org_number, Organisation.id).where(Organisation.org_number.in_(numbers))
            )
        )
        .tuples()
        .all()
    )
    unknown = [n for n in numbers if n not in organisations]
    if unknown:
        raise InvalidInput(f"organisations: no organisation with number {', '.join(unknown)}", field="organisations")
    trees: dict[str, dict[str, tuple[str | None, str, str]]] = defaultdict(dict)
    units = select(Unit.organisation_id, Unit.id, Unit.parent_id, Unit.name, Unit.kind)
    for org_id, unit_id, parent, name, kind in await session.execute(
        units.where(Unit.organisation_id.in_(organisations.values()))
    ):
        trees[org_id][unit_id] = (parent, name, kind)
    scope_units = {unit_id for tree in trees.values() for unit_id in tree}
    state = StoredState(organisations, scope_units, trees=dict(trees))
    user_ids = set(await session.scalars(select(Employment.user_id).where(Employment.unit_id.in_(scope_units))))
    wanted = sorted(set(hr_ids))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        user_ids.update(await session.scalars(select(User.id).where(User.hr_id.in_(chunk))))
    ordered = sorted(user_ids)
    jobs: dict[str, list[EmploymentRecord]] = defaultdict(list)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        query = select(
            Employment.user_id, Employment.unit_id, Employment.position_code, Employment.valid_from, Employment.valid_to
        ).where(Employment.user_id.in_(chunk))
        for user_id, unit, position, valid_from, valid_to in await session.execute(query):
            jobs[user_id].append(EmploymentRecord(unit, position, valid_from, valid_to))
        for user in await session.scalars(select(User).where(User.id.in_(chunk))):
            record = UserRecord(
                user.hr_id,
                user.user_name,
                user.given_name,
                user.family_name,
                user.email,
                user.hpr_number,
                user.status == "active",
            )
            mine = jobs.get(user.id, [])
            state.users[user.hr_id] = StoredUser(
                user.id,
                _with_jobs(record, mine),
                tuple(j for j in mine if j.unit in scope_units),
                tuple(j for j in mine if j.unit not in scope_units),
            )
    return state
