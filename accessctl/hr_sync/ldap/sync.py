"""One LDAP sync run: read, plan the diff, ask the guard, then apply record by record and record the run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl.audit.sink import AuditOutbox, AuditSink
from accessctl.db import utcnow
from accessctl.errors import AccessctlError
from accessctl.hr_sync.apply import apply_user_records
from accessctl.hr_sync.guard import DEFAULT_SHARE, GuardVerdict, active_users_by_organisation, mass_change_verdict
from accessctl.hr_sync.hooks import AssignmentRecompute
from accessctl.hr_sync.ldap.config import LdapMapping
from accessctl.hr_sync.ldap.diff import Plan, UserChange, classify
from accessctl.hr_sync.ldap.ldap3_source import DeltaUnsupported
from accessctl.hr_sync.ldap.read import DirectoryRead, read_directory
from accessctl.hr_sync.ldap.source import DirectorySource
from accessctl.hr_sync.ldap.stored import StoredState, StoredUser, left_scope, load_state, merged
from accessctl.hr_sync.org_tree import UnitRecord, put_unit_tree, tree_changed_event
from accessctl.hr_sync.records import UserRecord
from accessctl.hr_sync.runs import RecordError, RunReport, last_applied_start, record_run

_MAYBE_THEIRS = "not changed: a rejected employment entry whose user could not be read may be one of theirs"

# Given a session, the recompute hook for that run (it needs the active policy, which is read from the session).
RecomputeFactory = Callable[[AsyncSession], Awaitable[AssignmentRecompute]]


@dataclass
class SyncOutcome:
    """The recorded run, the diff it planned, and the guard's verdict."""

    report: RunReport
    plan: Plan
    verdict: GuardVerdict
    names: dict[str, str]


class LdapSync:
    """Pulls one directory into accessctl, as its mapping says; each run is a `hr_sync_runs` row."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        mapping: LdapMapping,
        source: DirectorySource,
        *,
        recompute: RecomputeFactory,
        audit: AuditSink | None = None,
        share: float = DEFAULT_SHARE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.mapping = mapping
        self.source = source
        self.recompute = recompute
        self.audit = audit
        self.share = share
        self.clock = clock

    async def run(
        self, *, dry_run: bool = False, confirmed: bool = False, mode: Literal["full", "delta"] = "full"
    ) -> SyncOutcome:
        """Run once; nothing is written on a dry run, on a failure, or when the guard stops an unconfirmed run."""
        report = RunReport(self.mapping.source, mode, self.clock(), dry_run=dry_run, confirmed=confirmed)
        outbox = AuditOutbox()
        try:
            async with self.sessions() as session:
                since = await last_applied_start(session, self.mapping.source) if mode == "delta" else None
                if mode == "delta" and (since is None or not self.source.supports_delta):
                    report.mode = "full"
                read = await self._read(since, report)
                state = await load_state(session, self.mapping.organisations, read.users.users)
                plan = self._plan(read, state, report)
                verdict = mass_change_verdict(
                    plan.deactivated(),
                    await active_users_by_organisation(session, list(state.organisations.values())),
                    share=self.share,
                    moved=plan.moved(),
                )
                report.counts = {**plan.counts(), "entries_read": read.entries_read, "rejected": 0}
                if dry_run:
                    report.outcome = "dry_run"
                    report.stop_reason = verdict.reason
                elif verdict.stops and not confirmed:
                    report.outcome, report.stop_reason = "stopped", f"{verdict.reason}; nothing was changed"
                else:
                    await self._apply(session, read, state, plan, report, outbox)
                if report.outcome != "applied":
                    await session.rollback()
                report.counts["rejected"] = len(report.errors)
                await record_run(session, report)
                await outbox.stage(session)
                await session.commit()
        except AccessctlError as exc:
            report.outcome, report.stop_reason = "failed", exc.message
            await self._record_failure(report)
            raise
        await outbox.deliver(self.audit)
        names = {hr_id: read.users.dn_of.get(hr_id, hr_id) for hr_id in (c.hr_id for c in plan.changes)}
        return SyncOutcome(report, plan, verdict, names)

    async def _read(self, since: datetime | None, report: RunReport) -> DirectoryRead:
        """Read in a thread (ldap3 blocks); a directory that cannot search by time gets a full read instead."""
        try:
            return await asyncio.to_thread(read_directory, self.source, self.mapping, since)
        except DeltaUnsupported:
            report.mode = "full"
            return await asyncio.to_thread(read_directory, self.source, self.mapping, None)

    def _plan(self, read: DirectoryRead, state: StoredState, report: RunReport) -> Plan:
        """Classify every user the directory names, and (on a full read) every user of the scope it no longer names."""
        now = report.started_at
        report.errors.extend(read.users.errors)
        report.errors.extend(read.units.errors)
        _keep_doubtful_trees(read, state, report)
        scope_units = state.scope_units | {u.id for n in state.organisations for u in read.units.trees.get(n, ())}
        for number in sorted(set(read.units.trees) - set(state.organisations)):
            report.errors.append(
                RecordError(
                    f"organisation {number}", "organisation_number", "not an organisation this directory covers"
                )
            )
        plan = Plan()
        for hr_id, wanted in read.users.users.items():
            outside = [j.unit for j in wanted.employments if j.unit not in scope_units]
            if outside:
                message = f"unit {outside[0]} is not a unit of the organisations in scope"
                report.errors.append(RecordError(read.users.dn_of[hr_id], "employments.unit", message))
                continue
            stored = state.users.get(hr_id)
            if read.users.untied_employment and _loses_jobs(stored, wanted):
                report.errors.append(RecordError(read.users.dn_of[hr_id], "employments", _MAYBE_THEIRS))
                continue
            kind = classify(None if stored is None else stored.scoped(), wanted, now)
            if kind is None:
                plan.unchanged += 1
                continue
            record = merged(stored, wanted)
            plan.changes.append(UserChange(hr_id, kind[0], kind[1], None if stored is None else stored.id, record))
        if report.mode == "full":
            self._plan_leavers(read, state, plan, report)
        return plan

    def _plan_leavers(self, read: DirectoryRead, state: StoredState, plan: Plan, report: RunReport) -> None:
        named = set(read.users.users) | read.users.rejected
        gone = [s for hr_id, s in state.users.items() if hr_id not in named and s.in_scope]
        if gone and read.users.unidentified:
            report.errors.append(
                RecordError(
                    "run",
                    "hr_id",
                    f"{len(gone)} absent user(s) not deactivated: some entries had no readable HR id and may be theirs",
                )
            )
            return
        for stored in gone:
            kind = classify(stored.scoped(), None, report.started_at)
            if kind is not None:
                record = left_scope(stored, report.started_at)
                plan.changes.append(UserChange(stored.record.hr_id, kind[0], kind[1], stored.id, record))

    async def _apply(
        self,
        session: AsyncSession,
        read: DirectoryRead,
        state: StoredState,
        plan: Plan,
        report: RunReport,
        outbox: AuditOutbox,
    ) -> None:
        """Units first (per organisation, all or nothing), then each changed user in its own savepoint."""
        units_changed = 0
        for number, organisation_id in sorted(state.organisations.items()):
            wanted_tree = read.units.trees.get(number)
            if wanted_tree is None or _same_tree(state.trees.get(organisation_id, {}), wanted_tree):
                continue
            try:
                async with session.begin_nested():
                    tree = await put_unit_tree(session, number, wanted_tree)
            except AccessctlError as exc:
                report.errors.append(
                    RecordError(f"organisation {number} ({organisation_id})", exc.field or "units", exc.message)
                )
                continue
            units_changed += len(tree.created) + len(tree.updated) + len(tree.removed)
            event = tree_changed_event(tree, number, actor=f"ldap:{self.mapping.source}", at=self.clock())
            if event is not None:
                await outbox.record(event)
        recompute = await self.recompute(session)
        records = [c.wanted for c in plan.changes if c.wanted is not None]
        result = await apply_user_records(
            session,
            records,
            recompute=recompute,
            actor=f"ldap:{self.mapping.source}",
            audit=outbox,
            name_of=lambda hr_id: read.users.dn_of.get(hr_id, f"HR id {hr_id}"),
        )
        report.errors.extend(result.errors)
        applied = [c for c in plan.changes if c.hr_id in result.written]
        report.counts.update(Plan(applied, plan.unchanged).counts())
        report.counts["units_changed"] = units_changed

    async def _record_failure(self, report: RunReport) -> None:
        """A failed run is recorded too, in its own transaction (the run's own was rolled back)."""
        async with self.sessions() as session:
            await record_run(session, report)
            await session.commit()


def _keep_doubtful_trees(read: DirectoryRead, state: StoredState, report: RunReport) -> None:
    """Leave out of the run each tree a rejected unit entry may belong to: putting it would remove that unit."""
    stored = {number: state.trees.get(org_id, {}).keys() for number, org_id in state.organisations.items()}
    for number in sorted(read.units.doubtful(stored) & read.units.trees.keys() & stored.keys()):
        del read.units.trees[number]
        where = f"organisation {number} ({state.organisations[number]})"
        report.errors.append(RecordError(where, "units", "unit tree left as stored: an entry of it was rejected"))


def _loses_jobs(stored: StoredUser | None, wanted: UserRecord) -> bool:
    """Whether writing `wanted` would drop or change a job the user holds in the directory's organisations."""
    return stored is not None and not set(stored.in_scope) <= set(wanted.employments)


def _same_tree(stored: dict[str, tuple[str | None, str, str]], units: list[UnitRecord]) -> bool:
    """Whether putting `units` would change nothing (services are not read from the directory)."""
    if stored.keys() != {u.id for u in units}:
        return False
    return all(stored[u.id] == (u.parent, u.name, u.kind or stored[u.id][2]) for u in units)
