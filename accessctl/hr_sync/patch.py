"""PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: pure; the result is read back like a PUT body."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from accessctl.hr_sync.errors import InvalidPath, InvalidSyntax, InvalidValue, MutabilityViolation, NoTarget
from accessctl.hr_sync.filters import Compare, matches
from accessctl.hr_sync.paths import AttributePath, parse_path, split_urn
from accessctl.hr_sync.schemas import ENTERPRISE, HEALTH, PATCH_OP, UNIT

OPS = frozenset({"add", "replace", "remove"})


@dataclass(frozen=True, slots=True)
class Patchable:
    """What a resource type lets PATCH touch: its extensions, and the core attributes that are read-only."""

    extensions: tuple[str, ...]
    read_only: frozenset[str]


USER_PATCH = Patchable((ENTERPRISE, HEALTH), frozenset({"id", "meta", "displayName", "schemas"}))
# A Group's externalId is its unit id: it may be sent again unchanged, which the Group mapping checks.
GROUP_PATCH = Patchable((UNIT,), frozenset({"id", "meta", "members", "schemas"}))


def _key(container: dict[str, Any], name: str) -> str:
    """The key `name` has in `container` (attribute names are case-insensitive), or `name` when absent."""
    lowered = name.lower()
    return next((k for k in container if k.lower() == lowered), name)


def _container(resource: dict[str, Any], path: AttributePath, *, create: bool) -> dict[str, Any] | None:
    """The object holding the path's attribute: the resource itself or its extension object."""
    if path.schema is None:
        return resource
    key = _key(resource, path.schema)
    if key not in resource:
        if not create:
            return None
        resource[key] = {}
    holder = resource[key]
    if not isinstance(holder, dict):
        raise InvalidValue(f"{path.schema} must be an object", field=path.schema)
    return holder


def _check_writable(path: AttributePath, kind: Patchable) -> None:
    if path.schema is not None and path.schema not in kind.extensions:
        raise InvalidPath(f"{path.schema} is not an extension of this resource", field=str(path))
    if path.schema is None and path.attr.lower() in {name.lower() for name in kind.read_only}:
        raise MutabilityViolation(f"{path} is read-only", field=str(path))


def _merge(target: Any, value: Any, *, append: bool) -> Any:
    """`add` appends to multi-valued attributes and merges objects; `replace` overwrites lists."""
    if isinstance(target, list):
        items = value if isinstance(value, list) else [value]
        return [*target, *items] if append else items
    if isinstance(target, dict) and isinstance(value, dict):
        merged = dict(target)
        for name, item in value.items():
            key = _key(merged, name)
            merged[key] = _merge(merged[key], item, append=append) if key in merged else item
        return merged
    return value


def _set(resource: dict[str, Any], path: AttributePath, value: Any, *, append: bool) -> None:
    holder = _container(resource, path, create=True)
    assert holder is not None
    key = _key(holder, path.attr)
    if path.value_filter is not None:
        _set_selected(holder, key, path, value)
        return
    if path.sub is None:
        holder[key] = _merge(holder[key], value, append=append) if key in holder else value
        return
    parent = holder.setdefault(key, {})
    if isinstance(parent, list):
        for item in _objects(parent, path):
            item[_key(item, path.sub)] = value
        return
    if not isinstance(parent, dict):
        raise InvalidValue(f"{path.attr} has no sub-attributes", field=str(path))
    parent[_key(parent, path.sub)] = value


def _objects(values: list[Any], path: AttributePath) -> list[dict[str, Any]]:
    """The values of a multi-valued attribute whose sub-attribute `path` names: each must be an object."""
    if not all(isinstance(v, dict) for v in values):
        raise InvalidValue(f"{path.attr} holds a value that is not an object, so it has no {path.sub}", field=str(path))
    return values


def _set_selected(holder: dict[str, Any], key: str, path: AttributePath, value: Any) -> None:
    """Set the values a filter selects; `emails[type eq "work"].value` adds the work address when there is none."""
    values = holder.get(key) or []
    if not isinstance(values, list):
        raise InvalidValue(f"{path.attr} is not multi-valued", field=str(path))
    assert path.value_filter is not None
    chosen = [v for v in values if isinstance(v, dict) and matches(path.value_filter, v)]
    if not chosen:
        seed = path.value_filter
        if not (isinstance(seed, Compare) and seed.op == "eq"):
            raise NoTarget(f"no value of {path.attr} matches the filter", field=str(path))
        chosen = [{seed.attr: seed.value}]
        values = [*values, *chosen]
    for item in chosen:
        if path.sub is None:
            if not isinstance(value, dict):
                raise InvalidValue(f"{path.attr}[...] takes an object", field=str(path))
            item.update(value)
        else:
            item[_key(item, path.sub)] = value
    holder[key] = values


def _remove(resource: dict[str, Any], path: AttributePath) -> None:
    holder = _container(resource, path, create=False)
    if holder is None:
        return
    key = _key(holder, path.attr)
    if key not in holder:
        return
    if path.value_filter is not None:
        values = holder[key] if isinstance(holder[key], list) else []
        chosen = [v for v in values if isinstance(v, dict) and matches(path.value_filter, v)]
        if path.sub is None:
            holder[key] = [v for v in values if v not in chosen]
        else:
            for item in chosen:
                item.pop(_key(item, path.sub), None)
        return
    if path.sub is None:
        del holder[key]
    elif isinstance(holder[key], dict):
        holder[key].pop(_key(holder[key], path.sub), None)
    elif isinstance(holder[key], list):
        for item in _objects(holder[key], path):
            item.pop(_key(item, path.sub), None)


def _without_path(resource: dict[str, Any], value: Any, kind: Patchable, *, append: bool) -> None:
    """`add`/`replace` with no path: each member of `value` is an attribute (or a path) to set."""
    if not isinstance(value, dict):
        raise InvalidValue("an operation without a path takes an object value", field="value")
    for name, item in value.items():
        schema, rest = split_urn(name)
        if rest:
            targets = [(parse_path(name), item)]
        elif schema is not None and isinstance(item, dict):
            targets = [(AttributePath(schema, sub), sub_value) for sub, sub_value in item.items()]
        else:
            raise InvalidValue(f"{name} must name an attribute or carry an extension object", field=name)
        for path, path_value in targets:
            _check_writable(path, kind)
            _set(resource, path, path_value, append=append)


def _whole_extension(resource: dict[str, Any], schema: str, op: str, value: Any, kind: Patchable) -> None:
    """A path that is just an extension's URN: remove the extension object, or add/replace its attributes."""
    if schema not in kind.extensions:
        raise InvalidPath(f"{schema} is not an extension of this resource", field=schema)
    if op == "remove":
        resource.pop(_key(resource, schema), None)
        return
    _without_path(resource, {schema: value}, kind, append=op == "add")


def apply_patch(resource: dict[str, Any], body: Any, kind: Patchable = USER_PATCH) -> dict[str, Any]:
    """Apply a PatchOp body to a copy of `resource` (a User unless `kind` says otherwise); all operations or none."""
    if not isinstance(body, dict):
        raise InvalidSyntax("the body must be a PatchOp object", field="body")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_OP not in schemas:
        raise InvalidSyntax(f"schemas must list {PATCH_OP}", field="schemas")
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("Operations must be a non-empty list", field="Operations")
    patched = copy.deepcopy(resource)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise InvalidSyntax(f"Operations[{index}] must be an object", field=f"Operations[{index}]")
        op = str(operation.get("op", "")).lower()
        if op not in OPS:
            at = f"Operations[{index}].op"
            raise InvalidSyntax(f"{at} must be add, replace or remove", field=at)
        raw_path = operation.get("path")
        if raw_path is None or raw_path == "":
            if op == "remove":
                raise NoTarget("remove needs a path", field=f"Operations[{index}].path")
            _without_path(patched, operation.get("value"), kind, append=op == "add")
            continue
        schema, rest = split_urn(str(raw_path))
        if schema is not None and not rest:
            _whole_extension(patched, schema, op, operation.get("value"), kind)
            continue
        path = parse_path(str(raw_path))
        _check_writable(path, kind)
        if op == "remove":
            _remove(patched, path)
        else:
            if "value" not in operation:
                raise InvalidValue(f"Operations[{index}].value is required", field=f"Operations[{index}].value")
            _set(patched, path, operation["value"], append=op == "add")
    return patched
