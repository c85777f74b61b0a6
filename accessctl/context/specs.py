"""What a clinical system sends for a care relation or a patient block, validated into domain terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accessctl.context.models import BLOCK_CATEGORIES, CARE_RELATION_KINDS
from accessctl.errors import InvalidInput
from accessctl.identifiers import is_valid_national_id
from accessctl.inputs import checked_text
from accessctl.moments import utc_moment

MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class CareRelationSpec:
    patient: str
    kind: str
    valid_from: datetime
    valid_to: datetime | None
    user: str | None = None
    unit: str | None = None

    def check(self, prefix: str = "") -> None:
        check_patient(self.patient, prefix)
        if self.kind not in CARE_RELATION_KINDS:
            raise InvalidInput(f"{prefix}kind must be one of {', '.join(CARE_RELATION_KINDS)}", field=f"{prefix}kind")
        if (self.user is None) == (self.unit is None):
            raise InvalidInput("give exactly one of user and unit", field=f"{prefix}user")
        check_reference(self.user, f"{prefix}user")
        check_reference(self.unit, f"{prefix}unit")
        check_window(self.valid_from, self.valid_to, prefix)


@dataclass(frozen=True)
class PatientBlockSpec:
    patient: str
    reason: str
    valid_from: datetime
    valid_to: datetime | None
    user: str | None = None
    unit: str | None = None
    category: str | None = None

    def check(self, prefix: str = "") -> None:
        check_patient(self.patient, prefix)
        targets = [t for t in (self.user, self.unit, self.category) if t is not None]
        if len(targets) != 1:
            raise InvalidInput("give exactly one of user, unit and category", field=f"{prefix}user")
        check_reference(self.user, f"{prefix}user")
        check_reference(self.unit, f"{prefix}unit")
        if self.category is not None and self.category not in BLOCK_CATEGORIES:
            raise InvalidInput(f"category must be one of {', '.join(BLOCK_CATEGORIES)}", field=f"{prefix}category")
        if not self.reason.strip():
            raise InvalidInput("reason must not be empty", field=f"{prefix}reason")
        if len(self.reason) > 500:
            raise InvalidInput("reason is longer than 500 characters", field=f"{prefix}reason")
        if "\x00" in self.reason:
            raise InvalidInput("reason contains a NUL character", field=f"{prefix}reason")
        check_window(self.valid_from, self.valid_to, prefix)


def check_patient(patient: str, prefix: str = "") -> None:
    if not is_valid_national_id(patient):
        raise InvalidInput(
            "patient must be an 11-digit national identity number with valid check digits",
            field=f"{prefix}patient",
        )


def check_window(valid_from: datetime, valid_to: datetime | None, prefix: str = "") -> None:
    for name, value in (("valid_from", valid_from), ("valid_to", valid_to)):
        if value is not None:
            utc_moment(value, f"{prefix}{name}")
    if valid_to is not None and valid_to <= valid_from:
        raise InvalidInput("valid_to must be after valid_from", field=f"{prefix}valid_to")


def check_reference(value: str | None, field: str) -> None:
    """A user or unit id as the directory spells them: 1 to MAX_ID_LENGTH characters, no NUL (which PostgreSQL's
    text cannot hold: the lookup would fail instead of answering "no such unit")."""
    if value is None:
        return
    if not value:
        raise InvalidInput(f"{field} must not be empty", field=field)
    checked_text(value, field, longest=MAX_ID_LENGTH)


def check_id(value: str, field: str = "id") -> None:
    if not value or len(value) > MAX_ID_LENGTH or any(c in value for c in ",\"'\n\r\t \x00"):
        raise InvalidInput(
            f"{field} must be 1 to {MAX_ID_LENGTH} characters without spaces, commas or quotes", field=field
        )
