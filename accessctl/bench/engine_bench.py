"""Engine benchmark: stock pycasbin's enforce on the export beside decide() cold and warm, in one process."""

from __future__ import annotations

import resource
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accessctl.bench.mix import MixedRequest, request_mix
from accessctl.bench.region import RegionFacts
from accessctl.bench.report import Row, mid, p99
from accessctl.engine import Engine, measure
from accessctl.policies.casbin_export import write_export

TARGETS = {"warm_us": 5.0, "cold_us": 50.0, "ratio": 10_000.0, "build_s": 10.0, "rss_mib": 1024.0}


@dataclass(frozen=True)
class CasbinResult:
    """Per-call time of stock `Enforcer.enforce` on the exported files."""

    median_us: float
    p99_us: float
    calls: int
    load_s: float
    allowed: int
    policy_lines: int
    grouping_lines: int


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def casbin_enforce(facts: RegionFacts, sample: list[MixedRequest], out_dir: Path) -> CasbinResult:
    """Export the policy and the live assignments, load them into stock Casbin, time `enforce` per request."""
    import casbin

    model_path, policy_path = write_export(out_dir, facts.policy, facts.live_assignments, facts.now)
    lines = policy_path.read_text(encoding="utf-8").splitlines()
    started = time.perf_counter()
    enforcer = casbin.Enforcer(str(model_path), str(policy_path))
    load_s = time.perf_counter() - started
    # One call before timing: the first builds the role manager's lookups and would skew a small sample.
    enforcer.enforce("warm-up", "warm-up", "warm-up", "warm-up")
    times: list[float] = []
    allowed = 0
    for item in sample:
        r = item.request
        started_ns = time.perf_counter_ns()
        allowed += bool(enforcer.enforce(r.user_id, r.unit_id or "", r.resource_type, r.action))
        times.append((time.perf_counter_ns() - started_ns) / 1000)
    return CasbinResult(
        median_us=mid(times),
        p99_us=p99(times),
        calls=len(times),
        load_s=load_s,
        allowed=allowed,
        policy_lines=sum(line.startswith("p,") for line in lines),
        grouping_lines=sum(line.startswith("g,") for line in lines),
    )


def run(
    facts: RegionFacts, *, sample: int, requests: int, warm_repeats: int, seed: int, out_dir: Path
) -> dict[str, Any]:
    """Build the engine, time decide() on the mix, time Casbin on a sample of it; returns the figures."""
    started = time.perf_counter()
    engine = Engine(facts.policy, facts.snapshot)
    build_s = time.perf_counter() - started
    mix = request_mix(facts.policy, facts.snapshot, facts.now, requests, seed=seed)
    outcomes = Counter((m.kind, engine.decide(m.request).allowed) for m in mix)
    engine.clear_cache()
    timed = measure(engine, [m.request for m in mix], warm_repeats=warm_repeats)
    casbin = casbin_enforce(facts, mix[:: max(1, len(mix) // sample)][:sample], out_dir)
    return {
        "users": len(facts.snapshot.users),
        "policy_version": facts.policy.version,
        "policy_lines": casbin.policy_lines,
        "grouping_lines": casbin.grouping_lines,
        "casbin_enforce_us_median": casbin.median_us,
        "casbin_enforce_us_p99": casbin.p99_us,
        "casbin_load_s": casbin.load_s,
        "casbin_sample": casbin.calls,
        "casbin_allowed": casbin.allowed,
        "decide_cold_us_median": timed.cold_median_us,
        "decide_cold_us_p99": timed.cold_p99_us,
        "decide_warm_us_median": timed.warm_median_us,
        "decide_warm_us_p99": timed.warm_p99_us,
        "decide_cold_sample": timed.cold_calls,
        "decide_warm_sample": timed.warm_calls,
        "build_s": build_s,
        "peak_rss_mib": peak_rss_mib(),
        "ratio": casbin.median_us / timed.cold_median_us,
        "ratio_warm": casbin.median_us / timed.warm_median_us,
        "mix": {f"{kind}:{'permit' if ok else 'deny'}": n for (kind, ok), n in sorted(outcomes.items())},
    }


def rows(result: dict[str, Any]) -> list[Row]:
    """The table of `accessctl bench`, with the team's targets."""
    return [
        Row(f"casbin enforce median (n={result['casbin_sample']})", result["casbin_enforce_us_median"], "us"),
        Row(
            f"decide cold median (n={result['decide_cold_sample']})",
            result["decide_cold_us_median"],
            "us",
            TARGETS["cold_us"],
        ),
        Row("decide cold p99", result["decide_cold_us_p99"], "us"),
        Row(
            f"decide warm median (n={result['decide_warm_sample']})",
            result["decide_warm_us_median"],
            "us",
            TARGETS["warm_us"],
        ),
        Row("decide warm p99", result["decide_warm_us_p99"], "us"),
        Row("ratio casbin / cold", result["ratio"], "x", TARGETS["ratio"], ">="),
        Row("ratio casbin / warm", result["ratio_warm"], "x"),
        Row("engine build", result["build_s"], "s", TARGETS["build_s"]),
        Row("peak RSS", result["peak_rss_mib"], "MiB", TARGETS["rss_mib"]),
    ]
