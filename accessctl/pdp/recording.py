"""The audit record of one decision about a patient (DESIGN §5: who, what, whose, when, why, from where)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from accessctl.audit import AuditEvent
from accessctl.audit.actions import DECISION_DENY, DECISION_PERMIT
from accessctl.audit.events import MAX_LENGTHS
from accessctl.engine import AccessRequest, Decision, Engine


def _text(context: Mapping[str, Any], name: str) -> str | None:
    """A free-form context value (where the request came from), cut to what its column holds, without NULs."""
    value = context.get(name)
    return value.replace("\x00", "")[: MAX_LENGTHS[name]] or None if isinstance(value, str) else None


def decision_event(
    engine: Engine,
    request: AccessRequest,
    decision: Decision,
    decision_id: uuid.UUID,
    context: Mapping[str, Any],
    at: datetime,
) -> AuditEvent:
    user = engine.user(request.user_id)
    grant = engine.world.patients.grant(decision.grant_id) if decision.grant_id else None
    return AuditEvent(
        action=DECISION_PERMIT if decision.allowed else DECISION_DENY,
        occurred_at=at,
        id=decision_id,
        decision_id=decision_id,
        user_id=request.user_id,
        hpr_number=user.hpr_number if user is not None else None,
        roles=decision.roles,
        unit_id=request.unit_id,
        organisation_id=engine.organisation_of(request.unit_id) if request.unit_id else None,
        patient=request.patient,
        resource_type=request.resource_type,
        resource_id=request.resource_id,
        data_action=request.action,
        outcome="permit" if decision.allowed else "deny",
        reason=str(decision.reason),  # the engine's reasons are StrEnums; the record holds their plain text
        purpose_of_use=request.purpose_of_use,
        break_glass_grant_id=decision.grant_id,
        # The patient's access log shows this code (never the free text) for accesses a grant opened.
        break_glass_reason_code=grant.reason_code if grant is not None else None,
        client_system=_text(context, "client_system"),
        workstation=_text(context, "workstation"),
        policy_version=decision.policy_version,
        detail={"care_relation_kind": decision.care_relation_kind} if decision.care_relation_kind else None,
    )
