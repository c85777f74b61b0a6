"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from accessctl.db import Database
from accessctl.migrate import current_revision
from accessctl.pdp import DecisionPoint


@get("/health/live", sync_to_thread=False, include_in_schema=True, tags=["health"])
def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@get("/health/ready", tags=["health"])
async def ready(state: State) -> Response[dict[str, Any]]:
    """The database answers, its schema is at the migrations' head, the audit writer runs and the engine is loaded."""
    database: Database = state.database
    head: str = state.migration_head
    try:
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        return Response(
            {"status": "unavailable", "reason": f"database unreachable: {type(exc).__name__}"}, status_code=503
        )
    current = await current_revision(database.engine)
    if current != head:
        reason = f"database schema at {current or 'none'}, migrations at {head}; run `accessctl db upgrade`"
        return Response({"status": "unavailable", "reason": reason}, status_code=503)
    writer = getattr(state, "audit_writer", None)
    if writer is not None and not writer.running:
        # Every decision about a patient waits for its audit record: without the writer they all answer 503.
        return Response({"status": "unavailable", "reason": "audit writer is not running"}, status_code=503)
    point: DecisionPoint = state.decision_point
    if not point.ready:
        return Response(
            {"status": "unavailable", "reason": f"decision engine not loaded: {point.load_error}"}, status_code=503
        )
    return Response({"status": "ok", "schema": current, "policy_version": point.engine.policy_version}, status_code=200)
