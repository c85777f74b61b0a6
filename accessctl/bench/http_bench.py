"""HTTP benchmark: the real server and a bare Litestar app, started side by side and driven on loopback."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from accessctl.bench.drivers import Load, LoadResult, drive
from accessctl.bench.mix import PATIENT_KINDS, request_mix
from accessctl.bench.region import RegionFacts
from accessctl.bench.report import Row
from accessctl.bench.servers import bench_token, clean_env, free_port, running_server, serve_command, server_env
from accessctl.engine import AccessRequest
from accessctl.settings import Settings

BATCH = 100
TARGETS = {"single_share": 0.5, "single_p99_ms": 15.0, "batch_decisions_per_s": 50_000.0}
CONTEXT = {"client_system": "accessctl-bench", "workstation": "bench-01"}


@dataclass(frozen=True)
class HttpPlan:
    """How long and how hard each scenario is driven."""

    seconds: float
    connections: int
    warmup_seconds: float
    use_wrk: bool
    # Bare, single and batch are driven in turn this many times; figures are medians over the rounds, and the share
    # of bare is taken within each round (this machine's speed drifts by a fifth between minutes).
    rounds: int = 3
    ready_timeout_s: float = 180.0
    # Workers of the audited server; the bare reference always has 2, the best this machine serves.
    workers: int = 2


def evaluation(request: AccessRequest) -> dict[str, Any]:
    """One AuthZEN evaluation (DESIGN §2's shape) without its context."""
    resource: dict[str, Any] = {"patient": request.patient, "unit": request.resource_unit}
    return {
        "subject": {
            "type": "user",
            "id": request.user_id,
            "properties": {"unit": request.unit_id, "purpose_of_use": request.purpose_of_use or "TREAT"},
        },
        "action": {"name": request.action},
        "resource": {
            "type": request.resource_type,
            "id": request.resource_id,
            "properties": {k: v for k, v in resource.items() if v is not None},
        },
    }


def bodies(facts: RegionFacts, singles: int, batches: int, seed: int) -> tuple[list[str], list[str]]:
    """Single evaluations about patients, and batches of BATCH of them with the context as the top-level default."""
    mix = request_mix(
        facts.policy, facts.snapshot, facts.now, singles + batches * BATCH, seed=seed, kinds=PATIENT_KINDS
    )
    requests = [m.request for m in mix]
    single = [json.dumps({**evaluation(r), "context": CONTEXT}) for r in requests[:singles]]
    rest = requests[singles:]
    batched = [
        json.dumps({"context": CONTEXT, "evaluations": [evaluation(r) for r in rest[i : i + BATCH]]})
        for i in range(0, len(rest) - BATCH + 1, BATCH)
    ]
    return single, batched


def bare_command(port: int, factory: str = "create_bare_app", *, lifespan: bool = True) -> list[str]:
    """The reference: the bare Litestar app (or another factory of `bench.bare_app`) with 2 workers, served as
    `accessctl serve` serves (`bench.bare_serve`)."""
    command = [sys.executable, "-m", "accessctl.bench.bare_serve", factory, str(port)]
    return command if lifespan else [*command, "--no-lifespan"]


def _check(base: str, path: str, headers: dict[str, str], body: str, expect: int) -> None:
    """One request before timing: a scenario that answers errors would be timed for nothing."""
    response = httpx.post(base + path, content=body, headers=headers, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:500]}")
    answers = response.json().get("evaluations", [response.json()])
    if len(answers) != expect or not all("decision" in a for a in answers):
        raise RuntimeError(f"{path} answered an unexpected shape: {response.text[:500]}")


def run(facts: RegionFacts, settings: Settings, plan: HttpPlan, workdir: Path, *, seed: int) -> dict[str, Any]:
    """Start both servers, drive the bare, single and batch scenarios in turn for each round, stop both servers."""
    single, batched = bodies(facts, singles=5000, batches=50, seed=seed)
    token = bench_token(settings, ["authz:evaluate"])
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    bare_port, app_port = free_port(), free_port()
    bare_cmd = bare_command(bare_port)
    app_cmd = serve_command(app_port, workers=plan.workers)
    results: dict[str, list[LoadResult]] = {}
    with ExitStack() as stack:
        bare = stack.enter_context(
            running_server(
                bare_cmd,
                clean_env({}),
                bare_port,
                workdir / "bare.log",
                ready_path="/health/ready",
                timeout_s=plan.ready_timeout_s,
            )
        )
        app = stack.enter_context(
            running_server(
                app_cmd,
                server_env(settings),
                app_port,
                workdir / "server.log",
                ready_path="/health/ready",
                timeout_s=plan.ready_timeout_s,
            )
        )
        scenarios = {
            "bare": (bare_port, "/bare", single),
            "single": (app_port, "/access/v1/evaluation", single),
            "batch": (app_port, "/access/v1/evaluations", batched),
        }
        _check(bare, "/bare", headers, single[0], 1)
        _check(app, "/access/v1/evaluation", headers, single[0], 1)
        _check(app, "/access/v1/evaluations", headers, batched[0], BATCH)
        for round_ in range(plan.rounds):
            for name, (port, path, sent) in scenarios.items():
                if round_ == 0 and plan.warmup_seconds > 0:
                    drive(
                        Load(port, path, headers, sent, plan.connections, plan.warmup_seconds),
                        workdir,
                        use_wrk=plan.use_wrk,
                    )
                result = drive(
                    Load(port, path, headers, sent, plan.connections, plan.seconds), workdir, use_wrk=plan.use_wrk
                )
                results.setdefault(name, []).append(result)
    return summary(results, len(facts.snapshot.users), plan)


def summary(results: dict[str, list[LoadResult]], users: int, plan: HttpPlan) -> dict[str, Any]:
    """Medians over the rounds; the single/bare share is each round's own, then their median."""
    shares = [
        single.per_second / bare.per_second if bare.per_second else 0.0
        for bare, single in zip(results["bare"], results["single"], strict=True)
    ]
    out: dict[str, Any] = {
        "users": users,
        "connections": plan.connections,
        "seconds": plan.seconds,
        "rounds": plan.rounds,
        "workers": plan.workers,
        "load_generator": "wrk" if plan.use_wrk else "python",
        "batch_size": BATCH,
        "single_share_of_bare": median(shares),
        "single_share_of_bare_rounds": shares,
        "batch_decisions_per_s": median(r.per_second for r in results["batch"]) * BATCH,
    }
    for name, runs in results.items():
        out.update(
            {
                f"{name}_rps": median(r.per_second for r in runs),
                f"{name}_rps_rounds": [r.per_second for r in runs],
                f"{name}_p50_ms": median(r.p50_ms for r in runs),
                f"{name}_p99_ms": median(r.p99_ms for r in runs),
                f"{name}_p99_ms_rounds": [r.p99_ms for r in runs],
                f"{name}_requests": sum(r.requests for r in runs),
                f"{name}_errors": sum(r.errors for r in runs),
                f"{name}_non_2xx": sum(r.non_2xx for r in runs),
            }
        )
    return out


def rows(result: dict[str, Any]) -> list[Row]:
    """The table of `accessctl bench http`, with the team's targets."""
    c = result["connections"]
    return [
        Row(f"bare endpoint req/s ({c} conn)", result["bare_rps"], "/s"),
        Row("bare p50", result["bare_p50_ms"], "ms"),
        Row("bare p99", result["bare_p99_ms"], "ms"),
        Row(f"single evaluation req/s ({c} conn)", result["single_rps"], "/s"),
        Row("single / bare req/s", result["single_share_of_bare"] * 100, "%", TARGETS["single_share"] * 100, ">="),
        Row("single p50", result["single_p50_ms"], "ms"),
        Row("single p99", result["single_p99_ms"], "ms", TARGETS["single_p99_ms"]),
        Row(f"batch of {BATCH} req/s ({c} conn)", result["batch_rps"], "/s"),
        Row("batch decisions/s", result["batch_decisions_per_s"], "/s", TARGETS["batch_decisions_per_s"], ">="),
        Row("batch p50", result["batch_p50_ms"], "ms"),
        Row("batch p99", result["batch_p99_ms"], "ms"),
    ]
