"""A patient's own access log (innsynslogg): who has looked at my record, from where, when, what and why.

Only accesses are shown: decisions that were permits (`decision.permit`). Denied attempts opened nothing, so they
are not "who has looked at my record"; privacy officers see them through the audit query API. Each entry names
people, roles, units and organisations by their names and gives codes with labels; it never carries an internal
id (user, unit, organisation, decision, grant, HPR number) nor any free text (reasons typed by a clinician, the
workstation or client system, `detail` beyond the care relation kind).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent
from accessctl.audit.store import EVENTS, chained_from_row
from accessctl.context.models import CARE_RELATION_KINDS
from accessctl.directory.models import Organisation, Unit, User
from accessctl.policies.models import Role

# Where a page ended: (occurred_at, record hash). The hash orders ties and, unlike the id, names nothing.
LogPosition = tuple[datetime, str]
UNKNOWN = "unknown"

# Patient-facing labels; a type without one is shown as health data in general, never by a guess.
RESOURCE_LABELS = {
    "journal.note": "Clinical notes",
    "journal.medication": "Medicines",
    "journal.lab_result": "Test results",
    "journal.summary": "Summary and critical information",
    "journal.care_plan": "Care plans and care reports",
    "journal.vaccination": "Vaccinations",
    "journal.measurement": "Measurements and vital signs",
    "referral": "Referrals",
    "patient.demographics": "Personal details and contacts",
    "patient.address": "Address",
    "patient.appointment": "Appointments",
    "patient.message": "Messages",
    "patient.access_log": "Access log",
}
CARE_RELATION_LABELS = {
    "admission": "You were admitted",
    "appointment": "You had an appointment",
    "referral": "You were referred",
    "home_care_decision": "You receive home care services",
    "gp_list": "You are on the GP's list",
}
BREAK_GLASS_LABELS = {
    "emergency": "Emergency",
    "unconscious_patient": "You were unconscious",
    "patient_consent": "You gave consent",
    "urgent_referral": "Urgent referral",
}
ACCESS_LABELS = {
    "read": "Read",
    "print": "Printed",
    "export": "Exported",
    "create": "Created",
    "write": "Wrote",
    "sign": "Signed",
    "delete": "Deleted",
}
# A reason code is a short snake_case word; anything else may be typed text and is not shown.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Why:
    """Why access was allowed: a care relation (with its kind), break-the-glass (with its reason code), or role."""

    basis: str
    code: str | None
    label: str


@dataclass(frozen=True)
class AccessLogEntry:
    """One access to the patient's record, as the patient may see it."""

    at: datetime
    who: str
    roles: list[str]
    unit: str
    organisation: str
    data_type: str
    data_label: str
    access: str
    why: Why


def _why(kind: object, grant: str | None, reason_code: str | None) -> Why:
    if grant is not None:
        code = reason_code if reason_code is not None and _CODE.fullmatch(reason_code) else None
        label = BREAK_GLASS_LABELS.get(code or "", "Emergency access")
        return Why("break_glass", code, f"Break-the-glass: {label}")
    if isinstance(kind, str) and kind in CARE_RELATION_KINDS:
        return Why("care_relation", kind, CARE_RELATION_LABELS.get(kind, "Care relation"))
    return Why("role", None, "Access through their role where the data is kept")


async def _names(session: AsyncSession, events: list[AuditEvent]) -> dict[str, dict[str, str]]:
    """Display names for the users, roles, units and organisations the events name, in one query per table."""
    wanted = {
        "role": {role for e in events for role in e.roles},
        "unit": {e.unit_id for e in events if e.unit_id},
        "organisation": {e.organisation_id for e in events if e.organisation_id},
    }
    names: dict[str, dict[str, str]] = {"user": {}, "role": {}, "unit": {}, "organisation": {}}
    users = {e.user_id for e in events if e.user_id}
    if users:
        found = await session.execute(select(User.id, User.given_name, User.family_name).where(User.id.in_(users)))
        names["user"] = {uid: f"{given} {family}" for uid, given, family in found}
    for kind, model in (("role", Role), ("unit", Unit), ("organisation", Organisation)):
        if wanted[kind]:
            found_names = await session.execute(select(model.id, model.name).where(model.id.in_(wanted[kind])))
            names[kind] = {str(key): str(name) for key, name in found_names}
    return names


async def access_log_page(
    session: AsyncSession, patient: str, *, after: LogPosition | None, limit: int
) -> tuple[list[AccessLogEntry], LogPosition | None]:
    """Up to `limit` accesses to `patient`'s record, newest first, and where the page ended (None: no more)."""
    c = EVENTS.c
    query = select(EVENTS).where(c.patient == patient, c.action == actions.DECISION_PERMIT)
    if after is not None:
        at, digest = after
        query = query.where(or_(c.occurred_at < at, and_(c.occurred_at == at, c.hash < digest)))
    result = await session.execute(query.order_by(c.occurred_at.desc(), c.hash.desc()).limit(limit + 1))
    page = [chained_from_row(row._mapping) for row in result]
    more = len(page) > limit
    page = page[:limit]
    names = await _names(session, [chained.event for chained in page])
    entries = [_entry(chained.event, names) for chained in page]
    end = (page[-1].event.occurred_at, page[-1].hash) if more else None
    return entries, end


def _entry(event: AuditEvent, names: dict[str, dict[str, str]]) -> AccessLogEntry:
    resource_type = event.resource_type or ""
    kind = (event.detail or {}).get("care_relation_kind")
    return AccessLogEntry(
        at=event.occurred_at,
        who=names["user"].get(event.user_id or "", UNKNOWN),
        roles=[names["role"][role] for role in event.roles if role in names["role"]],
        unit=names["unit"].get(event.unit_id or "", UNKNOWN),
        organisation=names["organisation"].get(event.organisation_id or "", UNKNOWN),
        data_type=resource_type if resource_type in RESOURCE_LABELS else "other",
        data_label=RESOURCE_LABELS.get(resource_type, "Health data"),
        access=ACCESS_LABELS.get(event.data_action or "", "Opened"),
        why=_why(kind, event.break_glass_grant_id, event.break_glass_reason_code),
    )
