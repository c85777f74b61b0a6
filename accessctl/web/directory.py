"""Directory read API: organisations, units and users, cursor-paginated (scope directory:read)."""

from __future__ import annotations

from typing import Annotated, Protocol, TypeVar

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, QueryParameter

from accessctl.directory.models import USER_STATUSES
from accessctl.directory.queries import DirectoryReader, OrganisationView, UnitView, UserView
from accessctl.errors import InvalidInput
from accessctl.web.auth import requires
from accessctl.web.dependencies import DbSession
from accessctl.web.pagination import DEFAULT_LIMIT, Page, check_limit, decode_cursor, encode_cursor

Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="page size, 1 to 1000")]


def after_cursor(cursor: str | None) -> str | None:
    position = decode_cursor(cursor)
    if position is not None and not isinstance(position, str):
        raise InvalidInput("cursor is not one this service issued", field="cursor")
    return position


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_I = TypeVar("_I", bound=_HasId)


def next_page(items: list[_I], limit: int) -> Page[_I]:
    """The page of at most `limit` items, given up to limit + 1 rows; the extra row says there is more."""
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


class DirectoryController(Controller):
    path = "/v1"
    guards = [requires("directory:read")]
    tags = ["directory"]

    @get("/organisations")
    async def list_organisations(
        self,
        db_session: DbSession,
        kind: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[OrganisationView]:
        """Organisations, ordered by id."""
        rows = await DirectoryReader(db_session).organisations(
            kind=kind, after=after_cursor(cursor), limit=check_limit(limit) + 1
        )
        return next_page(rows, limit)

    @get("/organisations/{organisation_id:str}")
    async def get_organisation(self, db_session: DbSession, organisation_id: FromPath[str]) -> OrganisationView:
        return await DirectoryReader(db_session).organisation(organisation_id)

    @get("/units")
    async def list_units(
        self,
        db_session: DbSession,
        organisation: FromQuery[str | None] = None,
        parent: FromQuery[str | None] = None,
        service: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[UnitView]:
        """Units with the services they provide, ordered by id."""
        rows = await DirectoryReader(db_session).units(
            organisation=organisation,
            parent=parent,
            service=service,
            after=after_cursor(cursor),
            limit=check_limit(limit) + 1,
        )
        return next_page(rows, limit)

    @get("/units/{unit_id:str}")
    async def get_unit(self, db_session: DbSession, unit_id: FromPath[str]) -> UnitView:
        return await DirectoryReader(db_session).unit(unit_id)

    @get("/users")
    async def list_users(
        self,
        db_session: DbSession,
        organisation: FromQuery[str | None] = None,
        unit: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[UserView]:
        """Users with their employments and role assignments, ordered by id."""
        if status is not None and status not in USER_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(USER_STATUSES)}", field="status")
        rows = await DirectoryReader(db_session).users(
            organisation=organisation,
            unit=unit,
            status=status,
            after=after_cursor(cursor),
            limit=check_limit(limit) + 1,
        )
        return next_page(rows, limit)

    @get("/users/{user_id:str}")
    async def get_user(self, db_session: DbSession, user_id: FromPath[str]) -> UserView:
        return await DirectoryReader(db_session).user(user_id)
