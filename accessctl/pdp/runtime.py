"""The live engine of this process, kept current from the change log (after writes, on NOTIFY, on a poll)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.break_glass.models import BreakGlassGrant
from accessctl.changes import CHANGES_READ_AT_ONCE, CHANNEL, ChangeRef, changes_since, latest_seq
from accessctl.context.models import CareRelation, PatientBlock
from accessctl.db import Database
from accessctl.directory.models import Organisation
from accessctl.engine import DEFAULT_BREAK_GLASS_REASONS, AccessRequest, CompiledPolicy, Decision, Engine
from accessctl.errors import AccessctlError, StoreUnavailable
from accessctl.pdp.gate import DecisionGate
from accessctl.pdp.heap import settle_after_build
from accessctl.pdp.loader import (
    block_facts,
    care_relation_facts,
    grant_facts,
    load_snapshot,
    load_unit,
    load_user,
    organisation_facts,
)

log = logging.getLogger("accessctl.pdp")

PolicyLoader = Callable[[AsyncSession], Awaitable[CompiledPolicy]]


class DecisionPoint:
    """Holds the engine; `catch_up()` applies every logged change not yet applied, in order."""

    def __init__(
        self,
        database: Database,
        load_policy: PolicyLoader,
        *,
        poll_seconds: float = 0.5,
        break_glass_reasons: tuple[str, ...] = DEFAULT_BREAK_GLASS_REASONS,
        settle_heap: bool = False,
    ) -> None:
        self._database = database
        self._break_glass_reasons = break_glass_reasons
        self._load_policy = load_policy
        self._poll_seconds = poll_seconds
        # Whether this process's heap is ours to manage (a serving process; see `heap.settle_after_build`).
        self._settle_heap = settle_heap
        self._engine: Engine | None = None
        self._applied = 0
        self._lock = asyncio.Lock()
        self.gate = DecisionGate()
        self._wake = asyncio.Event()
        # The highest change a NOTIFY announced since the follower last looked (0: none; a poll reads anyway).
        self._heard = 0
        self._follower: asyncio.Task[None] | None = None
        self._listener: Any = None
        self.load_error: str | None = "not started"

    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreUnavailable(f"the decision engine is not loaded ({self.load_error})")
        return self._engine

    @property
    def applied_seq(self) -> int:
        return self._applied

    def decide(self, request: AccessRequest, now: datetime | None = None) -> Decision:
        return self.engine.decide(request, now)

    async def start(self, *, follow: bool = True) -> None:
        """Build the engine from the database, then follow the change log in the background.

        A database that cannot be read yet (down, not migrated) does not stop the process: readiness reports it,
        decisions answer 503, and the follower keeps trying.
        """
        await self._try_rebuild()
        if follow:
            self._follower = asyncio.create_task(self._follow(), name="accessctl-change-follower")

    async def _try_rebuild(self) -> None:
        try:
            await self.rebuild()
        except (SQLAlchemyError, OSError, AccessctlError) as exc:
            # A store that is down, not migrated, or a policy that does not compile: say so, keep trying.
            self.load_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            log.warning("decision engine not loaded: %s", self.load_error)

    async def rebuild(self) -> None:
        """Load policy and facts whole and build the engine beside the live one, which answers until the swap."""
        async with self._lock:
            await self._rebuild_locked()

    async def _rebuild_locked(self) -> None:
        async with self._database.sessions() as session:
            # The sequence is read first: changes logged while the snapshot loads are applied again, harmlessly.
            seq = await latest_seq(session)
            policy = await self._load_policy(session)
            snapshot = await load_snapshot(session, datetime.now(UTC))
        # Built in a thread: at the region's size this takes seconds, and decisions go on meanwhile.
        engine = await asyncio.to_thread(
            lambda: Engine(policy, snapshot, break_glass_reasons=self._break_glass_reasons)
        )
        async with self.gate.changing():
            replaced = self._engine is not None
            self._engine = engine
            self._applied = seq
            self.load_error = None
        if self._settle_heap:
            settle_after_build(replaced=replaced)

    async def catch_up(self, *, through: int | None = None) -> int:
        """Apply every change logged after the last one applied; returns the sequence now applied.

        A new policy version or a full reload rebuilds the engine; other changes are applied one by one. With
        `through` (the last change a writer logged), nothing is read when that change is applied already, and
        reading stops once it is; without, once the log is read to its end.
        """
        async with self._lock:
            if self._engine is None:
                await self._rebuild_locked()
            elif through is not None and through <= self._applied:
                return self._applied
            while True:
                async with self._database.sessions() as session:
                    changes = await changes_since(session, self._applied)
                    whole = next((c for c in changes if c.kind in {"policy", "reload"}), None)
                    if changes and changes[0] is not whole:
                        async with self.gate.changing():
                            for change, following in zip(changes, [*changes[1:], None], strict=True):
                                if change is whole:
                                    break
                                # Each change reloads its facts as they are now: when the next one names the same
                                # facts (an HR write logs its user twice), loading them once is enough.
                                if following is None or (following.kind, following.key) != (change.kind, change.key):
                                    await self._apply(session, change)
                                self._applied = change.seq
                if whole is None:
                    # A full read may have left more behind it: a writer waiting on `through` is answered only
                    # once its own change is applied (more than one read's worth may have been logged before it).
                    drained = len(changes) < CHANGES_READ_AT_ONCE
                    if drained or (through is not None and through <= self._applied):
                        return self._applied
                    continue
                await self._rebuild_locked()

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._listener is not None:
            conn, raw = self._listener
            with contextlib.suppress(Exception):
                await raw.remove_listener(CHANNEL, self._on_notify)
            await conn.close()

    async def _apply(self, session: AsyncSession, change: ChangeRef) -> None:
        engine = self.engine
        if change.kind == "care_relation":
            relation = await session.get(CareRelation, change.key, populate_existing=True)
            if relation is None:
                engine.remove_care_relation(change.key)
            else:
                engine.put_care_relation(care_relation_facts(relation))
        elif change.kind == "patient_block":
            block = await session.get(PatientBlock, change.key, populate_existing=True)
            if block is None:
                engine.remove_block(change.key)
            else:
                engine.put_block(block_facts(block))
        elif change.kind == "break_glass":
            grant = await session.get(BreakGlassGrant, change.key, populate_existing=True)
            if grant is None:
                engine.remove_grant(change.key)
            else:
                engine.put_grant(grant_facts(grant))
        elif change.kind == "user":
            user, jobs, roles = await load_user(session, change.key)
            engine.replace_user(change.key, user, jobs, roles)
        elif change.kind == "organisation":
            organisation = await session.get(Organisation, change.key, populate_existing=True)
            if organisation is not None:
                engine.put_organisation(organisation_facts(organisation))
        elif change.kind == "unit":
            unit = await load_unit(session, change.key)
            if unit is not None:
                engine.put_unit(unit)
        else:
            raise AssertionError(f"{change.kind} changes rebuild the engine whole")

    async def _follow(self) -> None:
        await self._listen()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)
            self._wake.clear()
            heard, self._heard = self._heard, 0
            try:
                if self._engine is None:
                    await self._try_rebuild()
                else:
                    # Woken by a NOTIFY whose change a writer here has applied meanwhile: nothing to read.
                    await self.catch_up(through=heard or None)
            except Exception:  # the follower must outlive a database hiccup; the next poll retries
                log.exception("catching up with the change log failed; retrying")

    async def _listen(self) -> None:
        """On PostgreSQL, wake on NOTIFY instead of waiting for the next poll."""
        if self._database.engine.dialect.name != "postgresql":
            return
        try:
            conn = await self._database.engine.connect()
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.add_listener(CHANNEL, self._on_notify)
            self._listener = (conn, raw)
        except Exception:
            log.exception("LISTEN failed; following the change log by polling only")

    def _on_notify(self, *args: object) -> None:
        # asyncpg passes (connection, pid, channel, payload); the payload is the change's sequence number. One this
        # process has applied already (its own write, caught up before answering) needs no catching up.
        payload = args[-1] if args else None
        seq = int(payload) if isinstance(payload, str) and payload.isdigit() else None
        if seq is not None and seq <= self._applied:
            return
        self._heard = max(self._heard, seq if seq is not None else sys.maxsize)
        self._wake.set()
