"""Requesting and ending break-the-glass grants; each step's audit record commits in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import AuditEvent, actions
from accessctl.audit.events import MAX_LENGTHS
from accessctl.audit.sink import AuditSink
from accessctl.break_glass.eligibility import BreakGlassRefused, Eligibility, eligibility
from accessctl.break_glass.models import BreakGlassGrant, BreakGlassReview
from accessctl.break_glass.outbox import GRANT_MADE, enqueue, grant_summary
from accessctl.break_glass.reasons import ReasonCatalogue, ReasonCode
from accessctl.changes import log_change
from accessctl.db import serialise
from accessctl.engine import Engine
from accessctl.errors import InvalidInput, NotFound
from accessctl.identifiers import is_valid_national_id
from accessctl.inputs import checked_text


@dataclass(frozen=True, slots=True)
class BreakGlassRules:
    """The configured limits: shortest free text, longest grant without a role maximum, review deadline."""

    min_reason_chars: int = 10
    default_max_minutes: int = 240
    review_overdue_days: int = 7


@dataclass(frozen=True, slots=True)
class GrantRequest:
    """What a clinical system asks for on behalf of its user."""

    user: str
    unit: str
    patient: str
    reason_code: str
    reason_text: str
    duration_minutes: int
    client_system: str | None = None
    workstation: str | None = None


class BreakGlassService:
    """Grants and ends emergency access; every step is audited, and logged for the engines to follow.

    `audit` is the change's audit outbox (`AuditOutbox`): the caller stages its events in the session's
    transaction, so a grant and its `break_glass.granted` record commit together or not at all, and chains them
    before answering. A refusal's record is held there too: the caller commits it before it answers 403.
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        engine: Engine,
        audit: AuditSink,
        reasons: ReasonCatalogue,
        rules: BreakGlassRules,
    ) -> None:
        self._session = session
        self._engine = engine
        self._audit = audit
        self._reasons = reasons
        self._rules = rules

    async def request(self, ask: GrantRequest, now: datetime) -> tuple[BreakGlassGrant, bool]:
        """The new grant (True), or the one already active for this user and patient (False)."""
        reason = self._checked(ask)
        try:
            grounds = eligibility(
                self._engine, ask.user, ask.unit, ask.patient, now, default_max=self._rules.default_max_minutes
            )
        except BreakGlassRefused as refusal:
            await self._audit.record(self._refusal_event(ask, reason, refusal, now))
            raise
        # One request per (user, patient) at a time across replicas, until this transaction ends.
        await serialise(self._session, f"break_glass:{ask.user}:{ask.patient}")
        active = await self.active_grant(ask.user, ask.patient, now)
        if active is not None:
            return active, False
        grant = self._new_grant(ask, reason, grounds, now)
        await self._audit.record(self._granted_event(grant, ask.duration_minutes))
        self._session.add(grant)
        await self._session.flush()
        self._session.add(BreakGlassReview(grant_id=grant.id, status="pending"))
        enqueue(self._session, GRANT_MADE, grant_summary(grant), now)
        await log_change(self._session, "break_glass", grant.id)
        await self._session.flush()
        return grant, True

    async def end(self, grant_id: str, *, by: str, now: datetime) -> BreakGlassGrant:
        """End a grant early; a grant that has already ended or expired is returned as it is."""
        # Locked, so a relay replica cannot audit its expiry meanwhile (one break_glass.ended per grant).
        grant = await self.get(grant_id, lock=True)
        if grant.ended_at is not None or grant.end_recorded_at is not None or grant.expires_at <= now:
            return grant
        await self._audit.record(ended_event(grant, now, how="ended_early", by=by))
        grant.ended_at = now
        grant.ended_by = by
        grant.end_recorded_at = now
        await log_change(self._session, "break_glass", grant.id)
        await self._session.flush()
        return grant

    async def get(self, grant_id: str, *, lock: bool = False) -> BreakGlassGrant:
        checked_text(grant_id, "id")
        grant = await self._session.get(BreakGlassGrant, grant_id, with_for_update=lock)
        if grant is None:
            raise NotFound(f"no break-the-glass grant {grant_id!r}", field="id")
        return grant

    async def active_grant(self, user: str, patient: str, now: datetime) -> BreakGlassGrant | None:
        g = BreakGlassGrant
        grant: BreakGlassGrant | None = await self._session.scalar(
            select(g)
            .where(g.user_id == user, g.patient == patient, g.ended_at.is_(None))
            .where(g.granted_at <= now, g.expires_at > now)
            .order_by(g.expires_at.desc())
            .limit(1)
        )
        return grant

    def _checked(self, ask: GrantRequest) -> ReasonCode:
        # Named as the request names them, before the audit record (user_id, unit_id) would refuse them.
        for field, value, longest in (
            ("user", ask.user, MAX_LENGTHS["user_id"]),
            ("unit", ask.unit, MAX_LENGTHS["unit_id"]),
            ("reason_code", ask.reason_code, None),
            ("reason_text", ask.reason_text, None),
            ("client_system", ask.client_system, MAX_LENGTHS["client_system"]),
            ("workstation", ask.workstation, MAX_LENGTHS["workstation"]),
        ):
            if value is not None:
                checked_text(value, field, longest=longest)
        if not is_valid_national_id(ask.patient):
            raise InvalidInput("patient must be an 11-digit national identity number", field="patient")
        reason = self._reasons.lookup(ask.reason_code)
        if len(ask.reason_text.strip()) < self._rules.min_reason_chars:
            raise InvalidInput(
                f"reason_text must say why in at least {self._rules.min_reason_chars} characters", field="reason_text"
            )
        if ask.duration_minutes < 1:
            raise InvalidInput("duration_minutes must be at least 1", field="duration_minutes")
        return reason

    def _new_grant(self, ask: GrantRequest, reason: ReasonCode, grounds: Eligibility, now: datetime) -> BreakGlassGrant:
        minutes = min(ask.duration_minutes, grounds.max_minutes)
        now = now.replace(microsecond=0)  # expiry is exact to the second, on both databases
        return BreakGlassGrant(
            id=str(uuid.uuid4()),
            user_id=ask.user,
            unit_id=ask.unit,
            organisation_id=grounds.organisation_id,
            role_id=grounds.role_id,
            patient=ask.patient,
            reason_code=reason.code,
            purpose_of_use=reason.purpose_of_use,
            reason_text=ask.reason_text.strip(),
            duration_minutes=minutes,
            granted_at=now,
            expires_at=now + timedelta(minutes=minutes),
            client_system=ask.client_system,
            workstation=ask.workstation,
            audit_event_id=uuid.uuid4(),
        )

    def _who(self, user_id: str) -> dict[str, Any]:
        user = self._engine.user(user_id)
        return {"user_id": user_id, "hpr_number": user.hpr_number if user is not None else None}

    def _granted_event(self, grant: BreakGlassGrant, requested_minutes: int) -> AuditEvent:
        return AuditEvent(
            action=actions.BREAK_GLASS_GRANTED,
            occurred_at=grant.granted_at,
            id=grant.audit_event_id,
            **self._who(grant.user_id),
            roles=(grant.role_id,),
            unit_id=grant.unit_id,
            organisation_id=grant.organisation_id,
            patient=grant.patient,
            outcome="permit",
            reason=grant.reason_code,
            purpose_of_use=grant.purpose_of_use,
            break_glass_grant_id=grant.id,
            break_glass_reason_code=grant.reason_code,
            client_system=grant.client_system,
            workstation=grant.workstation,
            policy_version=self._engine.policy_version,
            detail={
                "reason_text": grant.reason_text,
                "requested_minutes": requested_minutes,
                "duration_minutes": grant.duration_minutes,
                "expires_at": grant.expires_at.isoformat(),
            },
        )

    def _refusal_event(
        self, ask: GrantRequest, reason: ReasonCode, refusal: BreakGlassRefused, now: datetime
    ) -> AuditEvent:
        return AuditEvent(
            action=actions.BREAK_GLASS_REFUSED,
            occurred_at=now,
            **self._who(ask.user),
            unit_id=ask.unit,
            organisation_id=self._engine.organisation_of(ask.unit),
            patient=ask.patient,
            outcome="deny",
            reason=refusal.code,
            purpose_of_use=reason.purpose_of_use,
            break_glass_reason_code=reason.code,
            client_system=ask.client_system,
            workstation=ask.workstation,
            policy_version=self._engine.policy_version,
            detail={"reason_text": ask.reason_text.strip(), "requested_minutes": ask.duration_minutes},
        )


def ended_event(grant: BreakGlassGrant, at: datetime, *, how: str, by: str | None) -> AuditEvent:
    """The break_glass.ended record (DICOM 110138): ended early by someone, or expired."""
    return AuditEvent(
        action=actions.BREAK_GLASS_ENDED,
        occurred_at=at,
        user_id=grant.user_id,
        roles=(grant.role_id,),
        unit_id=grant.unit_id,
        organisation_id=grant.organisation_id,
        patient=grant.patient,
        reason=how,
        purpose_of_use=grant.purpose_of_use,
        break_glass_grant_id=grant.id,
        break_glass_reason_code=grant.reason_code,
        detail={"ended_by": by, "granted_at": grant.granted_at.isoformat(), "expires_at": grant.expires_at.isoformat()},
    )
