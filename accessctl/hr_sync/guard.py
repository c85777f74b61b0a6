"""The mass-change guard: a sync that would deactivate an unusual share of users (a broken export) stops first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.db import utcnow
from accessctl.directory.models import Employment, Unit, User
from accessctl.errors import PreconditionFailed

DEFAULT_SHARE = 0.05


class MassChangeStopped(PreconditionFailed):
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
) -> GuardVerdict:
    """Stop when more than `share` of the active users, or every active user of one organisation, would go.

    One leaver is never a mass change (a GP office of one whose GP retires must not need a confirmation).
    """
    leaving = set(deactivated)
    active: set[str] = set().union(*active_by_organisation.values()) if active_by_organisation else set()
    leaving &= active
    if len(leaving) <= 1:
        return GuardVerdict(len(leaving), len(active))
    if len(leaving) > share * len(active):
        return GuardVerdict(
            len(leaving),
            len(active),
            f"would deactivate {len(leaving)} of {len(active)} active users ({len(leaving) / len(active):.1%}), "
            f"more than the allowed {share:.1%}",
        )
    for organisation, users in sorted(active_by_organisation.items()):
        if len(users) > 1 and users <= leaving:
            return GuardVerdict(
                len(leaving), len(active), f"would deactivate every active user of organisation {organisation}"
            )
    return GuardVerdict(len(leaving), len(active))


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


class MassChangeGuard:
    """The `LeaverGuard` for bulk writes: counts every deactivation asked for, and stops past the limit.

    `confirmed` (the CLI's --confirm-mass-change, or an explicit flag over HTTP) lets a large change through.
    """

    def __init__(self, *, share: float = DEFAULT_SHARE, confirmed: bool = False) -> None:
        self.share = share
        self.confirmed = confirmed
        self._asked: set[str] = set()

    async def check(self, session: AsyncSession, user_ids: Sequence[str]) -> None:
        self._asked.update(user_ids)
        if self.confirmed:
            return
        verdict = mass_change_verdict(self._asked, await active_users_by_organisation(session), share=self.share)
        if verdict.stops:
            raise MassChangeStopped(f"stopped: {verdict.reason}; nothing was changed", field="confirm_mass_change")
