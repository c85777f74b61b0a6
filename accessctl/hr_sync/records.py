"""A user as HR sends it and as accessctl stores it: plain data, no SCIM and no database in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EmploymentRecord:
    """User x unit x position code over [valid_from, valid_to)."""

    unit: str
    position_code: str
    valid_from: datetime
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    """Everything HR owns about one health worker; a write replaces all of it."""

    hr_id: str
    user_name: str
    given_name: str
    family_name: str
    email: str | None = None
    hpr_number: str | None = None
    active: bool = True
    employments: tuple[EmploymentRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user as read back: the record plus what the server keeps (id, version, times, where they work now)."""

    id: str
    record: UserRecord
    version: int
    created_at: datetime
    updated_at: datetime
    organisation: str | None = None
    department: str | None = None
