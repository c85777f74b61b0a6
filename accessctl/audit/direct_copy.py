"""PostgreSQL: the audit writer's own connection, on which a batch of decisions is one COPY in its own transaction.

A COPY outside an explicit transaction runs in PostgreSQL's implicit one: all its rows or none, committed (and
flushed, under the default `synchronous_commit`) before the command completes. A pooled transaction cost the
writer a ping, BEGIN, the statement SQLAlchemy's asyncpg adapter begins with, COMMIT and the pool's reset, each a
round trip waiting behind the event loop's other work; this is one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from accessctl.audit import store
from accessctl.audit.events import ChainedEvent

# Failures of the connection rather than of the rows: the batch may or may not have reached the server. (A timeout
# is one: TimeoutError is an OSError.)
CONNECTION_FAILURES = (asyncpg.InterfaceError, asyncpg.InternalClientError, asyncpg.PostgresConnectionError, OSError)
# How long `fence` waits for a dropped backend to end (pg_terminate_backend's timeout, in ms).
FENCE_TIMEOUT_MS = 5000
# How long one COPY may take before it is cancelled and counted a connection failure: a batch takes milliseconds,
# and a peer that died without a word would otherwise hold the writer until TCP gives up.
COPY_TIMEOUT_S = 30.0


class DirectCopy:
    """One pooled connection held for the writer's lifetime; each batch one COPY on it.

    A connection failure is retried once on a new connection: the retry commits the batch, or, when the first
    attempt had committed after all, fails on the primary key. So a batch is never stored twice, and a failure
    reaches the writer, which fails the batch's callers closed, `fence`s, and re-reads its chain's head.
    """

    def __init__(self, engine: AsyncEngine, table: Table = store.EVENTS, *, timeout_s: float = COPY_TIMEOUT_S) -> None:
        self._engine = engine
        self._table = table
        self._timeout_s = timeout_s
        self._held: AsyncConnection | None = None
        self._driver: Any = None  # asyncpg's Connection (the package has no type information)
        self._pid = 0
        # Backends of connections dropped after a failure, which may still be finishing a COPY.
        self._dropped: list[int] = []

    async def append(self, batch: Sequence[ChainedEvent]) -> None:
        if not batch:
            return
        columns, rows = store.driver_rows(self._engine.dialect, batch, self._table)
        for last in (False, True):
            driver = await self._connection()
            try:
                await self._copy(driver, columns, rows)
                return
            except CONNECTION_FAILURES:
                await self._drop()
                if last:
                    raise
            except BaseException:
                await self._drop()
                raise

    async def _copy(self, driver: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        await driver.copy_records_to_table(self._table.name, records=rows, columns=columns, timeout=self._timeout_s)

    async def server_pid(self) -> int:
        """The PostgreSQL backend serving the held connection (`accessctl bench floor` counts its CPU)."""
        await self._connection()
        return self._pid

    async def fence(self) -> None:
        """End the backends of dropped connections and wait until they are gone: a COPY or COMMIT whose outcome
        was unknown has then committed or aborted for good, and the chain's head can be read.

        Raises while any of them is still there (the store unreachable, or a backend that outlived the timeout);
        they stay on the list for the next try, so the head is never read behind one.
        """
        if not self._dropped:
            return
        pids = list(self._dropped)
        async with self._engine.connect() as conn:
            query = "SELECT pg_terminate_backend(pid, :timeout) FROM unnest(CAST(:pids AS integer[])) AS pid"
            await conn.execute(text(query), {"pids": pids, "timeout": FENCE_TIMEOUT_MS})
            alive = "SELECT pid FROM pg_stat_activity WHERE pid = ANY(CAST(:pids AS integer[]))"
            left = set((await conn.execute(text(alive), {"pids": pids})).scalars())
        self._dropped = [pid for pid in self._dropped if pid in left]
        if left:
            raise RuntimeError(f"audit store: backend(s) {sorted(left)} of a failed batch are still running")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A pooled transaction (a batch with a checkpoint, or with outbox rows) whose backend is fenced as a
        dropped COPY's is when its connection is lost: a COMMIT lost on the way back may still land, after the
        writer has re-read its head and linked the next batch to the same place."""
        async with self._engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            pid = int(driver.get_server_pid()) if driver is not None else 0
            try:
                async with conn.begin():
                    yield conn
            except BaseException:
                if conn.invalidated and pid:
                    self._dropped.append(pid)
                raise

    async def _connection(self) -> Any:
        if self._driver is not None and (self._driver.is_closed() or self._driver.is_in_transaction()):
            # Closed under us (a restart, a terminated session) and seen by the driver; or, never expected, inside
            # a transaction, where a COPY would not commit on its own. Nothing of this batch was sent yet.
            await self._drop()
        if self._held is None:
            held = await self._engine.connect()
            try:
                driver = (await held.get_raw_connection()).driver_connection
                if driver is None or driver.is_in_transaction():
                    raise RuntimeError("the audit COPY needs a connection outside any transaction")
            except BaseException:
                await held.close()
                raise
            self._held, self._driver, self._pid = held, driver, int(driver.get_server_pid())
        return self._driver

    async def _drop(self) -> None:
        held, self._held, self._driver = self._held, None, None
        if held is not None:
            self._dropped.append(self._pid)
            try:
                await held.invalidate()
            finally:
                await held.close()

    async def close(self) -> None:
        held, self._held, self._driver = self._held, None, None
        if held is not None:
            await held.close()
