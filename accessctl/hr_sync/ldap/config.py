"""The mapping file: where in the directory users, employments and units live, and which attribute feeds which field."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from accessctl.errors import InvalidInput
from accessctl.identifiers import is_valid_org_number

PARENT_ENTRY = "@parent"
USER_FIELDS = {
    "hr_id": True,
    "user_name": True,
    "given_name": True,
    "family_name": True,
    "email": False,
    "hpr_number": False,
    "active": False,
}
EMPLOYMENT_FIELDS = {"user": True, "unit": True, "position_code": True, "valid_from": True, "valid_to": False}
UNIT_FIELDS = {"id": True, "name": True, "parent": False, "organisation_number": False, "kind": False}


class FieldSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Where one field comes from: an attribute, optionally cut out of its value by a pattern's first group."""

    attribute: str
    pattern: str | None = None
    # For `active`: values (compared case-insensitively) that mean the user is deactivated.
    inactive_values: list[str] = []
    default: str | None = None

    def regex(self) -> re.Pattern[str] | None:
        return None if self.pattern is None else re.compile(self.pattern)


class Connection(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How to reach the directory; `ldaps://` is TLS from the start, `start_tls` upgrades an `ldap://` one."""

    url: str
    bind_dn: str | None = None
    start_tls: bool = False
    # PEM file of the CA(s) that may sign the directory's certificate; None: the system's CAs.
    ca_file: str | None = None
    verify_certificate: bool = True
    page_size: int = 500
    timeout_s: float = 30.0


class EntrySet(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One kind of entry: a base DN, a filter and the field mapping."""

    base: str
    fields: dict[str, str | FieldSpec]
    filter: str = "(objectClass=*)"
    # For employments only: whether the `user` field holds the user entry's DN or the user's HR id.
    user_refers_to: Literal["dn", "hr_id"] = "dn"

    def spec(self, name: str) -> FieldSpec | None:
        value = self.fields.get(name)
        return FieldSpec(attribute=value) if isinstance(value, str) else value

    def attributes(self) -> list[str]:
        names = {s.attribute for n in self.fields if (s := self.spec(n)) and s.attribute != PARENT_ENTRY}
        return sorted(names | {"modifyTimestamp"})


class LdapMapping(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A whole mapping file."""

    source: str
    # The organisations (by number) this directory is the source of truth for: leavers are found only there.
    organisations: list[str]
    connection: Connection
    users: EntrySet
    employments: EntrySet
    units: EntrySet | None = None


def _check_fields(section: str, entries: EntrySet, allowed: dict[str, bool]) -> None:
    for name in entries.fields:
        if name not in allowed:
            raise InvalidInput(f"{section}.fields: unknown field {name!r}", field=f"{section}.fields.{name}")
    for name, required in allowed.items():
        if required and name not in entries.fields:
            raise InvalidInput(f"{section}.fields: {name} is required", field=f"{section}.fields.{name}")
    for name in entries.fields:
        spec = entries.spec(name)
        assert spec is not None
        try:
            spec.regex()
        except re.error as exc:
            raise InvalidInput(
                f"{section}.fields.{name}: bad pattern: {exc}", field=f"{section}.fields.{name}"
            ) from None


def _check_ca_file(path: str) -> None:
    """The CA file must hold at least one readable PEM certificate: better said now than as a failed handshake."""
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:  # an OSError too: caught first
        raise InvalidInput(f"connection.ca_file: {path} holds no PEM certificate", field="connection.ca_file") from None
    except OSError as exc:
        raise InvalidInput(
            f"connection.ca_file: cannot read {path}: {exc.strerror}", field="connection.ca_file"
        ) from None


def mapping_from_dict(raw: Any) -> LdapMapping:
    """Check and build a mapping; every problem names the key in the file."""
    try:
        mapping = msgspec.convert(raw, LdapMapping)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"mapping: {exc}", field="mapping") from None
    for number in mapping.organisations:
        if not is_valid_org_number(number):
            raise InvalidInput(f"organisations: {number!r} is not a valid organisation number", field="organisations")
    if not mapping.organisations:
        raise InvalidInput("organisations: name at least one organisation number", field="organisations")
    if not mapping.connection.url.startswith(("ldap://", "ldaps://")):
        raise InvalidInput("connection.url must start with ldap:// or ldaps://", field="connection.url")
    if mapping.connection.ca_file is not None:
        _check_ca_file(mapping.connection.ca_file)
    _check_fields("users", mapping.users, USER_FIELDS)
    _check_fields("employments", mapping.employments, EMPLOYMENT_FIELDS)
    if mapping.units is not None:
        _check_fields("units", mapping.units, UNIT_FIELDS)
    return mapping


def load_mapping(path: Path) -> LdapMapping:
    """Read a mapping file (YAML)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: cannot read the mapping: {exc}", field="config") from None
    return mapping_from_dict(raw)
