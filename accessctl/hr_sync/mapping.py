"""SCIM JSON <-> records (Users and Groups): pure, no web and no database; each problem names the SCIM attribute."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accessctl.hr_sync.errors import InvalidSyntax, InvalidValue, MutabilityViolation
from accessctl.hr_sync.org_tree import UnitRecord
from accessctl.hr_sync.records import EmploymentRecord, EnterpriseRecord, StoredUser, UnitGroup, UserRecord
from accessctl.hr_sync.schemas import ENTERPRISE, GROUP, HEALTH, UNIT, USER
from accessctl.identifiers import is_valid_hpr_number

EMPLOYMENTS = f"{HEALTH}:employments"
HPR_NUMBER = f"{HEALTH}:hprNumber"
UNIT_ORGANISATION = f"{UNIT}:organisation"
UNIT_PARENT = f"{UNIT}:parent"
UNIT_KIND = f"{UNIT}:kind"
UNIT_SERVICES = f"{UNIT}:services"
# Enterprise attributes kept as text: SCIM name -> `EnterpriseRecord` field.
_ENTERPRISE_TEXT = {
    "employeeNumber": "employee_number",
    "costCenter": "cost_center",
    "organization": "organization",
    "division": "division",
    "department": "department",
}


def field(body: dict[str, Any], name: str) -> Any:
    """An attribute by name, case-insensitively (RFC 7643 §2.1)."""
    if name in body:
        return body[name]
    lowered = name.lower()
    return next((v for k, v in body.items() if k.lower() == lowered), None)


def _text(value: Any, attr: str, *, required: bool, max_length: int) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidValue(f"{attr} is required", field=attr)
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{attr} must be a string", field=attr)
    value = value.strip()
    if required and not value:
        raise InvalidValue(f"{attr} is required", field=attr)
    if len(value) > max_length:
        raise InvalidValue(f"{attr} is longer than {max_length} characters", field=attr)
    return value or None


def _required_text(value: Any, attr: str, max_length: int) -> str:
    text = _text(value, attr, required=True, max_length=max_length)
    assert text is not None
    return text


def parse_datetime(value: Any, attr: str) -> datetime:
    """An xsd:dateTime; one without a zone is taken as UTC."""
    if not isinstance(value, str):
        raise InvalidValue(f"{attr} must be a dateTime string", field=attr)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidValue(f"{attr} is not a dateTime: {value!r}", field=attr) from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is a moment before year 1 in UTC
        raise InvalidValue(f"{attr} is out of range in UTC: {value!r}", field=attr) from None


def format_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _email(emails: Any) -> str | None:
    """The one address accessctl keeps: the primary, else the work one, else the first."""
    if emails is None:
        return None
    if not isinstance(emails, list) or not all(isinstance(e, dict) for e in emails):
        raise InvalidValue("emails must be a list of objects", field="emails")
    chosen = (
        next((e for e in emails if field(e, "primary") is True), None)
        or next((e for e in emails if str(field(e, "type") or "").lower() == "work"), None)
        or (emails[0] if emails else None)
    )
    if chosen is None:
        return None
    address = _text(field(chosen, "value"), "emails.value", required=True, max_length=254)
    if address is None or "@" not in address:
        raise InvalidValue("emails.value must be an e-mail address", field="emails.value")
    return address


def _employment(raw: Any, index: int) -> EmploymentRecord:
    at = f"{EMPLOYMENTS}[{index}]"
    if not isinstance(raw, dict):
        raise InvalidValue(f"{at} must be an object", field=at)
    unit = _required_text(field(raw, "unit"), f"{at}.unit", 64)
    position = _required_text(field(raw, "positionCode"), f"{at}.positionCode", 32)
    if field(raw, "validFrom") is None:
        raise InvalidValue(f"{at}.validFrom is required", field=f"{at}.validFrom")
    valid_from = parse_datetime(field(raw, "validFrom"), f"{at}.validFrom")
    raw_to = field(raw, "validTo")
    valid_to = None if raw_to in (None, "") else parse_datetime(raw_to, f"{at}.validTo")
    if valid_to is not None and valid_to <= valid_from:
        raise InvalidValue(f"{at}.validTo must be after validFrom", field=f"{at}.validTo")
    return EmploymentRecord(unit, position, valid_from, valid_to)


def _employments(raw: Any) -> tuple[EmploymentRecord, ...]:
    if raw is None:
        raise InvalidValue(f"{EMPLOYMENTS} is required (at least one employment)", field=EMPLOYMENTS)
    if not isinstance(raw, list) or not raw:
        raise InvalidValue(f"{EMPLOYMENTS} must be a non-empty list", field=EMPLOYMENTS)
    jobs = tuple(_employment(item, index) for index, item in enumerate(raw))
    slots = [(j.unit, j.position_code, j.valid_from) for j in jobs]
    for index, slot in enumerate(slots):
        if slot in slots[:index]:
            at = f"{EMPLOYMENTS}[{index}]"
            raise InvalidValue(f"{at} repeats an earlier employment (same unit, position, validFrom)", field=at)
    return jobs


def _enterprise(raw: Any) -> EnterpriseRecord:
    """HR's Enterprise attributes as sent; left out (or the extension left out) means none."""
    if raw is None:
        return EnterpriseRecord()
    if not isinstance(raw, dict):
        raise InvalidValue(f"{ENTERPRISE} must be an object", field=ENTERPRISE)
    values = {
        name: _text(field(raw, attr), f"{ENTERPRISE}:{attr}", required=False, max_length=200)
        for attr, name in _ENTERPRISE_TEXT.items()
    }
    manager = field(raw, "manager")
    if manager is not None and not isinstance(manager, dict):
        raise InvalidValue(f"{ENTERPRISE}:manager must be an object", field=f"{ENTERPRISE}:manager")
    at = f"{ENTERPRISE}:manager.value"
    manager_id = _text(field(manager or {}, "value"), at, required=False, max_length=200)
    return EnterpriseRecord(**values, manager=manager_id)


def user_from_scim(body: Any) -> UserRecord:
    """Read a SCIM User (POST/PUT body, or a patched representation); read-only attributes are ignored."""
    if not isinstance(body, dict):
        raise InvalidSyntax("the body must be a JSON object", field="body")
    schemas = field(body, "schemas")
    if not isinstance(schemas, list) or USER.lower() not in {str(s).lower() for s in schemas}:
        raise InvalidSyntax(f"schemas must list {USER}", field="schemas")
    name = field(body, "name")
    if name is not None and not isinstance(name, dict):
        raise InvalidValue("name must be an object", field="name")
    name = name or {}
    health = field(body, HEALTH) or {}
    if not isinstance(health, dict):
        raise InvalidValue(f"{HEALTH} must be an object", field=HEALTH)
    hpr = _text(field(health, "hprNumber"), HPR_NUMBER, required=False, max_length=9)
    if hpr is not None and not is_valid_hpr_number(hpr):
        raise InvalidValue(f"{HPR_NUMBER} must be 7 to 9 digits without a leading zero", field=HPR_NUMBER)
    active = field(body, "active")
    if active is not None and not isinstance(active, bool):
        raise InvalidValue("active must be true or false", field="active")
    return UserRecord(
        hr_id=_required_text(field(body, "externalId"), "externalId", 64),
        user_name=_required_text(field(body, "userName"), "userName", 200),
        given_name=_required_text(field(name, "givenName"), "name.givenName", 100),
        family_name=_required_text(field(name, "familyName"), "name.familyName", 100),
        email=_email(field(body, "emails")),
        hpr_number=hpr,
        active=True if active is None else active,
        employments=_employments(field(health, "employments")),
        enterprise=_enterprise(field(body, ENTERPRISE)),
    )


def _employment_json(job: EmploymentRecord) -> dict[str, Any]:
    out = {"unit": job.unit, "positionCode": job.position_code, "validFrom": format_datetime(job.valid_from)}
    if job.valid_to is not None:
        out["validTo"] = format_datetime(job.valid_to)
    return out


def user_to_scim(user: StoredUser, location: str) -> dict[str, Any]:
    """The full SCIM representation of a stored user (before `attributes` projection)."""
    record = user.record
    enterprise = record.enterprise.stored() if record.enterprise is not None else None
    health: dict[str, Any] = {"employments": [_employment_json(job) for job in record.employments]}
    if record.hpr_number:
        health["hprNumber"] = record.hpr_number
    body: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE, HEALTH] if enterprise else [USER, HEALTH],
        "id": user.id,
        "externalId": record.hr_id,
        "userName": record.user_name,
        "name": {"givenName": record.given_name, "familyName": record.family_name},
        "displayName": f"{record.given_name} {record.family_name}",
        "active": record.active,
    }
    if record.email:
        body["emails"] = [{"value": record.email, "type": "work"}]
    if enterprise:
        body[ENTERPRISE] = enterprise
    body[HEALTH] = health
    body["meta"] = {
        "resourceType": "User",
        "created": format_datetime(user.created_at),
        "lastModified": format_datetime(user.updated_at),
        "version": weak_etag(user.version),
        "location": location,
    }
    return body


def weak_etag(version: int) -> str:
    return f'W/"{version}"'


def group_to_scim(group: UnitGroup, base_url: str) -> dict[str, Any]:
    """The SCIM Group for a unit; members point at their /Users resource."""
    body: dict[str, Any] = {
        "schemas": [GROUP, UNIT],
        "id": group.id,
        "externalId": group.id,
        "displayName": group.name,
    }
    if group.members:
        body["members"] = [
            {"value": user_id, "$ref": f"{base_url}/Users/{user_id}", "display": display, "type": "User"}
            for user_id, display in group.members
        ]
    unit: dict[str, Any] = {"organisation": group.organisation, "kind": group.kind}
    if group.parent is not None:
        unit["parent"] = group.parent
    if group.services:
        unit["services"] = list(group.services)
    body[UNIT] = unit
    body["meta"] = {
        "resourceType": "Group",
        "lastModified": format_datetime(group.updated_at),
        "version": weak_etag(group.version),
        "location": f"{base_url}/Groups/{group.id}",
    }
    return body


def _services(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) and s.strip() for s in raw):
        raise InvalidValue(f"{UNIT_SERVICES} must be a list of service ids", field=UNIT_SERVICES)
    return tuple(sorted({s.strip() for s in raw}))


def group_from_scim(body: Any, current: UnitGroup | None = None) -> tuple[str, UnitRecord]:
    """Read a SCIM Group (POST/PUT body, or a patched representation) as (organisation number, unit).

    `current` is the Group being replaced: its externalId (the unit id) and organisation cannot change.
    A PUT replaces: a parent left out makes a root, services left out mean none, kind left out a department.
    """
    if not isinstance(body, dict):
        raise InvalidSyntax("the body must be a JSON object", field="body")
    schemas = field(body, "schemas")
    if not isinstance(schemas, list) or GROUP.lower() not in {str(s).lower() for s in schemas}:
        raise InvalidSyntax(f"schemas must list {GROUP}", field="schemas")
    unit = field(body, UNIT)
    if not isinstance(unit, dict):
        raise InvalidValue(f"{UNIT} is required (organisation, parent, kind, services)", field=UNIT)
    external_id = _text(field(body, "externalId"), "externalId", required=current is None, max_length=64)
    organisation = _required_text(field(unit, "organisation"), UNIT_ORGANISATION, 64)
    if current is not None:
        if external_id not in (None, current.id):
            raise MutabilityViolation(f"externalId is the unit id {current.id!r}; it cannot change", field="externalId")
        if organisation != current.organisation:
            message = f"the unit belongs to organisation {current.organisation}; it cannot move to another"
            raise MutabilityViolation(message, field=UNIT_ORGANISATION)
    unit_id = external_id or (current.id if current is not None else "")
    if any(c.isspace() or c in "/?#" for c in unit_id):
        raise InvalidValue(
            "externalId (the unit id, in the Group's URL) cannot hold spaces, /, ? or #", field="externalId"
        )
    record = UnitRecord(
        id=unit_id,
        name=_required_text(field(body, "displayName"), "displayName", 200),
        parent=_text(field(unit, "parent"), UNIT_PARENT, required=False, max_length=64),
        kind=_text(field(unit, "kind"), UNIT_KIND, required=False, max_length=32) or "department",
        services=_services(field(unit, "services")),
    )
    return organisation, record
