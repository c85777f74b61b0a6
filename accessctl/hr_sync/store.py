"""Reading users as `StoredUser`s: one at a time, or a filtered, sorted page; SCIM-deleted users are not seen."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Employment, User
from accessctl.hr_sync.errors import ResourceNotFound
from accessctl.hr_sync.filters import Filter
from accessctl.hr_sync.query import sort_column, user_condition, visible
from accessctl.hr_sync.records import EmploymentRecord, EnterpriseRecord, StoredUser, UserRecord


async def _jobs(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, list[Employment]]:
    rows = await session.scalars(
        select(Employment)
        .where(Employment.user_id.in_(user_ids))
        .order_by(Employment.valid_from, Employment.unit_id, Employment.position_code)
    )
    jobs: dict[str, list[Employment]] = defaultdict(list)
    for job in rows:
        jobs[job.user_id].append(job)
    return jobs


def stored_user(user: User, jobs: Sequence[Employment]) -> StoredUser:
    """A row and its employments as plain data; the Enterprise attributes as HR sent them."""
    record = UserRecord(
        hr_id=user.hr_id,
        user_name=user.user_name,
        given_name=user.given_name,
        family_name=user.family_name,
        email=user.email,
        hpr_number=user.hpr_number,
        active=user.status == "active",
        employments=tuple(EmploymentRecord(j.unit_id, j.position_code, j.valid_from, j.valid_to) for j in jobs),
        enterprise=EnterpriseRecord.from_stored(user.enterprise),
    )
    return StoredUser(
        id=user.id, record=record, version=user.version, created_at=user.created_at, updated_at=user.updated_at
    )


async def load_user(session: AsyncSession, user_id: str, now: datetime, *, for_update: bool = False) -> User:
    """The row of a user SCIM can see; ResourceNotFound for an unknown or SCIM-deleted one."""
    query = select(User).where(User.id == user_id, visible(now))
    if for_update:
        query = query.with_for_update()
    user = await session.scalar(query)
    if user is None:
        raise ResourceNotFound(f"no user {user_id}", field="id")
    return user


async def read_user(session: AsyncSession, user: User, now: datetime) -> StoredUser:
    """The user as SCIM shows it (`now` is no longer needed: nothing is derived from the current employment)."""
    jobs = await _jobs(session, [user.id])
    return stored_user(user, jobs.get(user.id, []))


async def search_users(
    session: AsyncSession,
    now: datetime,
    *,
    where: Filter | None,
    sort_by: str | None,
    descending: bool,
    start_index: int,
    count: int,
) -> tuple[int, list[StoredUser]]:
    """The total matching, and the page from `start_index` (1-based) of at most `count` users."""
    condition: ColumnElement[bool] = visible(now) & (user_condition(where) if where is not None else true())
    total = int(await session.scalar(select(func.count()).select_from(User).where(condition)) or 0)
    if count <= 0:
        return total, []
    order = sort_column(sort_by) if sort_by else User.id
    ordering = [order.desc() if descending else order.asc(), User.id.asc()]
    rows = list(
        await session.scalars(select(User).where(condition).order_by(*ordering).offset(start_index - 1).limit(count))
    )
    jobs = await _jobs(session, [u.id for u in rows])
    return total, [stored_user(u, jobs.get(u.id, [])) for u in rows]
