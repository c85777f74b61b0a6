"""The patient portal's access log (scope patient-log:read): who has looked at my record; accesses only.

Denied attempts are not shown: they opened nothing, and the log answers "who has looked at my record" (DESIGN §5).
Entries carry names and labelled codes, never internal ids or free text; see `accessctl.audit.patient_log`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery

from accessctl.audit.patient_log import AccessLogEntry, access_log_page
from accessctl.errors import Forbidden
from accessctl.web.audit_views import cursor_position
from accessctl.web.auth import principal_of, requires
from accessctl.web.dependencies import DbSession
from accessctl.web.directory import Limit
from accessctl.web.pagination import DEFAULT_LIMIT, Page, check_limit, encode_cursor


class AccessReason(msgspec.Struct):
    """Why the access was allowed: basis care_relation (code: its kind), break_glass (code: reason) or role."""

    basis: str
    code: str | None
    label: str


class DataKind(msgspec.Struct):
    type: str
    label: str


class AccessLogItem(msgspec.Struct):
    """One access, as the patient sees it."""

    at: datetime
    who: str
    roles: list[str]
    unit: str
    organisation: str
    data: DataKind
    access: str
    why: AccessReason

    @classmethod
    def of(cls, entry: AccessLogEntry) -> AccessLogItem:
        return cls(
            at=entry.at,
            who=entry.who,
            roles=entry.roles,
            unit=entry.unit,
            organisation=entry.organisation,
            data=DataKind(type=entry.data_type, label=entry.data_label),
            access=entry.access,
            why=AccessReason(basis=entry.why.basis, code=entry.why.code, label=entry.why.label),
        )


class PatientAccessLogController(Controller):
    path = "/v1/audit/patients"
    guards = [requires("patient-log:read")]
    tags = ["patient portal"]

    @get("/{patient_id:str}/access-log")
    async def access_log(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        patient_id: FromPath[str],
        cursor: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[AccessLogItem]:
        """Accesses to the patient's record (permits only), newest first; the token's `patient` must be this one."""
        if principal_of(request).claims.get("patient") != patient_id:
            raise Forbidden("this token may read only the access log of the patient it was issued for", field="patient")
        after = cursor_position(cursor)
        entries, end = await access_log_page(db_session, patient_id, after=after, limit=check_limit(limit))
        next_cursor = encode_cursor([end[0].isoformat(), end[1]]) if end is not None else None
        return Page(items=[AccessLogItem.of(entry) for entry in entries], next_cursor=next_cursor)
