"""The floor under `bench http`'s targets: the CPU an audited decision costs, stage by stage, with nothing waiting.

`bench http` measures the server under load. This measures what the server's work costs when nothing waits: the
evaluation route's own code without a store (AuthZEN JSON in and out, decide, the audit event), chaining, and the
audit store's insert and commit as the audit writer commits a batch of decisions (the store's own functions),
with the PostgreSQL backend's CPU counted too.
`floor_report` turns the stages into the best rates the cores allow. Left out, so the floor is a floor: the token
cache, the latency histogram, the audit writer's queue, futures and turns, checkpoint signing, and PostgreSQL's
background processes.

The same rows go once more into a scratch copy of the audit table (same columns, same primary key, partitioned
alike, filled with the same rows first) without its four query indexes (patient, user, unit, organisation: keys that
arrive in no particular order), to show what those indexes cost a commit.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
from litestar.datastructures import State
from sqlalchemy import Column, Connection, Index, MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit import AuditEvent, store
from accessctl.audit.actions import DECISIONS
from accessctl.audit.chain import GENESIS_HASH, link_all
from accessctl.audit.direct_copy import DirectCopy
from accessctl.audit.events import ChainedEvent, new_event_id
from accessctl.audit.partitions import PartitionMaker
from accessctl.audit.writer import MAX_BATCH
from accessctl.bench.drivers import Load, drive
from accessctl.bench.http_bench import BATCH, bare_command, bodies
from accessctl.bench.machine import machine_busy_s, process_cpu_s
from accessctl.bench.region import RegionFacts
from accessctl.bench.servers import clean_env, free_port, running_server
from accessctl.db import make_engine, utcnow
from accessctl.engine import Engine
from accessctl.pdp.gate import DecisionGate
from accessctl.pdp.heap import settle_after_build
from accessctl.sqlite_writing import checkpoint, synchronous_twin, writing
from accessctl.web.evaluation_endpoint import EVALUATION_ROUTES

QUERY_INDEXES = frozenset({"patient", "user_id", "unit_id", "organisation_id"})
SCRATCH = "audit_events_floor"
SINGLE_ROUTE, BATCH_ROUTE = "/access/v1/evaluation", "/access/v1/evaluations"
RAW_BARE_FACTORY = "create_raw_bare_app"
# Rows per commit: single evaluations in `bench http` (32 connections over 2 workers), and batches of 100, which
# the audit writer merges into commits of up to MAX_BATCH rows.
SINGLE_COMMIT, BATCH_COMMIT = 16, MAX_BATCH
COMMIT_SIZES = (SINGLE_COMMIT, BATCH_COMMIT)


class NotAScratchDatabase(Exception):
    """The bench would add made-up decision records to an audit log that holds real ones."""


@dataclass(frozen=True)
class Cost:
    """Microseconds per decision: this process's CPU, the database server's CPU (None for SQLite), and wall time."""

    cpu_us: float
    server_us: float | None
    wall_us: float

    @property
    def total_us(self) -> float:
        return self.cpu_us + (self.server_us or 0.0)


@dataclass(frozen=True)
class FloorPlan:
    database_url: str
    decisions: int
    bare_seconds: float
    connections: int
    use_wrk: bool
    cores: int
    # The same headers `bench http` sends, so the bare endpoints parse what an evaluation does.
    headers: dict[str, str]
    # Each stage is timed this many times and its median kept: the machine is shared and noisy.
    repeats: int = 3


def median_cost(costs: Sequence[Cost]) -> Cost:
    """The run whose total is the median (one whole run, so its parts belong together)."""
    return sorted(costs, key=lambda cost: cost.total_us)[len(costs) // 2]


async def _timed(work: Callable[[], Awaitable[None]], count: int, server: int | None = None) -> Cost:
    """Time `work`, this process's CPU and the database server process's (`server`, a pid), per decision."""
    gc.collect()  # the garbage of the stage before is not this stage's
    server_before, cpu, wall = _server_cpu(server), time.process_time(), time.perf_counter()
    await work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    server_s = None if server is None else _server_cpu(server) - server_before
    return Cost(cpu / count * 1e6, None if server_s is None else server_s / count * 1e6, wall / count * 1e6)


def _server_cpu(pid: int | None) -> float:
    seen = None if pid is None else process_cpu_s(pid)
    if pid is not None and seen is None:
        raise RuntimeError(f"the database server's CPU (pid {pid}) cannot be read here: run on its machine")
    return seen or 0.0


class _Discard:
    """Stands in for the audit writer while the service code is timed: takes the events, commits nothing."""

    async def record_many(self, events: Sequence[AuditEvent]) -> None:
        del events


class _Keep(_Discard):
    """Stands in for the audit writer once more, untimed, to keep the events for the chain and store stages."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record_many(self, events: Sequence[AuditEvent]) -> None:
        self.events.extend(events)


async def service_code(engine: Engine, route: str, sent: Sequence[bytes], writer: _Discard) -> Cost:
    """The evaluation route's own functions on each body (decode, map, decide, audit events, encode), no store.

    The decision point and the writer are stand-ins: the engine itself, the real gate, and `writer`.
    """
    state = State({"decision_point": SimpleNamespace(gate=DecisionGate(), engine=engine), "audit_writer": writer})
    handle = EVALUATION_ROUTES[route]

    async def work() -> None:
        for body in sent:
            msgspec.json.encode(await handle(state, body))

    return await _timed(work, len(sent) if route == SINGLE_ROUTE else len(sent) * BATCH)


def renewed(event: AuditEvent) -> AuditEvent:
    """The same decision record under a new id (the table holds the last run's)."""
    fresh = new_event_id()
    return replace(event, id=fresh, decision_id=fresh)


def chained(events: Sequence[AuditEvent], size: int) -> tuple[Cost, list[list[ChainedEvent]]]:
    """Link the events in batches of `size` one after another, as one writer's chain does."""
    chain_id, seq, head, batches = uuid.uuid4(), 1, GENESIS_HASH, []
    gc.collect()
    started, wall = time.process_time(), time.perf_counter()
    for i in range(0, len(events) - size + 1, size):
        linked = link_all(events[i : i + size], chain_id=chain_id, seq=seq, prev_hash=head, recorded_at=utcnow())
        seq, head = linked[-1].seq + 1, linked[-1].hash
        batches.append(linked)
    count = sum(len(b) for b in batches)
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    return Cost(cpu / count * 1e6, None, wall / count * 1e6), batches


def scratch_table(dialect: str) -> Table:
    """The audit table's columns and primary key, partitioned alike on PostgreSQL, with only the indexes whose
    keys grow at their right edge (named after the scratch table, as PostgreSQL's index names are per schema)."""
    columns = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in store.EVENTS.columns]
    if dialect == "postgresql":
        table = Table(SCRATCH, MetaData(), *columns, postgresql_partition_by="RANGE (occurred_at)")
    else:
        table = Table(SCRATCH, MetaData(), *columns)
    for index in store.EVENTS.indexes:
        names = [column.name for column in index.columns]
        if not QUERY_INDEXES & set(names):
            Index(f"ix_{SCRATCH}_{'_'.join(names)}", *(table.c[name] for name in names))
    return table


def _make_scratch(sync: Connection, table: Table) -> None:
    table.drop(sync, checkfirst=True)  # left by a run that was killed
    table.create(sync)
    if sync.dialect.name == "postgresql":
        sync.exec_driver_sql(f"CREATE TABLE {SCRATCH}_all PARTITION OF {SCRATCH} DEFAULT")
    sync.execute(table.insert().from_select(list(store.EVENTS.c.keys()), select(store.EVENTS)))


async def commits(engine: AsyncEngine, batches: Sequence[Sequence[ChainedEvent]], table: Table) -> Cost:
    """Each batch inserted into `table` and committed as the audit writer commits a batch of decisions: on SQLite
    through its synchronous twin (from an empty WAL), on PostgreSQL by one COPY on a connection of its own."""
    count = sum(len(b) for b in batches)
    if table is store.EVENTS:
        await PartitionMaker(engine).ensure(linked.event.occurred_at for batch in batches for linked in batch)
    twin = synchronous_twin(engine.sync_engine)
    if twin is not None:
        checkpoint(twin, truncate=True)

        async def on_sqlite() -> None:
            for batch in batches:
                async with writing(twin) as conn:
                    store.insert_batch(conn, batch, None, table=table)

        return await _timed(on_sqlite, count)
    direct = DirectCopy(engine, table)
    try:
        pid = await direct.server_pid()

        async def on_server() -> None:
            for batch in batches:
                await direct.append(batch)

        return await _timed(on_server, count, pid)
    finally:
        await direct.close()


async def ensure_scratch_database(engine: AsyncEngine) -> None:
    """Refuse an audit log that holds decision records already: the bench's own would stay there for good."""
    async with engine.connect() as conn:
        query = select(store.EVENTS.c.id).where(store.EVENTS.c.action.in_(DECISIONS)).limit(1)
        if (await conn.execute(query)).first() is not None:
            raise NotAScratchDatabase(
                "the audit log holds decision records already; `bench floor` adds made-up ones, and the log is "
                "append-only: give it an empty scratch database"
            )


async def _measure(facts: RegionFacts, plan: FloorPlan, seed: int) -> dict[str, Any]:
    database = make_engine(plan.database_url)
    try:
        await ensure_scratch_database(database)
        engine = Engine(facts.policy, facts.snapshot)
        settle_after_build(replaced=False)  # as a serving process does after building its engine
        texts = bodies(facts, singles=plan.decisions, batches=plan.decisions // BATCH, seed=seed)
        single, batched = ([body.encode() for body in sent] for sent in texts)
        keep = _Keep()
        await service_code(engine, SINGLE_ROUTE, single, keep)  # warms the engine's cache, as a running server's is
        await service_code(engine, BATCH_ROUTE, batched, _Discard())
        out: dict[str, Any] = {"decisions": len(keep.events), "cores": plan.cores, "repeats": plan.repeats}
        for name, route, sent in (("single", SINGLE_ROUTE, single), ("batch", BATCH_ROUTE, batched)):
            runs = [await service_code(engine, route, sent, _Discard()) for _ in range(plan.repeats)]
            out[f"{name}_code_us"] = median_cost(runs).cpu_us
        out.update(await _stores(database, keep.events, plan.repeats))
        return out
    finally:
        await database.dispose()


async def _stores(database: AsyncEngine, events: list[AuditEvent], repeats: int) -> dict[str, Any]:
    """Chain and store the events at each commit size, into the audit table and the scratch table."""
    scratch = scratch_table(database.dialect.name)
    async with database.begin() as conn:
        await conn.run_sync(_make_scratch, scratch)
    out: dict[str, Any] = {}
    try:
        for size in COMMIT_SIZES:
            chains, indexed, unindexed = [], [], []
            for _ in range(repeats):
                events = [renewed(event) for event in events]
                chain_cost, batches = chained(events, size)
                chains.append(chain_cost)
                indexed.append(await commits(database, batches, store.EVENTS))
                unindexed.append(await commits(database, batches, scratch))
                batches = []  # not kept alive through the next run's timing
            out[f"chain_{size}_us"] = median_cost(chains).cpu_us
            for kind, costs in (("store", indexed), ("unindexed", unindexed)):
                cost = median_cost(costs)
                out.update(
                    {
                        f"{kind}_{size}_cpu_us": cost.cpu_us,
                        f"{kind}_{size}_server_us": cost.server_us,
                        f"{kind}_{size}_wall_us": cost.wall_us,
                    }
                )
    finally:
        async with database.begin() as conn:
            await conn.run_sync(lambda sync: scratch.drop(sync, checkfirst=True))
    return out


@dataclass(frozen=True)
class BareRun:
    per_second: float
    # Busy CPU of the whole machine per request (the server, uvicorn, the kernel, the load generator).
    machine_cpu_us: float


def bare_run(factory: str, plan: FloorPlan, body: str, workdir: Path) -> BareRun:
    """A bare app of `bench.bare_app` (2 workers) under `bench http`'s load generator and headers."""
    port = free_port()
    log = workdir / f"{factory}.log"
    # The raw ASGI app speaks HTTP only: uvicorn must not open a lifespan with it.
    command = bare_command(port, factory, lifespan=factory != RAW_BARE_FACTORY)
    with running_server(command, clean_env({}), port, log, ready_path="/health/ready", timeout_s=120):
        load = Load(port, "/bare", plan.headers, [body], plan.connections, 1.0)
        drive(load, workdir, use_wrk=plan.use_wrk)
        busy = machine_busy_s()
        done = drive(replace(load, seconds=plan.bare_seconds), workdir, use_wrk=plan.use_wrk)
        busy = machine_busy_s() - busy
    if done.errors or done.non_2xx or not done.requests:
        raise RuntimeError(f"the bare app {factory} answered {done.errors} errors and {done.non_2xx} non-2xx")
    return BareRun(done.per_second, busy / done.requests * 1e6)


def run(facts: RegionFacts, plan: FloorPlan, workdir: Path, *, seed: int) -> dict[str, Any]:
    """Measure every stage, then the bare Litestar and raw ASGI endpoints (see `floor_report` for the rest)."""
    result = asyncio.run(_measure(facts, plan, seed))
    single_body, _ = bodies(facts, singles=1, batches=0, seed=seed)
    for name, factory in (("bare", "create_bare_app"), ("raw_bare", RAW_BARE_FACTORY)):
        bare = bare_run(factory, plan, single_body[0], workdir)
        result[f"{name}_rps"], result[f"{name}_cpu_us"] = bare.per_second, bare.machine_cpu_us
    return result
