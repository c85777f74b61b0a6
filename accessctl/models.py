"""Every table, imported in one place so Alembic sees the whole metadata."""

from accessctl.audit.models import AuditCheckpointRow, AuditEventRow
from accessctl.changes.models import EngineChange
from accessctl.context.models import CareRelation, PatientBlock
from accessctl.db import Base
from accessctl.directory.models import Employment, Organisation, Service, Unit, UnitService, User
from accessctl.policies.models import Role, RoleAssignment

__all__ = [
    "AuditCheckpointRow",
    "AuditEventRow",
    "Base",
    "CareRelation",
    "Employment",
    "EngineChange",
    "Organisation",
    "PatientBlock",
    "Role",
    "RoleAssignment",
    "Service",
    "Unit",
    "UnitService",
    "User",
]
