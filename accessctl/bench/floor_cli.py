"""`accessctl bench floor`: the CPU an audited decision costs, stage by stage, and the best rates the cores allow."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import click

from accessctl.bench.options import demo_region_options


@click.command("floor")
@demo_region_options
@click.option(
    "--decisions",
    type=click.IntRange(min=1000),
    default=20_000,
    show_default=True,
    help="Decisions timed in each stage (single evaluations, and as many in batches of 100).",
)
@click.option(
    "--bare-seconds",
    type=click.FloatRange(min=1, max=300),
    default=10.0,
    show_default=True,
    help="Measured time of the bare endpoint (as long as each scenario of `bench http`).",
)
@click.option("--connections", type=click.IntRange(1, 1024), default=32, show_default=True, help="For the bare run.")
@click.option(
    "--database-url",
    default=None,
    help="Use this scratch database (created if missing, loaded with the demo when empty). Made-up decision "
    "records stay in its append-only audit log, so one that holds decision records already is refused.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.pass_context
def floor(
    ctx: click.Context,
    users: int,
    seed: int,
    decisions: int,
    bare_seconds: float,
    connections: int,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Time each stage of an audited decision with nothing waiting, and the bare endpoint, in one run.

    The ceilings are what the machine's cores could reach doing only that work: a target above them cannot be met
    here by tuning the service.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from accessctl.bench import floor_bench, floor_report
    from accessctl.bench.cli import settings_for
    from accessctl.bench.drivers import wrk_path
    from accessctl.bench.machine import usable_cores
    from accessctl.bench.region import prepare_region, read_facts
    from accessctl.bench.report import misses, render_table
    from accessctl.bench.servers import bench_token

    use_wrk = wrk_path() is not None
    cores = usable_cores()
    with tempfile.TemporaryDirectory(prefix="accessctl-bench-floor-") as tmp:
        settings = settings_for(ctx, database_url, Path(tmp))
        click.echo(f"preparing the demo region ({users} users) in {settings.database_url_redacted}", err=True)
        prepare_region(settings, users, seed)
        facts = read_facts(settings)
        token = bench_token(settings, ["authz:evaluate"])
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        plan = floor_bench.FloorPlan(
            settings.database_url.reveal(), decisions, bare_seconds, connections, use_wrk, cores, headers
        )
        click.echo(f"timing {decisions} decisions per stage, then the bare endpoints for {bare_seconds:g} s", err=True)
        try:
            result = floor_bench.run(facts, plan, Path(tmp), seed=seed)
        except floor_bench.NotAScratchDatabase as exc:
            raise click.ClickException(str(exc)) from exc
        except (RuntimeError, OSError, subprocess.SubprocessError, SQLAlchemyError) as exc:
            raise click.ClickException(f"the floor bench stopped: {str(exc).splitlines()[0]}") from exc
    result.update(floor_report.ceilings(result))
    rows = floor_report.rows(result)
    result["misses"] = misses(rows)
    result["database"] = settings.database_url_redacted.split(":", 1)[0]
    result["load_generator"] = "wrk" if use_wrk else "python"
    notes = [
        f"{len(facts.snapshot.users)} users; database {result['database']}; {cores} cores; microseconds per decision",
        "service code: the evaluation route's own functions (decode, map, decide, audit events, encode), no store",
        "store: the audit store's insert and commit, one transaction per batch; server CPU is PostgreSQL's backend",
        f"batches commit {floor_bench.BATCH_COMMIT} rows at a time, as the audit writer merges them",
        "best rates: the cores doing only this work, nothing waiting; a MISS there needs less work per decision",
    ]
    if not use_wrk:
        notes.append("wrk is not installed: the HTTP cost is the Python load generator's, far above wrk's")
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(render_table("accessctl bench floor", rows, notes))
