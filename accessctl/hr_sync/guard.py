"""The mass-change guard: a sync that would deactivate an unusual share of users (a broken export) stops first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.db import utcnow
from accessctl.directory.models import Employment, Unit, User
from accessctl.errors import Conflict

DEFAULT_SHARE = 0.05


class MassChangeStopped(Conflict):
    """A change would deactivate too many users; nothing was written. Confirm explicitly to let it through."""

    code = "mass_change_unconfirmed"


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Whether a planned set of deactivations may go ahead, and why not."""

    deactivations: int
    active_users: int
    reason: str | None = None

    @property
    def stops(self) -> bool:
        return self.reason is not None


def mass_change_verdict(
    deactivated: Iterable[str],
    active_by_organisation: Mapping[str, set[str]],
    *,
    share: float = DEFAULT_SHARE,
    population: int | None = None,
) -> GuardVerdict:
    """Stop when more than `share` of the active users, or every active user of one organisation, would go.

    `population` is the number of active users when `active_by_organisation` holds only the organisations concerned
    (every user in `deactivated` then counts); without it, the organisations hold everyone and set the population.
    One leaver is never a mass change (a GP office of one whose GP retires must not need a confirmation).
    """
    leaving = set(deactivated)
    if population is None:
        active: set[str] = set().union(*active_by_organisation.values()) if active_by_organisation else set()
        leaving &= active
        population = len(active)
    if len(leaving) <= 1:
        return GuardVerdict(len(leaving), population)
    if len(leaving) > share * population:
        return GuardVerdict(
            len(leaving),
            population,
            f"would deactivate {len(leaving)} of {population} active users ({len(leaving) / max(population, 1):.1%}), "
            f"more than the allowed {share:.1%}",
        )
    for organisation, users in sorted(active_by_organisation.items()):
        if len(users) > 1 and users <= leaving:
            return GuardVerdict(
                len(leaving), population, f"would deactivate every active user of organisation {organisation}"
            )
    return GuardVerdict(len(leaving), population)


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

    Each deactivation is judged together with every user deactivated within the last `window`: past the limit
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
        recent = (
            set(await session.scalars(select(User.id).where(User.status != "active", User.updated_at >= since))) - asked
        )
        active = await session.scalar(select(func.count()).select_from(User).where(User.status == "active")) or 0
        members = await _members_since(session, asked, since)
        verdict = mass_change_verdict(asked | recent, members, share=self.share, population=active + len(recent))
        if verdict.stops:
            counted = f" (counting {len(recent)} deactivated since {since:%Y-%m-%d %H:%M} UTC)" if recent else ""
            raise MassChangeStopped(
                f"stopped: {verdict.reason}{counted}; nothing was changed. "
                "Send the request again with confirm_mass_change=true if this is right",
                field="confirm_mass_change",
            )


async def _members_since(session: AsyncSession, user_ids: set[str], since: datetime) -> dict[str, set[str]]:
    """For each organisation `user_ids` work in: its users who worked there at any time since `since`."""
    employed_since = or_(Employment.valid_to.is_(None), Employment.valid_to > since)
    organisations = (
        select(Unit.organisation_id)
        .join(Employment, Employment.unit_id == Unit.id)
        .where(Employment.user_id.in_(user_ids), employed_since)
    )
    rows = await session.execute(
        select(Unit.organisation_id, Employment.user_id)
        .join(Unit, Unit.id == Employment.unit_id)
        .where(Unit.organisation_id.in_(organisations), employed_since)
    )
    result: dict[str, set[str]] = defaultdict(set)
    for organisation, user_id in rows:
        result[organisation].add(user_id)
    return dict(result)
