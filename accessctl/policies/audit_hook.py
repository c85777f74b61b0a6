"""Where policy and assignment changes are audited: one hook, given any sink with `record(AuditEvent)`."""

from __future__ import annotations

from typing import Any

from accessctl.audit.events import AuditEvent
from accessctl.audit.sink import AuditSink
from accessctl.db import utcnow


async def record_policy_change(
    audit: AuditSink | None,
    action: str,
    *,
    actor: str,
    policy_version: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one change, done by `actor`; without a sink (no audit writer wired in) nothing is recorded."""
    if audit is None:
        return
    event = AuditEvent(
        action=action,
        occurred_at=utcnow(),
        user_id=actor,
        policy_version=policy_version,
        detail=detail,
    )
    await audit.record(event)
