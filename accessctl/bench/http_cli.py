"""`accessctl bench http`: requests/s and latency of the real server beside a bare Litestar app, on loopback."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import click

from accessctl.bench.machine import usable_cores
from accessctl.bench.options import demo_region_options


def _client_name(use_wrk: bool) -> str:
    return "wrk (1 thread)" if use_wrk else "the Python load generator (its own process)"


@click.command("http")
@demo_region_options
@click.option(
    "--seconds",
    type=click.FloatRange(min=1, max=300),
    default=10.0,
    show_default=True,
    help="Measured time per scenario (bare, single, batch) and round; each gets a short warm-up first.",
)
@click.option(
    "--rounds",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Times the three scenarios are driven in turn; the figures are medians over the rounds.",
)
@click.option(
    "--connections",
    type=click.IntRange(1, 1024),
    default=32,
    show_default=True,
    help="Concurrent keep-alive connections.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Workers of the audited server (the bare endpoint always has 2).",
)
@click.option(
    "--database-url",
    default=None,
    help="Serve from this database (created if missing, loaded with the demo when empty).",
)
@click.option(
    "--python-client", "python_client", is_flag=True, help="Use the Python load generator even if wrk is installed."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.pass_context
def http(
    ctx: click.Context,
    users: int,
    seed: int,
    seconds: float,
    rounds: int,
    connections: int,
    workers: int,
    database_url: str | None,
    python_client: bool,
    as_json: bool,
) -> None:
    """Drive the server (`--workers`, default 2) and a bare app (2 workers) on 127.0.0.1; both are stopped at the end.

    Scenarios: the bare endpoint, single evaluations about patients (audited), and batches of 100.
    """
    from accessctl.bench import http_bench
    from accessctl.bench.cli import settings_for
    from accessctl.bench.drivers import wrk_path
    from accessctl.bench.region import prepare_region, read_facts
    from accessctl.bench.report import misses, render_table

    use_wrk = wrk_path() is not None and not python_client
    with tempfile.TemporaryDirectory(prefix="accessctl-bench-http-") as tmp:
        settings = settings_for(ctx, database_url, Path(tmp))
        click.echo(f"preparing the demo region ({users} users) in {settings.database_url_redacted}", err=True)
        prepare_region(settings, users, seed)
        facts = read_facts(settings)
        plan = http_bench.HttpPlan(
            seconds=seconds,
            connections=connections,
            warmup_seconds=min(2.0, seconds / 2),
            use_wrk=use_wrk,
            rounds=rounds,
            workers=workers,
        )
        click.echo(
            f"starting both servers; then {rounds} round(s) of 3 scenarios x {seconds:g} s, "
            f"with {_client_name(use_wrk)}",
            err=True,
        )
        try:
            result = http_bench.run(facts, settings, plan, Path(tmp), seed=seed)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            raise click.ClickException(f"the HTTP bench stopped (both servers are stopped): {exc}") from exc
    rows = http_bench.rows(result)
    result["misses"] = misses(rows)
    result["cpus"] = usable_cores()
    notes = [
        f"{result['users']} users; database {settings.database_url_redacted.split(':', 1)[0]}; "
        f"load generator: {_client_name(use_wrk)}",
        f"{result['cpus']} CPUs: the load generator and the {workers} server worker(s) share them, so absolute "
        "numbers are lower than on a dedicated box; compare against the bare endpoint measured in the same run",
        "single and batch evaluations are all about patients, so each decision waits for its audit commit",
        f"figures are medians of {result['rounds']} round(s); single / bare is each round's share, then its median",
        f"errors/non-2xx: bare {result['bare_errors']}/{result['bare_non_2xx']}, single {result['single_errors']}/"
        f"{result['single_non_2xx']}, batch {result['batch_errors']}/{result['batch_non_2xx']}",
    ]
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(render_table("accessctl bench http", rows, notes))
