"""The review queue: every grant waits here until a privacy officer or unit manager says whether it was justified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import AuditEvent, actions
from accessctl.audit.models import AuditEventRow
from accessctl.audit.sink import AuditSink
from accessctl.auth.people import same_person
from accessctl.break_glass.models import REVIEW_OUTCOMES, REVIEW_STATUSES, BreakGlassGrant, BreakGlassReview
from accessctl.break_glass.scope import ReviewerScope
from accessctl.errors import Conflict, Forbidden, InvalidInput, NotFound
from accessctl.inputs import checked_text

# Where a page ended: (granted_at, grant id); the queue runs oldest first, so what is most overdue comes first.
QueuePosition = tuple[datetime, str]


class SelfReview(Forbidden):
    """Nobody reviews their own break-the-glass."""

    code = "self_review"


class AlreadyReviewed(Conflict):
    """A grant found justified or unjustified stays so; only a follow-up may be reviewed again."""

    code = "already_reviewed"


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    status: str | None = None
    organisation: str | None = None
    unit: str | None = None
    user: str | None = None
    granted_from: datetime | None = None
    granted_to: datetime | None = None
    overdue: bool | None = None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One grant with its review, as a reviewer sees it (the free text included: it is what they judge)."""

    id: str
    user: str
    unit: str
    organisation: str
    role: str
    patient: str
    reason_code: str
    purpose_of_use: str
    reason_text: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    accesses: int
    status: str
    overdue: bool
    reviewer: str | None
    comment: str | None
    reviewed_at: datetime | None


class ReviewQueue:
    """Lists and settles reviews within a reviewer's scope; each review is audited in the transaction storing it
    (`audit` is the change's `AuditOutbox`)."""

    def __init__(self, session: AsyncSession, *, audit: AuditSink, overdue_days: int) -> None:
        self._session = session
        self._audit = audit
        self._overdue_after = timedelta(days=overdue_days)

    async def items(
        self, scope: ReviewerScope, wanted: ReviewFilter, now: datetime, *, after: QueuePosition | None, limit: int
    ) -> list[ReviewItem]:
        g, r = BreakGlassGrant, BreakGlassReview
        query = self._joined().where(scope.where(g.organisation_id, g.unit_id))
        if wanted.status is not None:
            if wanted.status not in REVIEW_STATUSES:
                raise InvalidInput(f"status must be one of {', '.join(REVIEW_STATUSES)}", field="status")
            query = query.where(r.status == wanted.status)
        for column, value, field in (
            (g.organisation_id, wanted.organisation, "organisation"),
            (g.unit_id, wanted.unit, "unit"),
            (g.user_id, wanted.user, "user"),
        ):
            if value is not None:
                query = query.where(column == checked_text(value, field))
        if wanted.granted_from is not None:
            query = query.where(g.granted_at >= wanted.granted_from)
        if wanted.granted_to is not None:
            query = query.where(g.granted_at < wanted.granted_to)
        if wanted.overdue is not None:
            late = and_(r.status == "pending", g.granted_at < now - self._overdue_after)
            query = query.where(late if wanted.overdue else ~late)
        if after is not None:
            at, grant_id = after
            query = query.where(or_(g.granted_at > at, and_(g.granted_at == at, g.id > grant_id)))
        rows = (await self._session.execute(query.order_by(g.granted_at, g.id).limit(limit))).all()
        counts = await self._accesses([grant.id for grant, _ in rows])
        return [self._item(grant, review, counts.get(grant.id, 0), now) for grant, review in rows]

    async def review(
        self, grant_id: str, outcome: str, comment: str, *, reviewer: str, scope: ReviewerScope, now: datetime
    ) -> ReviewItem:
        """Record a reviewer's outcome; refused for the grantee themself, and for grants outside the scope."""
        if outcome not in REVIEW_OUTCOMES:
            raise InvalidInput(f"outcome must be one of {', '.join(REVIEW_OUTCOMES)}", field="outcome")
        if not comment.strip():
            raise InvalidInput("comment must say what the review found", field="comment")
        checked_text(comment, "comment")
        checked_text(grant_id, "id")
        g = BreakGlassGrant
        query = self._joined().where(g.id == grant_id, scope.where(g.organisation_id, g.unit_id))
        # The review row locked until the verdict commits: a second reviewer waits, then finds it and gets a 409.
        query = query.with_for_update(of=BreakGlassReview).execution_options(populate_existing=True)
        row = (await self._session.execute(query)).first()
        if row is None:
            raise NotFound(f"no break-the-glass grant {grant_id!r} in your scope", field="id")
        grant, review = row
        if same_person(reviewer, grant.user_id):
            raise SelfReview("the user who broke the glass cannot review it", field="reviewer")
        if review.status in {"justified", "unjustified"}:
            raise AlreadyReviewed(f"grant {grant_id!r} was already found {review.status}", field="outcome")
        await self._audit.record(
            AuditEvent(
                action=actions.BREAK_GLASS_REVIEWED,
                occurred_at=now,
                user_id=reviewer,
                unit_id=grant.unit_id,
                organisation_id=grant.organisation_id,
                reason=outcome,
                break_glass_grant_id=grant.id,
                break_glass_reason_code=grant.reason_code,
                detail={"grantee": grant.user_id, "comment": comment.strip(), "previous_status": review.status},
            )
        )
        review.status, review.comment, review.reviewer, review.reviewed_at = outcome, comment.strip(), reviewer, now
        await self._session.flush()
        counts = await self._accesses([grant.id])
        return self._item(grant, review, counts.get(grant.id, 0), now)

    @staticmethod
    def _joined() -> Select[tuple[BreakGlassGrant, BreakGlassReview]]:
        return select(BreakGlassGrant, BreakGlassReview).join(
            BreakGlassReview, BreakGlassReview.grant_id == BreakGlassGrant.id
        )

    async def _accesses(self, grant_ids: list[str]) -> dict[str, int]:
        """How many decisions each grant opened, from the audit log (indexed by grant id)."""
        if not grant_ids:
            return {}
        a = AuditEventRow
        found = await self._session.execute(
            select(a.break_glass_grant_id, func.count())
            .where(a.break_glass_grant_id.in_(grant_ids), a.action == actions.DECISION_PERMIT)
            .group_by(a.break_glass_grant_id)
        )
        return {str(grant_id): int(n) for grant_id, n in found}

    def _item(self, g: BreakGlassGrant, r: BreakGlassReview, accesses: int, now: datetime) -> ReviewItem:
        return ReviewItem(
            id=g.id,
            user=g.user_id,
            unit=g.unit_id,
            organisation=g.organisation_id,
            role=g.role_id,
            patient=g.patient,
            reason_code=g.reason_code,
            purpose_of_use=g.purpose_of_use,
            reason_text=g.reason_text,
            granted_at=g.granted_at,
            expires_at=g.expires_at,
            ended_at=g.ended_at,
            accesses=accesses,
            status=r.status,
            overdue=r.status == "pending" and g.granted_at < now - self._overdue_after,
            reviewer=r.reviewer,
            comment=r.comment,
            reviewed_at=r.reviewed_at,
        )
