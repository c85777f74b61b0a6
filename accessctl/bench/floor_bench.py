"""The floor under `bench http`'s targets: the CPU an audited decision costs, stage by stage, with no waiting.

`bench http` measures the server under load; this measures what its work costs when nothing waits: the service's
own evaluation code without a database (AuthZEN JSON in and out, decide, the audit event), chaining, and the
audit store's insert and commit through the store's own functions, with the database server's CPU counted too
(PostgreSQL's backend, read from /proc). From those it works out the best rate 2 cores could reach if they did
nothing else: no scheduling, no load generator, no idle time. A target above that best rate cannot be met on this
machine by tuning the service; it needs less work per decision or more cores.

The same rows go once more into a scratch copy of the audit table without its four query indexes (patient, user,
unit, organisation; their keys come in no order), to show what those indexes cost the commit.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
from litestar.datastructures import State
from sqlalchemy import Index, MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from accessctl.audit import AuditEvent, store
from accessctl.audit.chain import GENESIS_HASH, link_all
from accessctl.audit.events import ChainedEvent, new_event_id
from accessctl.audit.partitions import PartitionMaker
from accessctl.bench.drivers import Load, drive
from accessctl.bench.http_bench import BATCH, TARGETS, bare_command, bodies
from accessctl.bench.region import RegionFacts
from accessctl.bench.report import Row
from accessctl.bench.servers import clean_env, free_port, running_server
from accessctl.db import make_engine, utcnow
from accessctl.engine import Engine
from accessctl.pdp.gate import DecisionGate
from accessctl.pdp.heap import settle_after_build
from accessctl.sqlite_writing import synchronous_twin, writing
from accessctl.web.evaluation_endpoint import EVALUATION_ROUTES

# The indexes whose keys arrive in no particular order; the others grow at their right edge.
QUERY_INDEXES = frozenset({"patient", "user_id", "unit_id", "organisation_id"})
SCRATCH = "audit_events_floor"
# Rows per commit that single evaluations see in `bench http` (32 connections over 2 workers), and batches.
COMMIT_SIZES = (16, BATCH)
SINGLE_ROUTE, BATCH_ROUTE = "/access/v1/evaluation", "/access/v1/evaluations"


@dataclass(frozen=True)
class Cost:
    """Microseconds per decision: this process's CPU, the database server's CPU (None if unseen), and wall time."""

    cpu_us: float
    server_us: float | None
    wall_us: float

    @property
    def total_us(self) -> float:
        return self.cpu_us + (self.server_us or 0.0)


class _Recorder:
    """Stands in for the audit writer: keeps the events the service code hands it, commits nothing."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record_many(self, events: Sequence[AuditEvent]) -> None:
        self.events.extend(events)


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float | None:
    """Another process's CPU seconds so far (user + system) from /proc, or None when it cannot be read here."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state is field 3, utime field 14 and stime field 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


async def _timed(
    work: Callable[[], Awaitable[None]], count: int, server_cpu: Callable[[], float | None] = lambda: None
) -> Cost:
    # The garbage of the stage before is not this stage's (a serving process's garbage is its requests').
    gc.collect()
    server_before, cpu, wall = server_cpu(), time.process_time(), time.perf_counter()
    await work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    server_after = server_cpu()
    server = None if server_before is None or server_after is None else server_after - server_before
    return Cost(cpu / count * 1e6, None if server is None else server / count * 1e6, wall / count * 1e6)


async def service_code(engine: Engine, route: str, sent: Sequence[str]) -> tuple[Cost, list[AuditEvent]]:
    """The evaluation route's own code on each body (decode, map, decide, audit events, encode), minus the store."""
    recorder = _Recorder()
    state = State({"decision_point": SimpleNamespace(gate=DecisionGate(), engine=engine), "audit_writer": recorder})
    handle = EVALUATION_ROUTES[route]
    raw = [body.encode() for body in sent]

    async def work() -> None:
        for body in raw:
            msgspec.json.encode(await handle(state, body))

    cost = await _timed(work, len(raw) if route == SINGLE_ROUTE else len(raw) * BATCH)
    return cost, recorder.events


def renewed(event: AuditEvent) -> AuditEvent:
    """The same decision record under a new id."""
    fresh = new_event_id()
    return replace(event, id=fresh, decision_id=fresh)


def chained(events: Sequence[AuditEvent], size: int) -> tuple[Cost, list[list[ChainedEvent]]]:
    """Link the events in batches of `size` after one another, as one writer's chain."""
    chain_id, seq, head, batches = uuid.uuid4(), 1, GENESIS_HASH, []
    gc.collect()
    started, wall = time.process_time(), time.perf_counter()
    for i in range(0, len(events) - size + 1, size):
        linked = link_all(events[i : i + size], chain_id=chain_id, seq=seq, prev_hash=head, recorded_at=utcnow())
        seq, head = linked[-1].seq + 1, linked[-1].hash
        batches.append(linked)
    count = sum(len(b) for b in batches)
    return Cost((time.process_time() - started) / count * 1e6, None, (time.perf_counter() - wall) / count * 1e6), (
        batches
    )


def scratch_table() -> Table:
    """The audit table's columns and its time-ordered indexes, without the four query indexes; not partitioned."""
    columns = [column._copy() for column in store.EVENTS.columns]
    table = Table(SCRATCH, MetaData(), *columns)
    for index in store.EVENTS.indexes:
        names = [column.name for column in index.columns]
        if not QUERY_INDEXES & set(names):
            Index(f"{SCRATCH}_{'_'.join(names)}", *(table.c[name] for name in names))
    return table


async def _server_pid(conn: AsyncConnection) -> int | None:
    """The PostgreSQL backend serving `conn` (None on SQLite, whose work is this process's)."""
    if conn.dialect.name != "postgresql":
        return None
    return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def commits(engine: AsyncEngine, batches: Sequence[Sequence[ChainedEvent]], table: Table) -> Cost:
    """Each batch inserted into `table` and committed through the audit store's own functions, one transaction
    each, the way the audit writer commits (SQLite: its synchronous twin, on this thread)."""
    count = sum(len(b) for b in batches)
    await PartitionMaker(engine).ensure(linked.event.occurred_at for batch in batches for linked in batch)
    twin = synchronous_twin(engine.sync_engine)
    if twin is not None:

        async def on_sqlite() -> None:
            for batch in batches:
                async with writing(twin) as conn:
                    store.insert_batch(conn, batch, None, table=table)

        return await _timed(on_sqlite, count)
    async with engine.connect() as conn:
        pid = await _server_pid(conn)
        await conn.commit()

        async def on_server() -> None:
            for batch in batches:
                async with conn.begin():
                    await store.append(conn, batch, None, table=table)

        return await _timed(on_server, count, lambda: None if pid is None else process_cpu_s(pid))


async def scratch_commits(engine: AsyncEngine, batches: Sequence[Sequence[ChainedEvent]]) -> Cost:
    """`commits` into the scratch table without the query indexes (created here, dropped after)."""
    table = scratch_table()
    async with engine.begin() as conn:
        await conn.run_sync(table.create)
    try:
        return await commits(engine, batches, table)
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(table.drop)


def bare_rps(factory: str, seconds: float, connections: int, body: str, workdir: Path, *, use_wrk: bool) -> float:
    """Requests/s of a bare app of `bench.bare_app` (2 workers) under `bench http`'s load generator."""
    port = free_port()
    with running_server(
        bare_command(port, factory),
        clean_env({}),
        port,
        workdir / f"{factory}.log",
        ready_path="/health/ready",
        timeout_s=120,
    ):
        headers = {"Content-Type": "application/json"}
        drive(Load(port, "/bare", headers, [body], connections, 1.0), workdir, use_wrk=use_wrk)
        done = drive(Load(port, "/bare", headers, [body], connections, seconds), workdir, use_wrk=use_wrk)
    if done.errors or done.non_2xx or not done.requests:
        raise RuntimeError(f"the bare app {factory} answered {done.errors} errors and {done.non_2xx} non-2xx")
    return done.per_second


@dataclass(frozen=True)
class FloorPlan:
    database_url: str
    decisions: int
    bare_seconds: float
    connections: int
    use_wrk: bool
    cores: int
    # Each stage is timed this many times and its median kept: the machine is shared and noisy.
    repeats: int = 3


def median_cost(costs: Sequence[Cost]) -> Cost:
    """The run whose total is the median (one whole run, so its parts belong together)."""
    return sorted(costs, key=lambda cost: cost.total_us)[len(costs) // 2]


async def _measure(facts: RegionFacts, plan: FloorPlan, seed: int) -> dict[str, Any]:
    engine = Engine(facts.policy, facts.snapshot)
    settle_after_build(replaced=False)  # as a serving process does after building its engine
    single, batched = bodies(facts, singles=plan.decisions, batches=plan.decisions // BATCH, seed=seed)
    # Each body once first, so the engine's cache is as warm as in a running server, then timed.
    for route, sent in ((SINGLE_ROUTE, single), (BATCH_ROUTE, batched)):
        await service_code(engine, route, sent)
    single_costs: list[Cost] = []
    events: list[AuditEvent] = []
    for _ in range(plan.repeats):
        cost, events = await service_code(engine, SINGLE_ROUTE, single)
        single_costs.append(cost)
    batch_code = median_cost([(await service_code(engine, BATCH_ROUTE, batched))[0] for _ in range(plan.repeats)])
    out: dict[str, Any] = {
        "decisions": len(events),
        "cores": plan.cores,
        "repeats": plan.repeats,
        "single_code_us": median_cost(single_costs).cpu_us,
        "batch_code_us": batch_code.cpu_us,
    }
    database = make_engine(plan.database_url)
    try:
        for size in COMMIT_SIZES:
            chains, stored, scratch = [], [], []
            for _ in range(plan.repeats):
                events = [renewed(event) for event in events]  # fresh ids: the table has the last run's
                chain_cost, batches = chained(events, size)
                chains.append(chain_cost)
                stored.append(await commits(database, batches, store.EVENTS))
                scratch.append(await scratch_commits(database, batches))
            real, bare_table = median_cost(stored), median_cost(scratch)
            out.update(
                {
                    f"chain_{size}_us": median_cost(chains).cpu_us,
                    f"store_{size}_cpu_us": real.cpu_us,
                    f"store_{size}_server_us": real.server_us,
                    f"store_{size}_wall_us": real.wall_us,
                    f"unindexed_{size}_cpu_us": bare_table.cpu_us,
                    f"unindexed_{size}_server_us": bare_table.server_us,
                    f"unindexed_{size}_wall_us": bare_table.wall_us,
                }
            )
    finally:
        await database.dispose()
    return out


def run(facts: RegionFacts, plan: FloorPlan, workdir: Path, *, seed: int) -> dict[str, Any]:
    """Measure every stage, the bare endpoint, and work out the best rates the cores allow."""
    result = asyncio.run(_measure(facts, plan, seed))
    single_body, _ = bodies(facts, singles=1, batches=0, seed=seed)
    for key, factory in (("bare_rps", "create_bare_app"), ("raw_bare_rps", "create_raw_bare_app")):
        result[key] = bare_rps(
            factory, plan.bare_seconds, plan.connections, single_body[0], workdir, use_wrk=plan.use_wrk
        )
    return {**result, **ceilings(result)}


def _per_decision(result: dict[str, Any], code: str, size: int, store_kind: str) -> float:
    server = result[f"{store_kind}_{size}_server_us"] or 0.0
    return float(result[code] + result[f"chain_{size}_us"] + result[f"{store_kind}_{size}_cpu_us"] + server)


def ceilings(result: dict[str, Any]) -> dict[str, float]:
    """The best rates the cores allow if they did only this work, with and without the query indexes.

    A batch decision costs the service code, chaining and the store (its CPU and the database server's); a single
    evaluation costs that plus what one HTTP request costs the machine: cores / the raw ASGI endpoint's req/s,
    which counts uvicorn's work and the load generator's share (the evaluation routes are raw ASGI too). The share
    is of the bare Litestar endpoint, as `bench http`'s target is.
    """
    budget = result["cores"] * 1e6
    http_us = budget / result["raw_bare_rps"]
    out: dict[str, float] = {"http_us": http_us}
    for kind in ("store", "unindexed"):
        batch_us = _per_decision(result, "batch_code_us", BATCH, kind)
        single_us = _per_decision(result, "single_code_us", COMMIT_SIZES[0], kind)
        out[f"{kind}_batch_decision_us"] = batch_us
        out[f"{kind}_single_request_us"] = single_us + http_us
        out[f"{kind}_batch_ceiling_per_s"] = budget / batch_us
        out[f"{kind}_single_ceiling_rps"] = budget / (single_us + http_us)
        out[f"{kind}_single_ceiling_share"] = out[f"{kind}_single_ceiling_rps"] / result["bare_rps"]
    return out


def rows(result: dict[str, Any]) -> list[Row]:
    """The table of `accessctl bench floor`, the ceilings against `bench http`'s targets."""

    def server(key: str) -> float:
        return float(result[key] or 0.0)

    out = [
        Row("service code, single evaluation (no database)", result["single_code_us"], "us"),
        Row(f"service code, per decision in batches of {BATCH}", result["batch_code_us"], "us"),
    ]
    for size in COMMIT_SIZES:
        out += [
            Row(f"chain, per event in batches of {size}", result[f"chain_{size}_us"], "us"),
            Row(f"store commit, {size} rows: this process", result[f"store_{size}_cpu_us"], "us"),
            Row(f"store commit, {size} rows: database server", server(f"store_{size}_server_us"), "us"),
            Row(f"store commit, {size} rows: wall", result[f"store_{size}_wall_us"], "us"),
            Row(
                f"same without the 4 query indexes, {size} rows: process + server",
                result[f"unindexed_{size}_cpu_us"] + server(f"unindexed_{size}_server_us"),
                "us",
            ),
        ]
    share = TARGETS["single_share"] * 100
    out += [
        Row("bare Litestar endpoint (the targets' reference)", result["bare_rps"], "/s"),
        Row("bare raw ASGI endpoint", result["raw_bare_rps"], "/s"),
        Row("machine time per raw ASGI request", result["http_us"], "us"),
        Row(
            "best batch rate, all indexes",
            result["store_batch_ceiling_per_s"],
            "/s",
            TARGETS["batch_decisions_per_s"],
            ">=",
        ),
        Row(
            "best batch rate, without the 4 query indexes",
            result["unindexed_batch_ceiling_per_s"],
            "/s",
            TARGETS["batch_decisions_per_s"],
            ">=",
        ),
        Row("best single / bare, all indexes", result["store_single_ceiling_share"] * 100, "%", share, ">="),
        Row(
            "best single / bare, without the 4 query indexes",
            result["unindexed_single_ceiling_share"] * 100,
            "%",
            share,
            ">=",
        ),
    ]
    return out
