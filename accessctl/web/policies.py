"""Policy versions over HTTP: publish, approve (four eyes, access tests), roll back, list, and impact diffs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from accessctl.audit.sink import AuditOutbox
from accessctl.errors import AccessTestsFailed
from accessctl.policies import versions as service
from accessctl.policies.impact import ACTIVE, WORKING, policy_impact
from accessctl.policies.models import PolicyVersion
from accessctl.web.auth import caller, requires
from accessctl.web.changes import committed
from accessctl.web.dependencies import DbSession, writing_sessions
from accessctl.web.errors import error_body


class PublishIn(msgspec.Struct):
    note: str = ""


class VersionOut(msgspec.Struct):
    id: str
    status: str
    author: str
    note: str
    content_hash: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    rollback_of: str | None

    @classmethod
    def of(cls, v: PolicyVersion) -> VersionOut:
        rollback_of = None if v.rollback_of is None else service.version_name(v.rollback_of)
        return cls(
            service.version_name(v.id),
            v.status,
            v.author,
            v.note,
            v.content_hash,
            v.created_at,
            v.approved_by,
            v.approved_at,
            rollback_of,
        )


class ActivationOut(msgspec.Struct):
    version: VersionOut
    tests_passed: int
    users_changed: int


class VersionList(msgspec.Struct):
    items: list[VersionOut]


READERS = requires("policy:admin", "policy:approve")
ADMIN = requires("policy:admin")
APPROVER = requires("policy:approve")


class PolicyController(Controller):
    path = "/v1/policies"
    tags = ["policies"]
    dependencies = writing_sessions()

    @get("/versions", guards=[READERS])
    async def list_versions(self, db_session: DbSession) -> VersionList:
        """Every published version, newest first."""
        return VersionList([VersionOut.of(v) for v in await service.versions(db_session)])

    @post("/versions", guards=[ADMIN], status_code=201)
    async def publish(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, data: JSONBody[PublishIn]
    ) -> VersionOut:
        """Publish the server's policy files as a pending version; the caller is its author."""
        outbox = AuditOutbox()
        policy_dir: Path = state.settings.policies_dir
        version = await service.publish(db_session, policy_dir, caller(request), data.note, audit=outbox)
        body = VersionOut.of(version)
        await committed(db_session, state, outbox)
        return body

    @post("/versions/{version:str}/approve", guards=[APPROVER], status_code=200)
    async def approve(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, version: FromPath[str]
    ) -> Response[Any]:
        """Activate a pending version: 409 for its own author, 422 with the failures when an access test fails."""
        outbox = AuditOutbox()
        try:
            activation = await service.approve(
                db_session, service.parse_version_name(version), caller(request), audit=outbox
            )
        except AccessTestsFailed as exc:
            return Response({**error_body(exc.code, exc.message), "failures": list(exc.failures)}, status_code=422)
        body = ActivationOut(
            VersionOut.of(activation.version), activation.tests_passed, activation.assignments.users_changed
        )
        await committed(db_session, state, outbox)
        return Response(body, status_code=200)

    @post("/versions/{version:str}/rollback", guards=[ADMIN], status_code=201)
    async def rollback(
        self, request: Request[Any, Any, Any], db_session: DbSession, state: State, version: FromPath[str]
    ) -> VersionOut:
        """A new pending version equal to an earlier one, to be approved by a second person."""
        outbox = AuditOutbox()
        new = await service.rollback(db_session, service.parse_version_name(version), caller(request), audit=outbox)
        body = VersionOut.of(new)
        await committed(db_session, state, outbox)
        return body

    @get("/diff", guards=[READERS])
    async def diff(
        self,
        db_session: DbSession,
        state: State,
        from_name: Annotated[str, QueryParameter(name="from", description="active, working or v<id>")] = ACTIVE,
        to_name: Annotated[str, QueryParameter(name="to", description="active, working or v<id>")] = WORKING,
    ) -> dict[str, Any]:
        """Per role and per policy file what changes (every field, not only permissions), and who gains or loses."""
        result = await policy_impact(db_session, state.settings.policies_dir, from_name=from_name, to_name=to_name)
        return result.as_json()
