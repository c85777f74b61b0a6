"""Directory entries to records through the mapping; a bad entry becomes an error that names its DN and field."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from accessctl.hr_sync.ldap.config import EntrySet, FieldSpec
from accessctl.hr_sync.ldap.source import DirectoryEntry, normal_dn
from accessctl.hr_sync.records import EmploymentRecord, UserRecord
from accessctl.hr_sync.runs import RecordError
from accessctl.identifiers import is_valid_hpr_number

_LIMITS = {
    "hr_id": 64,
    "user_name": 200,
    "given_name": 100,
    "family_name": 100,
    "email": 254,
    "unit": 64,
    "position_code": 32,
    "id": 64,
    "name": 200,
    "kind": 32,
}


class FieldProblem(Exception):
    """One field of one entry is missing or wrong."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def field_value(entry: DirectoryEntry, name: str, spec: FieldSpec | None, *, required: bool) -> str | None:
    """The field's value: the attribute's first value, cut by the pattern; the default when absent."""
    if spec is None:
        value = None
    else:
        values = entry.values(spec.attribute)
        value = values[0].strip() if values else None
        regex = spec.regex()
        if value and regex is not None:
            match = next((m for v in values if (m := regex.search(v))), None)
            if match is None and required:
                raise FieldProblem(name, f"{spec.attribute} does not match the pattern {spec.pattern!r}")
            value = None if match is None else (match.group(1) if regex.groups else match.group(0)).strip()
        value = value or spec.default
    if required and not value:
        where = f" (attribute {spec.attribute})" if spec is not None else ""
        raise FieldProblem(name, f"{name} is required{where}")
    limit = _LIMITS.get(name)
    if value and limit is not None and len(value) > limit:
        raise FieldProblem(name, f"{name} is longer than {limit} characters")
    return value


def parse_moment(text: str, name: str) -> datetime:
    """A GeneralizedTime (20260101000000Z), a date (2026-01-01, taken as 00:00 UTC) or an ISO date-time."""
    value = text.strip()
    try:
        if len(value) >= 14 and value[:14].isdigit():
            return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        if len(value) == 8 and value.isdigit():
            return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: a moment before year 1 or after 9999 in UTC
        raise FieldProblem(name, f"{name} is not a date: {text!r}") from None


def _get(entry: DirectoryEntry, entries: EntrySet, name: str, required: bool = False) -> str | None:
    return field_value(entry, name, entries.spec(name), required=required)


def _need(entry: DirectoryEntry, entries: EntrySet, name: str) -> str:
    value = _get(entry, entries, name, required=True)
    assert value is not None
    return value


def user_from_entry(entry: DirectoryEntry, users: EntrySet) -> UserRecord:
    """A user record without employments (they come from their own entries)."""
    hpr = _get(entry, users, "hpr_number")
    if hpr is not None and not is_valid_hpr_number(hpr):
        raise FieldProblem("hpr_number", f"HPR number {hpr!r} is not 7 to 9 digits without a leading zero")
    email = _get(entry, users, "email")
    if email is not None and "@" not in email:
        raise FieldProblem("email", f"{email!r} is not an e-mail address")
    active_spec = users.spec("active")
    active = True
    if active_spec is not None:
        flags = {v.strip().lower() for v in entry.values(active_spec.attribute)}
        active = not flags & {v.lower() for v in active_spec.inactive_values}
    return UserRecord(
        hr_id=_need(entry, users, "hr_id"),
        user_name=_need(entry, users, "user_name"),
        given_name=_need(entry, users, "given_name"),
        family_name=_need(entry, users, "family_name"),
        email=email,
        hpr_number=hpr,
        active=active,
    )


def employment_from_entry(entry: DirectoryEntry, employments: EntrySet) -> tuple[str, EmploymentRecord]:
    """(the user it belongs to, as a normalised DN or an HR id; the employment)."""
    user = _need(entry, employments, "user")
    valid_from = parse_moment(_need(entry, employments, "valid_from"), "valid_from")
    raw_to = _get(entry, employments, "valid_to")
    valid_to = None if raw_to is None else parse_moment(raw_to, "valid_to")
    if valid_to is not None and valid_to <= valid_from:
        raise FieldProblem("valid_to", f"valid_to {raw_to} is not after valid_from")
    job = EmploymentRecord(
        _need(entry, employments, "unit"), _need(entry, employments, "position_code"), valid_from, valid_to
    )
    return (normal_dn(user) if employments.user_refers_to == "dn" else user), job


@dataclass
class UserRead:
    """The users read from the directory, each with all its employments, and the entries that were rejected."""

    users: dict[str, UserRecord] = field(default_factory=dict)
    dn_of: dict[str, str] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    # HR ids of rejected users: they are not leavers just because their record was bad.
    rejected: set[str] = field(default_factory=set)
    # True when an entry was rejected before its HR id could be read: absent users may then be that entry.
    unidentified: bool = False
    # True when an employment entry was rejected before its user could be read: any user may be missing it.
    untied_employment: bool = False


def read_users(
    user_entries: Iterable[DirectoryEntry], job_entries: Iterable[DirectoryEntry], users: EntrySet, jobs: EntrySet
) -> UserRead:
    """Join users and their employment entries; a bad employment rejects its whole user (never half a user)."""
    read = UserRead()
    by_key: dict[str, tuple[UserRecord, str]] = {}
    bad_users: set[str] = set()
    seen: dict[str, list[str]] = defaultdict(list)
    for entry in user_entries:
        try:
            record = user_from_entry(entry, users)
        except FieldProblem as problem:
            read.errors.append(RecordError(entry.dn, problem.name, problem.message))
            hr_id = readable_hr_id(entry, users)
            bad_users.add(normal_dn(entry.dn) if jobs.user_refers_to == "dn" else (hr_id or entry.dn))
            if hr_id is None:
                read.unidentified = True
            else:
                read.rejected.add(hr_id)
                read.dn_of[hr_id] = entry.dn
            continue
        seen[record.hr_id].append(entry.dn)
        by_key[normal_dn(entry.dn) if jobs.user_refers_to == "dn" else record.hr_id] = (record, entry.dn)
        read.dn_of[record.hr_id] = entry.dn
    employments: dict[str, list[EmploymentRecord]] = defaultdict(list)
    rejected: set[str] = set()
    for entry in job_entries:
        try:
            key, job = employment_from_entry(entry, jobs)
        except FieldProblem as problem:
            read.errors.append(RecordError(entry.dn, problem.name, problem.message))
            owner = employment_owner(entry, jobs)
            if owner is None:
                read.untied_employment = True
            else:
                rejected.add(owner)
            continue
        if key not in by_key:
            if key not in bad_users:  # a rejected user's employments are not errors of their own
                read.errors.append(RecordError(entry.dn, "user", f"no user entry {key} in this run"))
            continue
        employments[key].append(job)
    for key, (record, dn) in by_key.items():
        if len(seen[record.hr_id]) > 1:
            count = len(seen[record.hr_id])
            read.errors.append(RecordError(dn, "hr_id", f"HR id {record.hr_id} is on {count} entries"))
            read.rejected.add(record.hr_id)
            continue
        if key in rejected:
            read.errors.append(RecordError(dn, "employments", "an employment entry of this user is invalid"))
            read.rejected.add(record.hr_id)
            continue
        jobs_of = sorted(employments.get(key, ()), key=lambda j: (j.valid_from, j.unit, j.position_code))
        read.users[record.hr_id] = replace(record, employments=tuple(jobs_of))
    return read


def employment_owner(entry: DirectoryEntry, jobs: EntrySet) -> str | None:
    """The key of the user an employment entry belongs to, read as a good one's is; None when unreadable."""
    try:
        user = _get(entry, jobs, "user")
    except FieldProblem:
        return None
    if user is None:
        return None
    return normal_dn(user) if jobs.user_refers_to == "dn" else user


def readable_hr_id(entry: DirectoryEntry, users: EntrySet) -> str | None:
    """A user entry's HR id, pattern included; None when it cannot be read."""
    try:
        return _get(entry, users, "hr_id")
    except FieldProblem:
        return None


def user_key(entry: DirectoryEntry, users: EntrySet, jobs: EntrySet) -> str | None:
    """The key employments name a user entry by (as `employment_owner` reads it): its normalised DN, or its HR id."""
    return normal_dn(entry.dn) if jobs.user_refers_to == "dn" else readable_hr_id(entry, users)
