"""Every table, imported in one place so Alembic sees the whole metadata."""

from accessctl.context.models import CareRelation, PatientBlock
from accessctl.db import Base
from accessctl.directory.models import Employment, Organisation, Service, Unit, UnitService, User
from accessctl.policies.models import Role, RoleAssignment

__all__ = [
    "Base",
    "CareRelation",
    "Employment",
    "Organisation",
    "PatientBlock",
    "Role",
    "RoleAssignment",
    "Service",
    "Unit",
    "UnitService",
    "User",
]
