"""Whether a user may break the glass for a patient now: rule 1 of DESIGN §2, a role that allows it, no named block.

It reads the live engine's indexes (as search does) so a request is judged on exactly the facts decisions use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accessctl.engine import Engine, Reason
from accessctl.errors import Forbidden

NOT_ALLOWED = "break_glass_not_allowed"


class BreakGlassRefused(Forbidden):
    """The user may not break the glass here; `code` says why (a rule 1 reason, a named block, or no role)."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who may break the glass: the unit's organisation, the allowing role and its longest grant in minutes."""

    organisation_id: str
    role_id: str
    max_minutes: int


def eligibility(
    engine: Engine, user_id: str, unit_id: str, patient: str, now: datetime, *, default_max: int
) -> Eligibility:
    """The grounds for a grant, or BreakGlassRefused; a role with no maximum of its own gets `default_max`."""
    world = engine.world
    d = world.directory
    user = d.users.get(user_id)
    if user is None:
        raise BreakGlassRefused(Reason.UNKNOWN_SUBJECT, f"unknown user {user_id!r}", field="user")
    if not user.active:
        raise BreakGlassRefused(Reason.SUBJECT_INACTIVE, f"user {user_id!r} is not active", field="user")
    facts = d.acting.get(user_id, {}).get(unit_id)
    held = [] if facts is None else [r for r, f, t in facts.assignments if f <= now < t]
    if facts is None or (not held and not any(f <= now < t for f, t in facts.employments)):
        raise BreakGlassRefused(
            Reason.NOT_EMPLOYED_IN_UNIT,
            f"user {user_id!r} holds no valid employment or role in {unit_id!r}",
            field="unit",
        )
    live_from = d.unit_live_from(unit_id)
    organisation = d.unit_org.get(unit_id)
    if live_from is None or now < live_from or organisation is None:
        raise BreakGlassRefused(
            Reason.ORGANISATION_NOT_LIVE, f"the organisation of {unit_id!r} is not live", field="unit"
        )
    roles = world.roles.roles
    allowing = [roles[r] for r in held if r in roles and roles[r].break_glass]
    if not allowing:
        raise BreakGlassRefused(NOT_ALLOWED, f"no role of {user_id!r} in {unit_id!r} may break the glass", field="unit")
    facts_of_patient = world.patients.facts.get(patient)
    blocks = () if facts_of_patient is None else facts_of_patient.user_blocks.get(user_id, ())
    if any(f <= now < t for f, t in blocks):
        # DESIGN §2 rule 3: a block naming the user is final; nothing opens it, break-the-glass included.
        raise BreakGlassRefused(Reason.BLOCKED_FOR_USER, "the patient has blocked this user", field="patient")
    best = max(allowing, key=lambda r: (r.break_glass_max_minutes or default_max, r.id))
    return Eligibility(organisation, best.id, best.break_glass_max_minutes or default_max)
