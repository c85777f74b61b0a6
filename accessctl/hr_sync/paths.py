"""Attribute paths (RFC 7644 §3.10, §3.5.2): `userName`, `name.givenName`, `urn:...:User:employments`, `emails[...]`."""

from __future__ import annotations

from dataclasses import dataclass

from accessctl.hr_sync.errors import InvalidPath
from accessctl.hr_sync.filters import Filter, parse_filter
from accessctl.hr_sync.schemas import EXTENSIONS, USER

_KNOWN_URNS = (USER, *EXTENSIONS)


@dataclass(frozen=True, slots=True)
class AttributePath:
    """Where in a resource: the extension URN (None for the core schema), the attribute, a value filter, a sub."""

    schema: str | None
    attr: str
    value_filter: Filter | None = None
    sub: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.schema}:" if self.schema else ""
        return f"{prefix}{self.attr}" + (f".{self.sub}" if self.sub else "")


def split_urn(path: str) -> tuple[str | None, str]:
    """The extension URN a path names (None for the core schema) and the rest of the path."""
    lowered = path.lower()
    for urn in _KNOWN_URNS:
        if lowered == urn.lower():
            return (None if urn == USER else urn), ""
        if lowered.startswith(urn.lower() + ":"):
            return (None if urn == USER else urn), path[len(urn) + 1 :]
    if lowered.startswith("urn:"):
        raise InvalidPath(f"unknown schema in path {path!r}", field="path")
    return None, path


def parse_path(path: str) -> AttributePath:
    """Parse a PATCH path or an `attributes` entry; raises InvalidPath naming it."""
    schema, rest = split_urn(path.strip())
    if not rest:
        raise InvalidPath(f"the path {path!r} names no attribute", field="path")
    value_filter: Filter | None = None
    if "[" in rest:
        attr, _, tail = rest.partition("[")
        inner, closing, after = tail.rpartition("]")
        if not closing or (after and not after.startswith(".")):
            raise InvalidPath(f"unbalanced brackets in path {path!r}", field="path")
        value_filter = parse_filter(inner)
        sub = after[1:] or None
    else:
        attr, _, sub_text = rest.partition(".")
        sub = sub_text or None
    if not attr or not attr.replace("$", "").isidentifier():
        raise InvalidPath(f"the path {path!r} is not an attribute path", field="path")
    return AttributePath(schema, attr, value_filter, sub)
