"""`accessctl bench`, `bench http`, `bench floor` and `bench scim` run end to end on a small demo region."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text

from accessctl.audit import store
from accessctl.audit.actions import DECISIONS
from accessctl.bench import floor_bench, floor_report, scim_bench
from accessctl.bench.region import prepare_region
from accessctl.bench.scim_calls import LABELS, OPERATIONS
from accessctl.cli import main
from accessctl.db import Database
from accessctl.directory.models import User
from accessctl.settings import Secret, Settings
from tests.databases import fresh_database

ENGINE_KEYS = {
    "casbin_enforce_us_median",
    "decide_cold_us_median",
    "decide_cold_us_p99",
    "decide_warm_us_median",
    "decide_warm_us_p99",
    "build_s",
    "peak_rss_mib",
    "ratio",
}
HTTP_KEYS = {
    "bare_rps",
    "bare_p99_ms",
    "single_rps",
    "single_p50_ms",
    "single_p99_ms",
    "batch_rps",
    "batch_decisions_per_s",
    "single_share_of_bare",
}


def _run(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


def _loopback_bindable() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
    except OSError:
        return False
    return True


def test_engine_bench_reports_casbin_cold_warm_build_and_rss_as_positive_numbers() -> None:
    result = _run(["bench", "--users", "300", "--sample", "3", "--requests", "200", "--json"])
    assert result.keys() >= ENGINE_KEYS
    assert all(isinstance(result[k], float) and result[k] > 0 for k in ENGINE_KEYS)
    assert result["users"] == 300
    assert result["casbin_sample"] == 3
    assert result["decide_cold_sample"] == 200
    assert result["decide_warm_sample"] == 200 * 20
    assert isinstance(result["policy_lines"], int) and result["policy_lines"] > 0
    assert isinstance(result["grouping_lines"], int) and result["grouping_lines"] > 0
    mix = result["mix"]
    assert isinstance(mix, dict)
    assert any(k.endswith(":permit") for k in mix) and any(k.endswith(":deny") for k in mix)


@pytest.mark.parametrize("client", ["default", "python"])
def test_http_bench_drives_both_servers_and_reports_throughput_and_latency(client: str) -> None:
    if not _loopback_bindable():
        pytest.skip("no loopback port can be bound here")
    # The Python client's run also serves with one worker: the option reaches the server and the report.
    extra = ["--python-client", "--workers", "1"] if client == "python" else []
    args = ["bench", "http", "--users", "300", "--seconds", "1", "--rounds", "2", "--connections", "4", *extra]
    result = _run([*args, "--json"])
    assert result.keys() >= HTTP_KEYS
    assert all(isinstance(result[k], float) and result[k] > 0 for k in HTTP_KEYS)
    assert result["batch_decisions_per_s"] == pytest.approx(result["batch_rps"] * 100)
    assert len(result["single_share_of_bare_rounds"]) == 2
    assert result["cpus"] == len(os.sched_getaffinity(0))  # the cores it may use, as `bench floor` counts them
    for scenario in ("bare", "single", "batch"):
        assert len(result[f"{scenario}_rps_rounds"]) == 2 and all(rps > 0 for rps in result[f"{scenario}_rps_rounds"])
        assert result[f"{scenario}_requests"] > 0
        assert result[f"{scenario}_non_2xx"] == 0
        assert result[f"{scenario}_errors"] == 0
    assert result["workers"] == (1 if client == "python" else 2)
    if client == "python":
        assert result["load_generator"] == "python"


async def _joiners(url: str) -> int:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            query = select(func.count()).select_from(User).where(User.user_name.like("bench-%@bench.example"))
            return int(await session.scalar(query) or 0)
    finally:
        await database.dispose()


def _sane(figures: dict[str, Any], prefix: str = "") -> None:
    """Positive percentiles in order, and the verdict they and the error count call for."""
    median, p90, p99, top = (figures[f"{prefix}{name}_ms"] for name in ("median", "p90", "p99", "max"))
    assert 0 < median <= p90 <= p99 <= top
    assert figures[f"{prefix}verdict"] == ("pass" if p99 <= 50 and not figures[f"{prefix}errors"] else "MISS")


def test_scim_bench_times_every_operation_and_reports_sane_percentiles(tmp_path: Path) -> None:
    if not _loopback_bindable():
        pytest.skip("no loopback port can be bound here")
    calls = 4
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        # Four clients write at once: on SQLite too, none of them may fail (write requests begin IMMEDIATE).
        clients = 4
        args = ["--users", "1000", "--calls", str(calls), "--clients", str(clients), "--database-url", url, "--json"]
        result = _run(["bench", "scim", *args])
        joiners = asyncio.run(_joiners(url))
    operations = result["operations"]
    assert set(operations) == set(OPERATIONS)
    for name, op in operations.items():
        assert (op["count"], op["errors"], op["first_error"]) == (calls, 0, None), name
        _sane(op)
    assert operations["post"]["count"] <= joiners <= calls + scim_bench.WARMUP
    assert joiners == calls + scim_bench.WARMUP
    assert result["scim_count"] == sum(op["count"] for op in operations.values())
    assert result["scim_errors"] == sum(op["errors"] for op in operations.values())
    _sane(result, "scim_")
    assert result["scim_max_ms"] == max(op["max_ms"] for op in operations.values())
    assert (result["target_p99_ms"], result["clients"], result["calls_per_operation"]) == (50.0, clients, calls)
    assert result["cpus"] == len(os.sched_getaffinity(0))
    assert result["users"] > 900
    missed = [LABELS[name] for name in OPERATIONS if operations[name]["verdict"] == "MISS"]
    assert result["misses"] == missed + (["all operations"] if result["scim_verdict"] == "MISS" else [])
    table = scim_bench.table(result, []).splitlines()
    for name, op in operations.items():
        line = next(ln for ln in table if ln.startswith(LABELS[name]))
        assert line.split()[-1] == op["verdict"] and f" {op['count']} " in line
    assert any(ln.startswith("all operations") for ln in table)


async def _decision_rows_and_tables(url: str) -> tuple[int, set[str]]:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(store.EVENTS).where(store.EVENTS.c.action.in_(DECISIONS))
            )
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        return int(count or 0), tables
    finally:
        await database.dispose()


def test_floor_bench_times_every_stage_into_the_audit_table_and_refuses_a_log_with_decisions(tmp_path: Path) -> None:
    if not _loopback_bindable():
        pytest.skip("no loopback port can be bound here")
    server = os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None
    decisions = 1000
    with fresh_database(server, tmp_path) as url:
        args = ["bench", "floor", "--users", "300", "--decisions", str(decisions), "--bare-seconds", "1"]
        result = _run([*args, "--database-url", url, "--json"])
        stored, tables = asyncio.run(_decision_rows_and_tables(url))
        again = CliRunner().invoke(main, [*args, "--database-url", url, "--json"])
    # Every timed commit went into the real audit table, through the store; the scratch table is gone again.
    assert stored == result["repeats"] * sum(decisions // size * size for size in floor_bench.COMMIT_SIZES)
    assert floor_bench.SCRATCH not in tables and f"{floor_bench.SCRATCH}_all" not in tables
    # A second run would add made-up decisions to a log that holds some: refused, with the reason, no traceback.
    assert again.exit_code != 0
    assert "holds decision records already" in again.output and "Traceback" not in again.output
    stages = ["single_code_us", "batch_code_us", "bare_rps", "raw_bare_rps", "raw_bare_cpu_us"] + [
        f"{stage}_{size}_{part}"
        for size in floor_bench.COMMIT_SIZES
        for stage in ("store", "unindexed")
        for part in ("cpu_us", "wall_us")
    ]
    assert all(result[key] > 0 for key in stages)
    servers = [
        result[f"{kind}_{size}_server_us"] for kind in ("store", "unindexed") for size in floor_bench.COMMIT_SIZES
    ]
    if server:  # PostgreSQL's backend does the store's work, and its CPU is counted
        assert all(figure is not None and figure > 0 for figure in servers)
    else:  # SQLite works in this process
        assert servers == [None] * 4
    assert result["misses"] == [row.label for row in floor_report.rows(result) if row.verdict == "MISS"]


async def _wal_positions(url: str, since: str) -> tuple[str, float, float]:
    """The WAL's current position; how far it and the latest checkpoint's start are past `since`, in bytes."""
    database = Database.from_settings(Settings(database_url=Secret(url)))
    query = (
        "SELECT pg_current_wal_lsn()::text,"
        " pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(CAST(:since AS text) AS pg_lsn)),"
        " pg_wal_lsn_diff((SELECT redo_lsn FROM pg_control_checkpoint()), CAST(CAST(:since AS text) AS pg_lsn))"
    )
    try:
        async with database.engine.connect() as conn:
            row = (await conn.execute(text(query), {"since": since})).one()
            return str(row[0]), float(row[1]), float(row[2])
    finally:
        await database.dispose()


def test_preparing_the_region_on_postgresql_writes_the_load_back_before_anything_is_timed(tmp_path: Path) -> None:
    server = os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None
    if not server:
        pytest.skip("a CHECKPOINT is PostgreSQL's (SQLite's load empties its WAL as its last connection closes)")
    with fresh_database(server, tmp_path) as url:
        settings = Settings(database_url=Secret(url), data_dir=tmp_path)
        start, _, _ = asyncio.run(_wal_positions(url, "0/0"))
        assert prepare_region(settings, users=300, seed=7)
        _, loaded, checkpointed = asyncio.run(_wal_positions(url, start))
        # The load wrote WAL, and the latest checkpoint began after all of it: its pages were written back then,
        # not during the first scenario timed.
        assert loaded > 1_000_000
        assert checkpointed >= loaded - 100_000
