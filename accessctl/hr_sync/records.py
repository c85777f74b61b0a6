"""Users and units as HR sends them and as accessctl stores them: plain data, no SCIM and no database in it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class EmploymentRecord:
    """User x unit x position code over [valid_from, valid_to)."""

    unit: str
    position_code: str
    valid_from: datetime
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class EnterpriseRecord:
    """HR's Enterprise User attributes (RFC 7643 §4.3), kept as sent; no decision reads them."""

    employee_number: str | None = None
    cost_center: str | None = None
    organization: str | None = None
    division: str | None = None
    department: str | None = None
    manager: str | None = None  # manager.value, as HR sends it

    def stored(self) -> dict[str, Any] | None:
        """The JSON the users row keeps: SCIM names, only what was sent; None when nothing was."""
        names = {
            "employeeNumber": self.employee_number,
            "costCenter": self.cost_center,
            "organization": self.organization,
            "division": self.division,
            "department": self.department,
        }
        kept: dict[str, Any] = {name: value for name, value in names.items() if value is not None}
        if self.manager is not None:
            kept["manager"] = {"value": self.manager}
        return kept or None

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> EnterpriseRecord:
        data = stored or {}
        manager = data.get("manager")
        return cls(
            employee_number=data.get("employeeNumber"),
            cost_center=data.get("costCenter"),
            organization=data.get("organization"),
            division=data.get("division"),
            department=data.get("department"),
            manager=manager.get("value") if isinstance(manager, dict) else None,
        )


@dataclass(frozen=True, slots=True)
class UserRecord:
    """Everything HR owns about one health worker; a write replaces all of it.

    `enterprise` None means the source does not carry Enterprise attributes (the LDAP pull): the stored ones stay.
    """

    hr_id: str
    user_name: str
    given_name: str
    family_name: str
    email: str | None = None
    hpr_number: str | None = None
    active: bool = True
    employments: tuple[EmploymentRecord, ...] = ()
    enterprise: EnterpriseRecord | None = None


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user as read back: the record plus what the server keeps (id, version, times)."""

    id: str
    record: UserRecord
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UnitGroup:
    """A unit as SCIM shows it: the unit, its organisation's number, its services and who is employed there now."""

    id: str
    name: str
    organisation: str  # organisation number
    parent: str | None
    kind: str
    services: tuple[str, ...]
    updated_at: datetime
    members: tuple[tuple[str, str], ...] = ()  # (user id, display name)

    @property
    def version(self) -> int:
        """A version number for the weak ETag: a digest of what SCIM shows, members included.

        Units carry no version column; any change through any door (SCIM, the org tree, the LDAP pull, an
        employment starting or ending) changes the representation, and with it this number.
        """
        shown = [self.id, self.name, self.organisation, self.parent, self.kind, self.services, self.members]
        digest = hashlib.sha256(json.dumps(shown, separators=(",", ":")).encode()).hexdigest()
        return int(digest[:15], 16)
