"""The mass-change guard: a sync that would deactivate or move an unusual share of users (a broken export) stops."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.db import utcnow
from accessctl.directory.models import Employment, Organisation, Unit, User
from accessctl.errors import Conflict

DEFAULT_SHARE = 0.05


class MassChangeStopped(Conflict):
    """A change would deactivate too many users; nothing was written. Confirm explicitly to let it through."""

    code = "mass_change_unconfirmed"


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Whether a planned set of deactivations (and moves) may go ahead, and why not."""

    deactivations: int
    active_users: int
    reason: str | None = None
    moves: int = 0

    @property
    def stops(self) -> bool:
        return self.reason is not None


def mass_change_verdict(
    deactivated: Iterable[str],
    active_by_organisation: Mapping[str, set[str]],
    *,
    share: float = DEFAULT_SHARE,
    population: int | None = None,
    moved: Iterable[str] = (),
) -> GuardVerdict:
    """Stop when more than `share` of the active users, or every active user of one organisation, would go, or
    would move (`moved`: their units change or one of their jobs ends while they keep access).

    Leavers and movers are judged apart, each against the same limit: an export that gives every employment another
    unit is as broken as one that drops every user.
    `population` is the number of active users when `active_by_organisation` holds only the organisations concerned
    (every user in `deactivated` then counts); without it, the organisations hold everyone and set the population.
    One leaver (or mover) is never a mass change (a GP office of one whose GP retires must not need a confirmation).
    """
    leaving = set(deactivated)
    moving = set(moved) - leaving
    if population is None:
        active: set[str] = set().union(*active_by_organisation.values()) if active_by_organisation else set()
        leaving &= active
        moving &= active
        population = len(active)
    reason = _too_many(leaving, "deactivate", active_by_organisation, share, population) or _too_many(
        moving, "move", active_by_organisation, share, population, " to other units or out of one"
    )
    return GuardVerdict(len(leaving), population, reason, len(moving))


def _too_many(
    users: set[str],
    verb: str,
    active_by_organisation: Mapping[str, set[str]],
    share: float,
    population: int,
    where: str = "",
) -> str | None:
    """Why `users` (leavers, or movers) are too many; None when they are not."""
    if len(users) <= 1:
        return None
    if len(users) > share * population:
        return (
            f"would {verb} {len(users)} of {population} active users ({len(users) / max(population, 1):.1%}){where}, "
            f"more than the allowed {share:.1%}"
        )
    for organisation, members in sorted(active_by_organisation.items()):
        if len(members) > 1 and members <= users:
            return f"would {verb} every active user of organisation {organisation}{where}"
    return None


async def active_users_by_organisation(
    session: AsyncSession, organisations: Sequence[str] | None = None
) -> dict[str, set[str]]:
    """Active users per organisation they hold a current or future employment in (None: every organisation)."""
    now = utcnow()
    query = (
        select(Unit.organisation_id, Employment.user_id)
        .join(Unit, Unit.id == Employment.unit_id)
        .join(User, User.id == Employment.user_id)
        .where(User.status == "active", or_(Employment.valid_to.is_(None), Employment.valid_to > now))
    )
    if organisations is not None:
        query = query.where(Unit.organisation_id.in_(organisations))
    result: dict[str, set[str]] = defaultdict(set)
    for organisation, user_id in await session.execute(query):
        result[organisation].add(user_id)
    return dict(result)


class RecentLeaverGuard:
    """The `LeaverGuard` for SCIM, where a broken HR export arrives as a stream of single DELETEs, not one batch.

    Each deactivation is judged together with every user HR deactivated within the last `window` (their
    `deactivated_at`: users loaded inactive, or deactivated before the window, do not count): past the limit
    (`share` of the users active at the window's start, or every user of one organisation) the write stops, changes
    nothing and says why. `confirmed` (the request's `confirm_mass_change=true`) lets it through; a zero window
    judges each request alone, where one leaver is never a mass change.
    """

    def __init__(self, *, share: float = DEFAULT_SHARE, window: timedelta, confirmed: bool = False) -> None:
        self.share = share
        self.window = window
        self.confirmed = confirmed

    async def check(self, session: AsyncSession, user_ids: Sequence[str]) -> None:
        if self.confirmed:
            return
        since = utcnow() - self.window
        asked = set(user_ids)
        recent = set(await session.scalars(select(User.id).where(_deactivated_since(since)))) - asked
        leaving = asked | recent
        if len(leaving) <= 1:
            return  # one leaver is never a mass change: nothing more to read
        # The share stops the write only while active + recent < leaving / share: counting that far is enough.
        enough = max(math.ceil(len(leaving) / self.share) - len(recent), 0)
        active = await _active_users(session, at_most=enough)
        emptied = await _emptied_organisations(session, asked, since)
        verdict = mass_change_verdict(leaving, emptied, share=self.share, population=active + len(recent))
        if verdict.stops:
            counted = f" (counting {len(recent)} deactivated since {since:%Y-%m-%d %H:%M} UTC)" if recent else ""
            raise MassChangeStopped(
                f"stopped: {verdict.reason}{counted}; nothing was changed. "
                "Send the request again with confirm_mass_change=true if this is right",
                field="confirm_mass_change",
            )


async def _active_users(session: AsyncSession, *, at_most: int) -> int:
    """The number of active users, or `at_most` when there are at least that many (cheaper than all of them)."""
    some = select(User.id).where(User.status == "active").limit(at_most).subquery()
    return int(await session.scalar(select(func.count()).select_from(some)) or 0)


def _deactivated_since(since: datetime) -> ColumnElement[bool]:
    """Users HR deactivated at `since` or later and who are still inactive (a reactivation clears the moment)."""
    return and_(User.deactivated_at >= since, User.status != "active")


async def _emptied_organisations(session: AsyncSession, user_ids: set[str], since: datetime) -> dict[str, set[str]]:
    """The organisations `user_ids` work in that no other active user works in, each with its users of the window.

    Its users of the window: employed there at any time since `since`, and active then (active now, or deactivated
    since). Every organisation left out still has an active user who stays, so it cannot be emptied; looking for
    one such user is cheap even in a health trust, where listing its members is not.
    """
    employed_since = or_(Employment.valid_to.is_(None), Employment.valid_to > since)
    theirs = (
        select(Unit.organisation_id)
        .join(Employment, Employment.unit_id == Unit.id)
        .where(Employment.user_id.in_(user_ids), employed_since)
    )
    staying = (
        select(Employment.id)
        .join(Unit, Unit.id == Employment.unit_id)
        .join(User, User.id == Employment.user_id)
        .where(
            Unit.organisation_id == Organisation.id,
            employed_since,
            User.status == "active",
            Employment.user_id.not_in(user_ids),
        )
    )
    emptied = list(await session.scalars(select(Organisation.id).where(Organisation.id.in_(theirs), ~staying.exists())))
    if not emptied:
        return {}
    rows = await session.execute(
        select(Unit.organisation_id, Employment.user_id)
        .join(Unit, Unit.id == Employment.unit_id)
        .join(User, User.id == Employment.user_id)
        .where(
            Unit.organisation_id.in_(emptied),
            employed_since,
            or_(User.status == "active", _deactivated_since(since)),
        )
    )
    result: dict[str, set[str]] = defaultdict(set)
    for organisation, user_id in rows:
        result[organisation].add(user_id)
    return dict(result)
