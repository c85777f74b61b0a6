"""Request and response shapes of the break-the-glass API."""

from __future__ import annotations

from datetime import datetime

import msgspec

from accessctl.break_glass import BreakGlassGrant, GrantRequest, GroupStats, ReviewItem


class GrantIn(msgspec.Struct, forbid_unknown_fields=True):
    user: str
    unit: str
    patient: str
    reason_code: str
    reason_text: str
    duration_minutes: int
    client_system: str | None = None
    workstation: str | None = None

    def ask(self) -> GrantRequest:
        return GrantRequest(
            user=self.user,
            unit=self.unit,
            patient=self.patient,
            reason_code=self.reason_code,
            reason_text=self.reason_text,
            duration_minutes=self.duration_minutes,
            client_system=self.client_system,
            workstation=self.workstation,
        )


class GrantOut(msgspec.Struct):
    id: str
    status: str
    user: str
    unit: str
    organisation: str
    role: str
    patient: str
    reason_code: str
    purpose_of_use: str
    reason_text: str
    duration_minutes: int
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, g: BreakGlassGrant, now: datetime) -> GrantOut:
        if g.ended_at is not None and g.ended_at < g.expires_at:
            status = "ended"
        else:
            status = "active" if now < g.expires_at else "expired"
        return cls(
            id=g.id,
            status=status,
            user=g.user_id,
            unit=g.unit_id,
            organisation=g.organisation_id,
            role=g.role_id,
            patient=g.patient,
            reason_code=g.reason_code,
            purpose_of_use=g.purpose_of_use,
            reason_text=g.reason_text,
            duration_minutes=g.duration_minutes,
            granted_at=g.granted_at,
            expires_at=g.expires_at,
            ended_at=g.ended_at,
        )


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: str
    comment: str


class ReviewOut(msgspec.Struct):
    id: str
    status: str
    overdue: bool
    user: str
    unit: str
    organisation: str
    role: str
    patient: str
    reason_code: str
    purpose_of_use: str
    reason_text: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    accesses: int
    reviewer: str | None
    comment: str | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, item: ReviewItem) -> ReviewOut:
        return cls(**{f: getattr(item, f) for f in cls.__struct_fields__})


class GroupStatsOut(msgspec.Struct):
    group: str
    grants: int
    reviewed: int
    share_reviewed: float
    unjustified: int
    break_glass_accesses: int
    patient_accesses: int
    share_of_accesses: float | None

    @classmethod
    def of(cls, stats: GroupStats) -> GroupStatsOut:
        return cls(**{f: getattr(stats, f) for f in cls.__struct_fields__})


class StatsOut(msgspec.Struct):
    from_: datetime = msgspec.field(name="from")
    to: datetime
    group_by: str
    groups: list[GroupStatsOut]
