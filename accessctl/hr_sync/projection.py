"""`attributes` and `excludedAttributes` (RFC 7644 §3.9): trim a resource's JSON; `id` and `schemas` always stay."""

from __future__ import annotations

import copy
from typing import Any

from accessctl.hr_sync.paths import split_urn

ALWAYS = frozenset({"id", "schemas"})


def _names(raw: str | None) -> list[tuple[str | None, list[str]]]:
    """Each comma-separated path as (extension URN or None, [attribute, sub-attribute]) lower-cased."""
    names: list[tuple[str | None, list[str]]] = []
    for text in (raw or "").split(","):
        part = text.strip()
        if not part:
            continue
        schema, rest = split_urn(part)
        names.append((schema, [p.lower() for p in rest.split(".")] if rest else []))
    return names


def _pick(obj: dict[str, Any], path: list[str]) -> dict[str, Any]:
    key = next((k for k in obj if k.lower() == path[0]), None)
    if key is None:
        return {}
    value = obj[key]
    if len(path) == 1:
        return {key: value}
    if isinstance(value, dict):
        picked = _pick(value, path[1:])
        return {key: picked} if picked else {}
    if isinstance(value, list):
        items = [p for p in (_pick(v, path[1:]) for v in value if isinstance(v, dict)) if p]
        return {key: items} if items else {}
    return {}


def _merge(into: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key in into and isinstance(into[key], dict) and isinstance(value, dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _drop(obj: dict[str, Any], path: list[str]) -> None:
    key = next((k for k in obj if k.lower() == path[0]), None)
    if key is None:
        return
    if len(path) == 1:
        del obj[key]
    elif isinstance(obj[key], dict):
        _drop(obj[key], path[1:])
    elif isinstance(obj[key], list):
        for item in obj[key]:
            if isinstance(item, dict):
                _drop(item, path[1:])


def project(resource: dict[str, Any], attributes: str | None, excluded: str | None) -> dict[str, Any]:
    """The resource with only the asked-for attributes, or without the excluded ones."""
    wanted = _names(attributes)
    if wanted:
        out: dict[str, Any] = {k: v for k, v in resource.items() if k in ALWAYS}
        for schema, path in wanted:
            if schema is None and not path:  # the core schema's URN: every core attribute
                _merge(out, {k: v for k, v in resource.items() if not k.lower().startswith("urn:")})
                continue
            holder = resource if schema is None else {schema: resource.get(schema, {})}
            _merge(out, _pick(holder, ([schema.lower()] if schema else []) + path))
        return out
    trimmed = copy.deepcopy(resource)
    for schema, path in _names(excluded):
        if schema is None and path and path[0] not in ALWAYS:
            _drop(trimmed, path)
        elif schema is not None and isinstance(trimmed.get(schema), dict):
            if path:
                _drop(trimmed[schema], path)
            else:
                del trimmed[schema]
    return trimmed
