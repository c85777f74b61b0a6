"""Read the directory: organisations, units with their services, users with employments and assignments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from accessctl.directory.models import Employment, Organisation, Unit, UnitService, User
from accessctl.errors import NotFound
from accessctl.policies.models import RoleAssignment

_T = TypeVar("_T")


@dataclass(frozen=True)
class OrganisationView:
    id: str
    org_number: str
    name: str
    kind: str
    go_live: date | None
    agreement_signed: bool


@dataclass(frozen=True)
class UnitView:
    id: str
    organisation_id: str
    parent_id: str | None
    name: str
    kind: str
    services: list[str]


@dataclass(frozen=True)
class EmploymentView:
    unit_id: str
    position_code: str
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True)
class AssignmentView:
    role_id: str
    unit_id: str
    valid_from: datetime
    valid_to: datetime | None
    source: str
    approver: str | None


@dataclass(frozen=True)
class UserView:
    id: str
    hr_id: str
    user_name: str
    given_name: str
    family_name: str
    email: str | None
    hpr_number: str | None
    status: str
    employments: list[EmploymentView] = field(default_factory=list)
    role_assignments: list[AssignmentView] = field(default_factory=list)


class DirectoryReader:
    """Keyset-paginated reads of the directory, ordered by id so pages are stable."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def organisations(
        self, *, kind: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[OrganisationView]:
        query = select(Organisation)
        if kind:
            query = query.where(Organisation.kind == kind)
        rows = await self._page(query, Organisation.id, after, limit)
        return [_organisation_view(o) for o in rows]

    async def organisation(self, organisation_id: str) -> OrganisationView:
        found = await self._session.get(Organisation, organisation_id)
        if found is None:
            raise NotFound(f"no organisation {organisation_id!r}", field="id")
        return _organisation_view(found)

    async def units(
        self,
        *,
        organisation: str | None = None,
        parent: str | None = None,
        service: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[UnitView]:
        query = select(Unit)
        if organisation:
            query = query.where(Unit.organisation_id == organisation)
        if parent:
            query = query.where(Unit.parent_id == parent)
        if service:
            query = query.where(Unit.id.in_(select(UnitService.unit_id).where(UnitService.service_id == service)))
        rows = await self._page(query, Unit.id, after, limit)
        services = await self._services_of([u.id for u in rows])
        return [_unit_view(u, services.get(u.id, [])) for u in rows]

    async def unit(self, unit_id: str) -> UnitView:
        found = await self._session.get(Unit, unit_id)
        if found is None:
            raise NotFound(f"no unit {unit_id!r}", field="id")
        services = await self._services_of([unit_id])
        return _unit_view(found, services.get(unit_id, []))

    async def users(
        self,
        *,
        organisation: str | None = None,
        unit: str | None = None,
        status: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[UserView]:
        query = select(User)
        if status:
            query = query.where(User.status == status)
        if unit:
            query = query.where(User.id.in_(select(Employment.user_id).where(Employment.unit_id == unit)))
        if organisation:
            in_org = (
                select(Employment.user_id)
                .join(Unit, Unit.id == Employment.unit_id)
                .where(Unit.organisation_id == organisation)
            )
            query = query.where(User.id.in_(in_org))
        rows = await self._page(query, User.id, after, limit)
        return await self._with_details(rows)

    async def user(self, user_id: str) -> UserView:
        found = await self._session.get(User, user_id)
        if found is None:
            raise NotFound(f"no user {user_id!r}", field="id")
        return (await self._with_details([found]))[0]

    async def _page(
        self, query: Select[tuple[_T]], key: InstrumentedAttribute[str], after: str | None, limit: int
    ) -> list[_T]:
        if after is not None:
            query = query.where(key > after)
        return list(await self._session.scalars(query.order_by(key).limit(limit)))

    async def _services_of(self, unit_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        if not unit_ids:
            return out
        rows = await self._session.execute(
            select(UnitService.unit_id, UnitService.service_id)
            .where(UnitService.unit_id.in_(unit_ids))
            .order_by(UnitService.unit_id, UnitService.service_id)
        )
        for unit_id, service_id in rows:
            out[unit_id].append(service_id)
        return out

    async def _with_details(self, users: Sequence[User]) -> list[UserView]:
        ids = [u.id for u in users]
        employments: dict[str, list[EmploymentView]] = defaultdict(list)
        assignments: dict[str, list[AssignmentView]] = defaultdict(list)
        if ids:
            for e in await self._session.scalars(
                select(Employment).where(Employment.user_id.in_(ids)).order_by(Employment.valid_from, Employment.id)
            ):
                employments[e.user_id].append(EmploymentView(e.unit_id, e.position_code, e.valid_from, e.valid_to))
            for a in await self._session.scalars(
                select(RoleAssignment)
                .where(RoleAssignment.user_id.in_(ids))
                .order_by(RoleAssignment.valid_from, RoleAssignment.id)
            ):
                assignments[a.user_id].append(
                    AssignmentView(a.role_id, a.unit_id, a.valid_from, a.valid_to, a.source, a.approver)
                )
        return [_user_view(u, employments[u.id], assignments[u.id]) for u in users]


def _organisation_view(o: Organisation) -> OrganisationView:
    return OrganisationView(o.id, o.org_number, o.name, o.kind, o.go_live, o.agreement_signed)


def _unit_view(u: Unit, services: list[str]) -> UnitView:
    return UnitView(u.id, u.organisation_id, u.parent_id, u.name, u.kind, services)


def _user_view(u: User, employments: list[EmploymentView], assignments: list[AssignmentView]) -> UserView:
    return UserView(
        u.id,
        u.hr_id,
        u.user_name,
        u.given_name,
        u.family_name,
        u.email,
        u.hpr_number,
        u.status,
        employments,
        assignments,
    )
