"""AuthZEN search: who may do this to this resource, and what may this subject do with it (authz:evaluate)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from typing import Any

import msgspec
from litestar import Controller, post
from litestar.datastructures import State
from litestar.params import JSONBody

from accessctl.db import utcnow
from accessctl.engine.search import actions_permitted, subjects_permitted
from accessctl.errors import InvalidInput
from accessctl.pdp import DecisionPoint
from accessctl.web.auth import requires
from accessctl.web.authzen_mapping import access_request
from accessctl.web.authzen_schemas import Action, EvaluationRequest, Resource, Subject
from accessctl.web.pagination import DEFAULT_LIMIT, check_limit, decode_cursor, encode_cursor


class SearchPage(msgspec.Struct):
    token: str | None = None
    next_token: str | None = None
    limit: int = DEFAULT_LIMIT


class SubjectKind(msgspec.Struct):
    type: str
    properties: dict[str, Any] = {}


class SubjectSearchRequest(msgspec.Struct):
    subject: SubjectKind
    action: Action
    resource: Resource
    context: dict[str, Any] = {}
    page: SearchPage = msgspec.field(default_factory=SearchPage)


class ActionSearchRequest(msgspec.Struct):
    subject: Subject
    resource: Resource
    context: dict[str, Any] = {}
    page: SearchPage = msgspec.field(default_factory=SearchPage)


class SearchResponse(msgspec.Struct):
    results: list[dict[str, str]]
    page: dict[str, Any]


def _paged(items: list[str], page: SearchPage, wrap: str, kind: str | None = None) -> SearchResponse:
    """One page of a complete, sorted result; `page.next_token` is empty on the last page."""
    limit = check_limit(page.limit)
    after = decode_cursor(page.token or page.next_token)
    if after is not None and not isinstance(after, str):
        raise InvalidInput("page token is not one this service issued", field="page.token")
    start = 0 if after is None else bisect_right(items, after)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    results = [{"type": kind, wrap: item} if kind else {wrap: item} for item in chunk]
    return SearchResponse(
        results=results, page={"next_token": encode_cursor(chunk[-1]) if more else "", "total": len(items)}
    )


class AuthZenSearchController(Controller):
    path = "/access/v1/search"
    guards = [requires("authz:evaluate")]
    tags = ["authzen"]

    @post("/subject", status_code=200)
    async def subject(self, state: State, data: JSONBody[SubjectSearchRequest]) -> SearchResponse:
        """Every user who may take the action on the resource now, through any role, unit or care relation."""
        if data.subject.type != "user":
            raise InvalidInput("only subjects of type user can be searched", field="subject.type")
        probe = EvaluationRequest(Subject(type="user", id=""), data.action, data.resource, data.context)
        point: DecisionPoint = state.decision_point
        users = subjects_permitted(point.engine, replace(access_request(probe), unit_id=None), utcnow())
        return _paged(users, data.page, "id", kind="user")

    @post("/action", status_code=200)
    async def action(self, state: State, data: JSONBody[ActionSearchRequest]) -> SearchResponse:
        """Every action the subject may take on the resource now, from its acting unit."""
        probe = EvaluationRequest(data.subject, Action(name=""), data.resource, data.context)
        point: DecisionPoint = state.decision_point
        actions = actions_permitted(point.engine, access_request(probe), utcnow())
        return _paged(actions, data.page, "name")
