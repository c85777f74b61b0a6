"""Which grants a reviewer may see: privacy officers their organisations, unit managers their units' subtrees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, false, or_, select, true

from accessctl.directory.models import Unit


@dataclass(frozen=True, slots=True)
class ReviewerScope:
    """`organisations` None means every organisation; `units` are roots whose whole subtree is in scope."""

    organisations: frozenset[str] | None = frozenset()
    units: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return self.organisations is None

    def where(self, organisation: SQLColumnExpression[Any], unit: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        """A filter keeping rows whose organisation or unit column lies within this scope."""
        if self.organisations is None:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.organisations:
            parts.append(organisation.in_(sorted(self.organisations)))
        if self.units:
            parts.append(unit.in_(subtree(self.units)))
        return or_(*parts) if parts else false()


def subtree(roots: frozenset[str]) -> Select[tuple[str]]:
    """The ids of the given units and every unit below them (a recursive query, on SQLite and PostgreSQL)."""
    tree = select(Unit.id).where(Unit.id.in_(sorted(roots))).cte("unit_subtree", recursive=True)
    below = select(Unit.id).where(Unit.parent_id == tree.c.id)
    tree = tree.union_all(below)
    return select(tree.c.id)
