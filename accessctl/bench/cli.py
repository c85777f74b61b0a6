"""`accessctl bench` (the engine beside stock Casbin), `bench http` (the server beside a bare app), `bench floor`
(what an audited decision costs, stage by stage), `bench scim`."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from accessctl.bench.floor_cli import floor
from accessctl.bench.http_cli import http
from accessctl.bench.region import prepare_region, read_facts, sqlite_url
from accessctl.bench.report import misses, render_table
from accessctl.bench.scim_cli import scim
from accessctl.demo.population import DEFAULT_SEED, DEFAULT_USERS
from accessctl.settings import Secret, Settings

MIN_USERS = 50


def settings_for(ctx: click.Context, database_url: str | None, data_dir: Path) -> Settings:
    from accessctl.cli import settings_of

    base = settings_of(ctx)
    url = database_url or sqlite_url(str(data_dir))
    return replace(base, data_dir=data_dir, database_url=Secret(url), policies_dir=base.policies_dir.resolve())


def _print(result: dict[str, Any], table: str, as_json: bool) -> None:
    click.echo(json.dumps(result, sort_keys=True) if as_json else table)


@click.group(invoke_without_command=True)
@click.option(
    "--users",
    type=click.IntRange(min=MIN_USERS),
    default=DEFAULT_USERS,
    show_default=True,
    help="Health workers in the demo region the bench creates.",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Demo seed.")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Calls of stock Casbin's enforce, each timed on its own.",
)
@click.option(
    "--requests",
    "requests",
    type=click.IntRange(min=10),
    default=5000,
    show_default=True,
    help="Requests in the decide() mix; each is timed cold once and warm 20 times.",
)
@click.option("--database-url", default=None, help="Use this database (loaded with the demo if empty).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.pass_context
def bench(
    ctx: click.Context, users: int, seed: int, sample: int, requests: int, database_url: str | None, as_json: bool
) -> None:
    """Benchmark the decision engine against stock Casbin on a demo region (a script, not a test).

    Without --database-url it creates a temporary SQLite database, migrates it and loads USERS health workers.
    """
    if ctx.invoked_subcommand is not None:
        return
    from accessctl.bench import engine_bench

    with tempfile.TemporaryDirectory(prefix="accessctl-bench-") as tmp:
        settings = settings_for(ctx, database_url, Path(tmp))
        click.echo(f"preparing the demo region ({users} users) in {settings.database_url_redacted}", err=True)
        prepare_region(settings, users, seed)
        facts = read_facts(settings)
        click.echo(f"timing decide() on {requests} requests and Casbin on {sample} ...", err=True)
        result = engine_bench.run(
            facts, sample=sample, requests=requests, warm_repeats=20, seed=seed, out_dir=Path(tmp) / "casbin"
        )
    rows = engine_bench.rows(result)
    notes = [
        f"{result['users']} users, {result['policy_lines']} p lines, {result['grouping_lines']} g lines, "
        f"casbin loaded in {result['casbin_load_s']:.1f} s",
        "mix (kind:outcome=count): " + ", ".join(f"{k}={v}" for k, v in result["mix"].items()),
        "cold = cache emptied before each call; warm = the same key again; decide() reads the clock each call",
    ]
    result["misses"] = misses(rows)
    _print(result, render_table("accessctl bench: decision engine", rows, notes), as_json)


bench.add_command(http)
bench.add_command(floor)
bench.add_command(scim)
