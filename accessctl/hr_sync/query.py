"""SCIM filters and sortBy as SQL over `users`: only the attributes accessctl stores can be filtered on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from accessctl.directory.models import Employment, User
from accessctl.hr_sync.errors import InvalidFilter, InvalidValue
from accessctl.hr_sync.filters import And, Compare, Filter, Not, Or, Present, ValuePath
from accessctl.hr_sync.mapping import parse_datetime
from accessctl.hr_sync.paths import split_urn
from accessctl.hr_sync.schemas import HEALTH


@dataclass(frozen=True, slots=True)
class Column:
    """One filterable attribute: its column, whether text compares case-exactly, and its kind."""

    column: ColumnElement[Any] | InstrumentedAttribute[Any]
    case_exact: bool = False
    kind: str = "string"


_COLUMNS: dict[tuple[str | None, str], Column] = {
    (None, "id"): Column(User.id, case_exact=True),
    (None, "externalid"): Column(User.hr_id, case_exact=True),
    (None, "username"): Column(User.user_name),
    (None, "emails"): Column(User.email),
    (None, "emails.value"): Column(User.email),
    (None, "name.familyname"): Column(User.family_name),
    (None, "name.givenname"): Column(User.given_name),
    # As `User.display_name` makes it; never NULL, since both names are required.
    (None, "displayname"): Column(User.given_name + " " + User.family_name),
    (None, "meta.lastmodified"): Column(User.updated_at, kind="dateTime"),
    (None, "meta.created"): Column(User.created_at, kind="dateTime"),
    (None, "active"): Column(User.status, kind="active"),
    (HEALTH, "hprnumber"): Column(User.hpr_number, case_exact=True),
}


def _column(attr: str) -> Column:
    schema, rest = split_urn(attr)
    found = _COLUMNS.get((schema, rest.lower()))
    if found is None:
        raise InvalidFilter(f"cannot filter or sort on {attr!r}", field="filter")
    return found


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text(col: Column, op: str, value: Any) -> ColumnElement[bool]:
    if not isinstance(value, str):
        raise InvalidFilter(f"{op} on a string attribute needs a quoted string", field="filter")
    target: Any = col.column if col.case_exact else func.lower(col.column)
    wanted = value if col.case_exact else value.lower()
    likes: dict[str, Callable[[], ColumnElement[bool]]] = {
        "co": lambda: target.like(f"%{_escape(wanted)}%", escape="\\"),
        "sw": lambda: target.like(f"{_escape(wanted)}%", escape="\\"),
        "ew": lambda: target.like(f"%{_escape(wanted)}", escape="\\"),
        "eq": lambda: target == wanted,
        "ne": lambda: or_(target != wanted, col.column.is_(None)),
        "gt": lambda: target > wanted,
        "ge": lambda: target >= wanted,
        "lt": lambda: target < wanted,
        "le": lambda: target <= wanted,
    }
    return likes[op]()


def _moment(col: Column, op: str, value: Any) -> ColumnElement[bool]:
    if op in {"co", "sw", "ew"}:
        raise InvalidFilter(f"{op} does not apply to a dateTime", field="filter")
    at: datetime = parse_datetime(value, "filter")
    c = col.column
    return {"eq": c == at, "ne": c != at, "gt": c > at, "ge": c >= at, "lt": c < at, "le": c <= at}[op]


def _active(op: str, value: Any) -> ColumnElement[bool]:
    if op not in {"eq", "ne"} or not isinstance(value, bool):
        raise InvalidFilter("active compares only with eq or ne and true or false", field="filter")
    is_active = User.status == "active"
    return is_active if value == (op == "eq") else User.status != "active"


def _compare(node: Compare) -> ColumnElement[bool]:
    if node.attr.lower() == "emails.type":
        if node.op != "eq" or not isinstance(node.value, str):
            raise InvalidFilter("emails.type supports only eq", field="filter")
        return User.email.is_not(None) if node.value.lower() == "work" else false()
    col = _column(node.attr)
    if node.value is None:
        if node.op not in {"eq", "ne"}:
            raise InvalidFilter("null compares only with eq or ne", field="filter")
        return col.column.is_(None) if node.op == "eq" else col.column.is_not(None)
    if col.kind == "active":
        return _active(node.op, node.value)
    if col.kind == "dateTime":
        return _moment(col, node.op, node.value)
    return _text(col, node.op, node.value)


def _prefixed(node: Filter, prefix: str) -> Filter:
    """A value-path filter rewritten to full attribute names: `emails[value eq x]` -> `emails.value eq x`."""
    if isinstance(node, Compare):
        return Compare(f"{prefix}.{node.attr}", node.op, node.value)
    if isinstance(node, Present):
        return Present(f"{prefix}.{node.attr}")
    if isinstance(node, And):
        return And(_prefixed(node.left, prefix), _prefixed(node.right, prefix))
    if isinstance(node, Or):
        return Or(_prefixed(node.left, prefix), _prefixed(node.right, prefix))
    if isinstance(node, Not):
        return Not(_prefixed(node.inner, prefix))
    raise InvalidFilter("value paths cannot nest", field="filter")


def user_condition(node: Filter) -> ColumnElement[bool]:
    """The SQL condition on `users` that a SCIM filter means."""
    if isinstance(node, And):
        return and_(user_condition(node.left), user_condition(node.right))
    if isinstance(node, Or):
        return or_(user_condition(node.left), user_condition(node.right))
    if isinstance(node, Not):
        return not_(user_condition(node.inner))
    if isinstance(node, ValuePath):
        if node.attr.lower() != "emails":
            raise InvalidFilter(f"cannot filter inside {node.attr!r}", field="filter")
        return user_condition(_prefixed(node.inner, "emails"))
    if isinstance(node, Present):
        if node.attr.lower() == "emails.type":
            return User.email.is_not(None)
        col = _column(node.attr)
        return true() if col.kind == "active" else col.column.is_not(None)
    return _compare(node)


def sort_column(sort_by: str) -> ColumnElement[Any] | InstrumentedAttribute[Any]:
    try:
        return _column(sort_by).column
    except InvalidFilter:
        raise InvalidValue(f"cannot sort on {sort_by!r}", field="sortBy") from None


def visible(now: datetime) -> ColumnElement[bool]:
    """Users SCIM still shows: active ones, and inactive ones with an employment not yet ended.

    A DELETE (a leaver) deactivates and ends every employment, so the user is gone from SCIM's view (404) while
    the row stays for the audit trail.
    """
    open_job = exists(
        select(Employment.id).where(
            Employment.user_id == User.id, or_(Employment.valid_to.is_(None), Employment.valid_to > now)
        )
    )
    return or_(User.status == "active", open_job)
