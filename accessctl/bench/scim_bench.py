"""SCIM benchmark: the real server on loopback, a few clients sending single-user calls, latency per operation."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from accessctl.bench.report import Latencies, render_latency_table
from accessctl.bench.scim_calls import LABELS, ON_EXISTING, OPERATIONS, ScimCall, Staff, plan_calls
from accessctl.bench.servers import bench_token, free_port, running_server, serve_command, server_env
from accessctl.settings import Settings

# The HR issue: SCIM single-user operations p99 <= 50 ms.
TARGET_P99_MS = 50.0
# Untimed calls of each operation first: connections opened, each worker's first write done.
WARMUP = 3
SCIM_JSON = "application/scim+json"
# A call with no answer by then counts as wrong; the server's SQLite busy timeout is 30 s too.
CALL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ScimPlan:
    """How many timed calls of each operation, over how many concurrent clients, to a server of how many workers."""

    calls: int
    clients: int
    workers: int
    ready_timeout_s: float = 180.0

    @property
    def users_needed(self) -> int:
        """Existing users the plan uses up: one per timed or warm-up call, joiners aside."""
        return (self.calls + WARMUP) * len(ON_EXISTING)


@dataclass
class Tally:
    """What the clients saw: each correct answer's latency under its operation, and each wrong answer."""

    timings: list[tuple[str, float]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def wrong(self, call: ScimCall, response: httpx.Response | None) -> bool:
        """Record the answer as an error unless it has the status (and, for a search, the count) a right one has."""
        problem = None
        if response is None:
            problem = f"no answer in {CALL_TIMEOUT_S:.0f} s"
        elif response.status_code != call.expect:
            problem = f"answered {response.status_code}, not {call.expect}: {response.text[:300]}"
        elif call.total is not None and response.json().get("totalResults") != call.total:
            problem = f"found {response.json().get('totalResults')} users, not {call.total}"
        if problem is not None:
            self.errors.setdefault(call.operation, []).append(f"{call.method} {call.path}: {problem}")
        return problem is not None


async def _drive(base: str, headers: dict[str, str], calls: list[ScimCall], clients: int) -> Tally:
    """Send `calls` in order over `clients` keep-alive connections, each client taking the next call when free."""
    pending = deque(calls)
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=CALL_TIMEOUT_S, limits=limits) as client:

        async def one_client() -> None:
            while pending:
                call = pending.popleft()
                started = time.perf_counter()
                try:
                    response: httpx.Response | None = await client.request(
                        call.method, call.path, params=call.params, content=call.content
                    )
                except httpx.TimeoutException:
                    response = None
                elapsed_ms = (time.perf_counter() - started) * 1000
                if not tally.wrong(call, response):
                    tally.timings.append((call.operation, elapsed_ms))

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(clients):
                    group.create_task(one_client())
        except ExceptionGroup as failed:
            # A connection error stops every client; report the first, not the group.
            raise failed.exceptions[0] from None
    return tally


def run(staff: Staff, settings: Settings, plan: ScimPlan, workdir: Path, *, seed: int, tag: str) -> dict[str, Any]:
    """Start the server, send the warm-up calls, then the timed ones (operations shuffled together), stop it."""
    planned = plan_calls(staff, plan.calls + WARMUP, seed=seed, tag=tag)
    warmup = [call for op in OPERATIONS for call in planned[op][:WARMUP]]
    timed = [call for op in OPERATIONS for call in planned[op][WARMUP:]]
    # Mixed, as HR's changes arrive: a read may wait behind another client's write.
    random.Random(seed).shuffle(timed)
    headers = {"Content-Type": SCIM_JSON, "Authorization": f"Bearer {bench_token(settings, ['hr:write'])}"}
    port, log_path = free_port(), workdir / "server.log"
    server = running_server(
        serve_command(port, plan.workers),
        server_env(settings),
        port,
        log_path,
        ready_path="/health/ready",
        timeout_s=plan.ready_timeout_s,
    )
    try:
        with server as base:
            asyncio.run(_drive(base, headers, warmup, plan.clients))
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            tally = asyncio.run(_drive(base, headers, timed, plan.clients))
            seconds = time.perf_counter() - started
            load_after = os.getloadavg()[0]
    except httpx.HTTPError as exc:
        # Read once the server has stopped, so its log is complete.
        raise RuntimeError(f"{type(exc).__name__} {exc}; server log: {log_path.read_text()[-2000:]}") from exc
    result = summary(tally, staff, plan, seconds)
    # The machine may be shared: how busy it was says how far to trust the figures.
    result["load_average_1m"] = [load_before, load_after]
    return result


def _figures(latencies: Latencies, errors: list[str]) -> dict[str, Any]:
    return {
        "count": latencies.count,
        "errors": latencies.errors,
        "median_ms": latencies.median_ms,
        "p90_ms": latencies.p90_ms,
        "p99_ms": latencies.p99_ms,
        "max_ms": latencies.max_ms,
        "verdict": latencies.verdict(TARGET_P99_MS),
        "first_error": errors[0] if errors else None,
    }


def summary(tally: Tally, staff: Staff, plan: ScimPlan, seconds: float) -> dict[str, Any]:
    """Every figure as JSON: per operation under `operations`, and over all operations as `scim_*`."""
    operations = {
        op: Latencies.of([ms for name, ms in tally.timings if name == op], len(tally.errors.get(op, [])))
        for op in OPERATIONS
    }
    everything = Latencies.of([ms for _, ms in tally.timings], sum(len(e) for e in tally.errors.values()))
    overall = _figures(everything, [])
    return {
        "users": staff.active,
        "calls_per_operation": plan.calls,
        "clients": plan.clients,
        "workers": plan.workers,
        "seconds": seconds,
        "target_p99_ms": TARGET_P99_MS,
        **{f"scim_{name}": overall[name] for name in ("count", "errors", "median_ms", "p90_ms", "p99_ms", "max_ms")},
        "scim_verdict": overall["verdict"],
        "operations": {op: _figures(lat, tally.errors.get(op, [])) for op, lat in operations.items()},
    }


def _latencies(figures: dict[str, Any]) -> Latencies:
    names = ("count", "median_ms", "p90_ms", "p99_ms", "max_ms", "errors")
    return Latencies(*(figures[name] for name in names))


def latency_rows(result: dict[str, Any]) -> list[tuple[str, Latencies]]:
    """The table's lines: one per operation, then all operations together."""
    operations: dict[str, dict[str, Any]] = result["operations"]
    lines = [(LABELS[op], _latencies(operations[op])) for op in OPERATIONS]
    overall = {name.removeprefix("scim_"): value for name, value in result.items() if name.startswith("scim_")}
    return [*lines, ("all operations", _latencies(overall))]


def misses(result: dict[str, Any]) -> list[str]:
    """The lines whose p99 misses the target, or that had wrong answers."""
    return [label for label, figures in latency_rows(result) if figures.verdict(TARGET_P99_MS) == "MISS"]


def table(result: dict[str, Any], notes: list[str]) -> str:
    """The printed table: the lines, the notes, then the first wrong answer of each operation that had any."""
    errors = [
        f"{op}: {f['errors']} wrong, first {f['first_error']}" for op, f in result["operations"].items() if f["errors"]
    ]
    return render_latency_table("accessctl bench scim", latency_rows(result), TARGET_P99_MS, [*notes, *errors])
