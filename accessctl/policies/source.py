"""Reads a policy directory into typed documents, turning YAML and type errors into located problems."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import msgspec
from msgspec import inspect

from accessctl.policies.documents import (
    PositionCatalogue,
    ResourceTypeCatalogue,
    RoleDocument,
    ServiceCatalogue,
)
from accessctl.policies.problems import WHOLE_FILE, Problem
from accessctl.policies.yaml_source import NodePath, YamlDocument, YamlSyntaxError, dotted, load_yaml

SERVICES_FILE = "services.yaml"
POSITIONS_FILE = "positions.yaml"
RESOURCE_TYPES_FILE = "resource-types.yaml"
ROLES_DIR = "roles"

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

_MSGSPEC_ERROR = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_PATH_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")


@dataclass(frozen=True, slots=True)
class Located(Generic[T_co]):
    """A typed document with the file it came from and the line of each of its fields."""

    file: str
    document: T_co
    yaml: YamlDocument

    def line(self, *path: str | int) -> int:
        """The line of the field at `path` (or of its nearest ancestor)."""
        return self.yaml.line_of(path)


@dataclass(frozen=True, slots=True)
class PolicySource:
    """Every policy file that parsed and type-checked; `digest` identifies the content of all of them."""

    services: Located[ServiceCatalogue] | None
    positions: Located[PositionCatalogue] | None
    resource_types: Located[ResourceTypeCatalogue] | None
    roles: tuple[Located[RoleDocument], ...]
    digest: str


def _role_files(root: Path) -> list[str]:
    try:
        with os.scandir(root / ROLES_DIR) as entries:
            names = sorted(entry.name for entry in entries if entry.name.endswith(".yaml") and entry.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [f"{ROLES_DIR}/{name}" for name in names]


def source_files(root: Path) -> list[str]:
    """The files `read_policy_dir` reads, relative to `root`, in its order (some may be missing)."""
    return [SERVICES_FILE, POSITIONS_FILE, RESOURCE_TYPES_FILE, *_role_files(root)]


def _add_to_digest(digest: hashlib._Hash, relative: str, raw: bytes) -> None:
    digest.update(relative.encode() + b"\0" + raw + b"\0")


def content_digest(root: Path) -> str:
    """`sha256:<hex>` over exactly the bytes `read_policy_dir` reads (in its order), without parsing any of them.

    Equal digests mean the directory would compile to the same policy.
    """
    digest = hashlib.sha256()
    for relative in source_files(root):
        try:
            _add_to_digest(digest, relative, (root / relative).read_bytes())
        except FileNotFoundError:
            continue
    return f"sha256:{digest.hexdigest()}"


def read_policy_dir(root: Path) -> tuple[PolicySource, list[Problem]]:
    """Parse every file of the policy directory; files with problems are left out of the source."""
    problems: list[Problem] = []
    digest = hashlib.sha256()
    role_files = _role_files(root)
    if not role_files:
        problems.append(Problem(ROLES_DIR, 1, WHOLE_FILE, "no role documents; expected roles/<id>.yaml"))
    services = _read(root, SERVICES_FILE, ServiceCatalogue, problems, digest)
    positions = _read(root, POSITIONS_FILE, PositionCatalogue, problems, digest)
    resource_types = _read(root, RESOURCE_TYPES_FILE, ResourceTypeCatalogue, problems, digest)
    roles = [_read(root, relative, RoleDocument, problems, digest) for relative in role_files]
    source = PolicySource(
        services=services,
        positions=positions,
        resource_types=resource_types,
        roles=tuple(role for role in roles if role is not None),
        digest=f"sha256:{digest.hexdigest()[:16]}",
    )
    return source, problems


def _read(
    root: Path, relative: str, kind: type[T], problems: list[Problem], digest: hashlib._Hash
) -> Located[T] | None:
    try:
        raw = (root / relative).read_bytes()
    except FileNotFoundError:
        problems.append(Problem(relative, 1, WHOLE_FILE, "file not found"))
        return None
    _add_to_digest(digest, relative, raw)
    try:
        document = load_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem(relative, 1, WHOLE_FILE, "not UTF-8 text; expected a UTF-8 YAML file"))
        return None
    except YamlSyntaxError as exc:
        problems.append(Problem(relative, exc.line, WHOLE_FILE, f"YAML syntax error: {exc.message}"))
        return None
    problems.extend(
        Problem(relative, line, dotted(path), "key appears twice; expected each key once")
        for path, line in document.duplicate_keys
    )
    try:
        value = msgspec.convert(document.data, kind)
    except msgspec.ValidationError as exc:
        problems.append(_type_problem(relative, document, kind, str(exc)))
        return None
    return Located(relative, value, document)


def _type_problem(file: str, document: YamlDocument, kind: type[object], error: str) -> Problem:
    """Turn msgspec's `<message> - at `$.a[0].b`` into a problem at the right line and field."""
    # Errors about the document's top level come without the ` - at ...` suffix.
    match = _MSGSPEC_ERROR.match(error)
    steps = _PATH_STEP.findall(match["path"]) if match else []
    path: NodePath = tuple(int(index) if index else name for name, index in steps)
    message = match["message"] if match else error
    if missing := _MISSING_FIELD.match(message):
        field_path = (*path, missing["name"])
        return Problem(file, document.line_of(path), dotted(field_path), "required field is missing")
    if unknown := _UNKNOWN_FIELD.match(message):
        field_path = (*path, unknown["name"])
        expected = f"unknown field; expected one of: {', '.join(_field_names(kind, path))}"
        return Problem(file, document.line_of(field_path), dotted(field_path), expected)
    if message.startswith("Invalid enum value"):
        allowed = ", ".join(str(value) for value in _literal_values(kind, path))
        message = f"{message}; expected one of: {allowed}"
    elif message == "Expected `str`, got `int`":
        message += ' (quote it, e.g. "7010")'
    return Problem(file, document.line_of(path), dotted(path) or WHOLE_FILE, message)


def _type_at(kind: type[object], path: NodePath) -> inspect.Type | None:
    info: inspect.Type | None = inspect.type_info(kind)
    for step in path:
        info = _unwrap(info)
        if isinstance(step, int) and isinstance(info, inspect.ListType):
            info = info.item_type
        elif isinstance(step, str) and isinstance(info, inspect.StructType):
            info = next((field.type for field in info.fields if field.encode_name == step), None)
        else:
            return None
    return _unwrap(info)


def _unwrap(info: inspect.Type | None) -> inspect.Type | None:
    while isinstance(info, inspect.Metadata):
        info = info.type
    return info


def _field_names(kind: type[object], path: NodePath) -> list[str]:
    info = _type_at(kind, path)
    return [field.encode_name for field in info.fields] if isinstance(info, inspect.StructType) else []


def _literal_values(kind: type[object], path: NodePath) -> list[object]:
    info = _type_at(kind, path)
    return list(info.values) if isinstance(info, inspect.LiteralType) else []
