"""What a sync would change: joiners, movers, leavers and changed fields, worked out before anything is written."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from accessctl.hr_sync.records import EmploymentRecord, UserRecord

ChangeKind = Literal["joiner", "mover", "leaver", "changed"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("joiner", "mover", "leaver", "changed")
_PLURAL = {"joiner": "joiners", "mover": "movers", "leaver": "leavers", "changed": "changed"}
_COMPARED = ("user_name", "given_name", "family_name", "email", "hpr_number", "active", "employments")


@dataclass(frozen=True, slots=True)
class UserChange:
    """One user the sync changes: why (kind), which fields, and the record to write (None: absent from the source)."""

    hr_id: str
    kind: ChangeKind
    fields: tuple[str, ...]
    user_id: str | None
    wanted: UserRecord | None


@dataclass
class Plan:
    """Every change a run would make, and how many users it found unchanged."""

    changes: list[UserChange] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        kinds = Counter(c.kind for c in self.changes)
        return {**{_PLURAL[k]: kinds.get(k, 0) for k in CHANGE_KINDS}, "unchanged": self.unchanged}

    def deactivated(self) -> list[str]:
        """Users who lose their access (now, or at a new end date): what the mass-change guard counts."""
        return [c.user_id for c in self.changes if c.kind == "leaver" and c.user_id is not None]

    def moved(self) -> list[str]:
        """Stored users who keep access in other units, or lose one of their jobs: the guard counts them apart."""
        return [c.user_id for c in self.changes if c.kind == "mover" and c.user_id is not None]


def _open_after(jobs: tuple[EmploymentRecord, ...], now: datetime) -> list[EmploymentRecord]:
    return [j for j in jobs if j.valid_to is None or j.valid_to > now]


def _unit_ends(jobs: tuple[EmploymentRecord, ...], now: datetime) -> dict[str, datetime | None]:
    """Each unit the user works in now or later, with when the last job there ends (None: open-ended)."""
    ends: dict[str, datetime | None] = {}
    for job in _open_after(jobs, now):
        known = ends.get(job.unit, job.valid_to)
        ends[job.unit] = None if known is None or job.valid_to is None else max(known, job.valid_to)
    return ends


def _moves(before: tuple[EmploymentRecord, ...], after: tuple[EmploymentRecord, ...], now: datetime) -> bool:
    """Whether the units change, or the work in one of them comes to an end sooner than before."""
    old, new = _unit_ends(before, now), _unit_ends(after, now)
    if old.keys() != new.keys():
        return True
    for unit, end in old.items():
        ends = new[unit]
        if ends is not None and (end is None or ends < end):
            return True
    return False


def _end(jobs: tuple[EmploymentRecord, ...]) -> datetime | None:
    """When the last employment ends; None while one is open-ended (or there are none)."""
    if not jobs or any(j.valid_to is None for j in jobs):
        return None
    return max(j.valid_to for j in jobs if j.valid_to is not None)


def changed_fields(before: UserRecord, after: UserRecord) -> tuple[str, ...]:
    """The fields that differ; employments are compared as a set."""
    names = []
    for name in _COMPARED:
        old, new = getattr(before, name), getattr(after, name)
        if name == "employments":
            old, new = set(old), set(new)
        if old != new:
            names.append(name)
    return tuple(names)


Classified = tuple[ChangeKind, tuple[str, ...]]


def classify(before: UserRecord | None, after: UserRecord | None, now: datetime) -> Classified | None:
    """The kind of change from `before` (stored) to `after` (the source); None when nothing changes.

    A leaver is deactivated, gone from the source, or has every employment ended (now or at a new end date);
    a mover's current and future employments are in other units than before, or one unit's end earlier.
    """
    if after is None:
        if before is None or not (before.active and _open_after(before.employments, now)):
            return None
        return "leaver", ("active", "employments")
    if before is None:
        return "joiner", tuple(n for n in _COMPARED if getattr(after, n) not in (None, ()))
    fields = changed_fields(before, after)
    if not fields:
        return None
    had_access = before.active and bool(_open_after(before.employments, now))
    keeps_access = after.active and bool(_open_after(after.employments, now))
    if had_access and not keeps_access:
        return "leaver", fields
    if not had_access and keeps_access:
        return "joiner", fields
    if had_access and _end(before.employments) is None and _end(after.employments) is not None:
        return "leaver", fields
    if _moves(before.employments, after.employments, now):
        return "mover", fields
    return "changed", fields


def plan_text(plan: Plan, names: dict[str, str] | None = None) -> str:
    """The diff for people: one line per change, grouped by kind, then the counts."""
    lines: list[str] = []
    for kind in CHANGE_KINDS:
        for change in (c for c in plan.changes if c.kind == kind):
            who = (names or {}).get(change.hr_id, change.hr_id)
            lines.append(f"{kind:<8} {who}  ({', '.join(change.fields)})")
    counts = plan.counts()
    lines.append(", ".join(f"{value} {name}" for name, value in counts.items()))
    return "\n".join(lines)
