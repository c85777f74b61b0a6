"""Forward the audit log to a SIEM as RFC 5424 syslog, chain by chain, resuming from a state file after a restart.

Position: for each chain, the last `seq` the peer holds. A writer commits its chain in seq order, so "seq above
the last one sent" never skips a record, whatever the clocks say (occurred_at order would: a batch can commit
after a later-stamped one of another writer). Delivery is at least once: the state file is replaced atomically
only after the peer's TCP stack has acknowledged a batch, so a failure or a crash resends at most the batch that
was in flight (`batch` records, default 500), and nothing is skipped.

New chains are found among the signed checkpoints and among events that occurred since a horizon (the newest
event seen at the previous look, less `lookback`), so finding them never scans the whole log after the first run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import distinct, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit.export import syslog_line
from accessctl.audit.store import CHECKPOINTS, EVENTS, chained_from_row
from accessctl.audit.syslog_transport import PeerRejected, SyslogTransport, frame

log = logging.getLogger(__name__)
STATE_VERSION = 1


@dataclass
class ForwarderState:
    """How far the peer has the log: the last seq per chain, and where to look for new chains."""

    chains: dict[str, int] = field(default_factory=dict)
    horizon: datetime | None = None

    @classmethod
    def load(cls, path: Path) -> ForwarderState:
        """The saved state; a missing file means nothing was forwarded yet (start from the beginning)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        if raw.get("version") != STATE_VERSION:
            raise ValueError(f"{path}: not a forwarder state file of version {STATE_VERSION}")
        horizon = raw.get("horizon")
        chains = {str(chain): int(seq) for chain, seq in raw["chains"].items()}
        return cls(chains=chains, horizon=datetime.fromisoformat(horizon) if horizon else None)

    def save(self, path: Path) -> None:
        """Write to a temporary file, fsync, rename over the old one, fsync the directory: all or nothing."""
        body = {
            "version": STATE_VERSION,
            "chains": dict(sorted(self.chains.items())),
            "horizon": self.horizon.isoformat() if self.horizon else None,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(body, out, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


@dataclass(frozen=True)
class Backoff:
    """Waits between failed attempts: `initial`, growing by `factor`, at most `maximum` seconds."""

    initial: float = 0.5
    maximum: float = 60.0
    factor: float = 2.0

    def after(self, delay: float | None) -> float:
        return self.initial if delay is None else min(self.maximum, delay * self.factor)


class AuditForwarder:
    """Reads each chain past its saved position, sends it in batches, and saves the position after each batch."""

    def __init__(
        self,
        engine: AsyncEngine,
        transport: SyslogTransport,
        state_path: Path,
        *,
        batch: int = 500,
        hostname: str = "-",
        lookback: timedelta = timedelta(hours=1),
    ) -> None:
        self.engine = engine
        self.transport = transport
        self.state_path = state_path
        self.batch = batch
        self.hostname = hostname
        self.lookback = lookback
        self.state = ForwarderState.load(state_path)
        self.failures = 0

    async def forward_pending(self) -> int:
        """Send every record committed so far that the peer does not have yet; returns how many were sent."""
        await self._discover_chains()
        sent = 0
        for chain in sorted(self.state.chains):
            while True:
                count = await self._forward_batch(chain)
                sent += count
                if count < self.batch:
                    break
        return sent

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = 2.0, backoff: Backoff | None = None) -> None:
        """Forward until `stop` is set; after a failure (peer, TLS or database) wait with backoff and resume."""
        backoff = backoff or Backoff()
        delay: float | None = None
        while not stop.is_set():
            try:
                await self.forward_pending()
            except (OSError, SQLAlchemyError) as exc:  # OSError covers refused, reset, timeout and TLS errors
                self.failures += 1
                await self.transport.close()
                delay = backoff.after(delay)
                # A peer that rejects us (certificate, TLS or not) needs someone to change a setting: an error.
                level = logging.ERROR if isinstance(exc, PeerRejected) else logging.WARNING
                log.log(level, "audit forwarding failed (%s); position kept, retrying in %.1f s", exc, delay)
                wait = delay
            else:
                delay, wait = None, poll_seconds
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await stop.wait()
        await self.transport.close()

    async def _discover_chains(self) -> None:
        async with self.engine.connect() as conn:
            newest = await conn.scalar(select(func.max(EVENTS.c.occurred_at)))
            found = select(distinct(EVENTS.c.chain_id))
            if self.state.horizon is not None:
                found = found.where(EVENTS.c.occurred_at >= self.state.horizon)
            chains = set((await conn.scalars(found)).all())
            chains |= set((await conn.scalars(select(distinct(CHECKPOINTS.c.chain_id)))).all())
        added = {str(chain) for chain in chains} - set(self.state.chains)
        horizon = newest - self.lookback if newest is not None else self.state.horizon
        if added or horizon != self.state.horizon:
            self.state.chains.update(dict.fromkeys(added, 0))
            self.state.horizon = horizon
            self.state.save(self.state_path)

    async def _forward_batch(self, chain: str) -> int:
        last = self.state.chains[chain]
        query = (
            select(EVENTS)
            .where(EVENTS.c.chain_id == uuid.UUID(chain), EVENTS.c.seq > last)
            .order_by(EVENTS.c.seq)
            .limit(self.batch)
        )
        async with self.engine.connect() as conn:
            records = [chained_from_row(row._mapping) for row in await conn.execute(query)]
        if not records:
            return 0
        await self.transport.send(b"".join(frame(syslog_line(record, self.hostname)) for record in records))
        # Only now, with the peer holding the batch, does the saved position move on.
        self.state.chains[chain] = records[-1].seq
        self.state.save(self.state_path)
        return len(records)
