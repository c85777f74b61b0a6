"""Every table, imported in one place so Alembic sees the whole metadata."""

from accessctl.audit.models import AuditCheckpointRow, AuditEventRow
from accessctl.break_glass.models import BreakGlassGrant, BreakGlassReview, OutboxNotification
from accessctl.changes.models import EngineChange
from accessctl.context.models import CareRelation, PatientBlock
from accessctl.db import Base
from accessctl.directory.models import Employment, Organisation, Service, Unit, UnitService, User
from accessctl.hr_sync.run_models import SyncRun
from accessctl.policies.models import Role, RoleAssignment

__all__ = [
    "AuditCheckpointRow",
    "AuditEventRow",
    "Base",
    "BreakGlassGrant",
    "BreakGlassReview",
    "CareRelation",
    "Employment",
    "EngineChange",
    "Organisation",
    "OutboxNotification",
    "PatientBlock",
    "Role",
    "RoleAssignment",
    "Service",
    "SyncRun",
    "Unit",
    "UnitService",
    "User",
]
