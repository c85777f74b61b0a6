"""What `bench floor`'s stage costs allow: the best rates the cores could reach, against `bench http`'s targets."""

from __future__ import annotations

from typing import Any

from accessctl.bench.floor_bench import BATCH_COMMIT, COMMIT_SIZES, SINGLE_COMMIT
from accessctl.bench.http_bench import TARGETS
from accessctl.bench.report import Row

KINDS = ("store", "unindexed")


def _per_decision(result: dict[str, Any], code: str, size: int, kind: str) -> float:
    server = result[f"{kind}_{size}_server_us"] or 0.0
    return float(result[code] + result[f"chain_{size}_us"] + result[f"{kind}_{size}_cpu_us"] + server)


def ceilings(result: dict[str, Any]) -> dict[str, float]:
    """The best rates the cores allow doing only this work, with and without the query indexes.

    A decision in a batch costs the service code, chaining and the store at the writer's largest commit (its CPU
    and the database server's); a single evaluation costs the same at single evaluations' commit size, plus the
    machine's busy CPU per request of the raw ASGI endpoint (uvicorn, the kernel, the load generator: what an
    evaluation pays for HTTP, as the evaluation routes are raw ASGI). The share is of the bare Litestar endpoint,
    as `bench http`'s target is.
    """
    budget = result["cores"] * 1e6
    out: dict[str, float] = {}
    for kind in KINDS:
        batch_us = _per_decision(result, "batch_code_us", BATCH_COMMIT, kind)
        single_us = _per_decision(result, "single_code_us", SINGLE_COMMIT, kind) + result["raw_bare_cpu_us"]
        out[f"{kind}_batch_decision_us"] = batch_us
        out[f"{kind}_single_request_us"] = single_us
        out[f"{kind}_batch_ceiling_per_s"] = budget / batch_us
        out[f"{kind}_single_ceiling_rps"] = budget / single_us
        out[f"{kind}_single_ceiling_share"] = out[f"{kind}_single_ceiling_rps"] / result["bare_rps"]
    return out


def rows(result: dict[str, Any]) -> list[Row]:
    """The table of `accessctl bench floor`: the stages, the bare endpoints, and the ceilings against the targets."""

    def server(key: str) -> float:
        return float(result[key] or 0.0)

    out = [
        Row("service code, single evaluation (no store)", result["single_code_us"], "us"),
        Row("service code, per decision in batches of 100", result["batch_code_us"], "us"),
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
    batch = TARGETS["batch_decisions_per_s"]
    out += [
        Row("bare Litestar endpoint (the targets' reference)", result["bare_rps"], "/s"),
        Row("bare raw ASGI endpoint", result["raw_bare_rps"], "/s"),
        Row("machine CPU per raw ASGI request", result["raw_bare_cpu_us"], "us"),
        Row("best batch rate, all indexes", result["store_batch_ceiling_per_s"], "/s", batch, ">="),
        Row("best batch rate, without the 4 query indexes", result["unindexed_batch_ceiling_per_s"], "/s", batch, ">="),
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
