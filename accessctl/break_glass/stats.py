"""Break-the-glass statistics per unit, role, user or reason, so that routine use stands out (DPIA reporting).

A group's `share_of_accesses` is its break-the-glass accesses (permits opened by a grant) over all its accesses
to patient data (every permit about a patient) in the period. Reasons are not a property of ordinary accesses, so
per reason the share is taken of every patient access in the reviewer's scope.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, SQLColumnExpression, Text, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.models import AuditEventRow
from accessctl.break_glass.models import BreakGlassGrant, BreakGlassReview
from accessctl.break_glass.scope import ReviewerScope

GroupBy = Literal["unit", "role", "user", "reason"]
GROUPS: tuple[GroupBy, ...] = ("unit", "role", "user", "reason")


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One group's grants, how many were reviewed and found unjustified, and its share of patient accesses."""

    group: str
    grants: int
    reviewed: int
    share_reviewed: float
    unjustified: int
    break_glass_accesses: int
    patient_accesses: int
    share_of_accesses: float | None


def _grant_column(group_by: GroupBy) -> SQLColumnExpression[str]:
    g = BreakGlassGrant
    return {"unit": g.unit_id, "role": g.role_id, "user": g.user_id, "reason": g.reason_code}[group_by]


async def break_glass_stats(
    session: AsyncSession, scope: ReviewerScope, start: datetime, end: datetime, group_by: GroupBy
) -> list[GroupStats]:
    """Per group, over grants made and accesses taken in [start, end), within the reviewer's scope; most used first."""
    g, r = BreakGlassGrant, BreakGlassReview
    key = _grant_column(group_by)
    grants = await session.execute(
        select(
            key,
            func.count(),
            func.sum(case((r.status != "pending", 1), else_=0)),
            func.sum(case((r.status == "unjustified", 1), else_=0)),
        )
        .join(r, r.grant_id == g.id)
        .where(g.granted_at >= start, g.granted_at < end, scope.where(g.organisation_id, g.unit_id))
        .group_by(key)
    )
    counted = {str(k): (int(n), int(done or 0), int(bad or 0)) for k, n, done, bad in grants}
    opened = await _break_glass_accesses(session, scope, start, end, key)
    everything = await _patient_accesses(session, scope, start, end, group_by)
    rows = []
    for group in sorted(counted.keys() | opened.keys()):
        n, done, bad = counted.get(group, (0, 0, 0))
        total = everything.get(group, 0) if group_by != "reason" else everything.get("", 0)
        used = opened.get(group, 0)
        rows.append(
            GroupStats(
                group=group,
                grants=n,
                reviewed=done,
                share_reviewed=done / n if n else 0.0,
                unjustified=bad,
                break_glass_accesses=used,
                patient_accesses=total,
                share_of_accesses=used / total if total else None,
            )
        )
    rows.sort(key=lambda s: (-s.grants, -s.break_glass_accesses, s.group))
    return rows


def _accesses_in(scope: ReviewerScope, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    a = AuditEventRow
    return [
        a.action == actions.DECISION_PERMIT,
        a.patient.is_not(None),
        a.occurred_at >= start,
        a.occurred_at < end,
        scope.where(a.organisation_id, a.unit_id),
    ]


async def _break_glass_accesses(
    session: AsyncSession, scope: ReviewerScope, start: datetime, end: datetime, key: SQLColumnExpression[str]
) -> dict[str, int]:
    """Permits opened by a grant, grouped by the grant's unit, role, user or reason."""
    a, g = AuditEventRow, BreakGlassGrant
    found = await session.execute(
        select(key, func.count())
        .select_from(a)
        .join(g, g.id == a.break_glass_grant_id)
        .where(*_accesses_in(scope, start, end))
        .group_by(key)
    )
    return {str(k): int(n) for k, n in found}


async def _patient_accesses(
    session: AsyncSession, scope: ReviewerScope, start: datetime, end: datetime, group_by: GroupBy
) -> dict[str, int]:
    """Every permit about a patient, per unit, user or role (a decision may name several roles); "" is the total."""
    a = AuditEventRow
    where = _accesses_in(scope, start, end)
    if group_by in {"unit", "user"}:
        column = a.unit_id if group_by == "unit" else a.user_id
        found = await session.execute(select(column, func.count()).where(*where).group_by(column))
        return {str(k): int(n) for k, n in found}
    if group_by == "reason":
        return {"": int(await session.scalar(select(func.count()).select_from(a).where(*where)) or 0)}
    # Roles are a JSON list; the distinct lists are few, so count per list and spread over its roles here.
    roles_text = cast(a.roles, Text)
    per_role: Counter[str] = Counter()
    for listed, n in await session.execute(select(roles_text, func.count()).where(*where).group_by(roles_text)):
        for role in json.loads(listed or "[]"):
            per_role[str(role)] += int(n)
    return dict(per_role)
