"""`accessctl bench scim`: latency of single-user SCIM calls to the real server on loopback, per operation."""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from pathlib import Path

import click
import httpx

from accessctl.bench.machine import usable_cores
from accessctl.demo.population import DEFAULT_SEED, DEFAULT_USERS


@click.command("scim")
@click.option(
    "--users",
    type=click.IntRange(min=50),
    default=DEFAULT_USERS,
    show_default=True,
    help="Health workers in the demo region the bench loads (when the database is empty).",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Demo seed; also picks the users.")
@click.option(
    "--calls",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Timed calls of each operation, each on a user of its own (after 3 untimed warm-up calls of each).",
)
@click.option(
    "--clients",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Concurrent SCIM clients, each on its own keep-alive connection.",
)
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Server worker processes.")
@click.option(
    "--database-url",
    default=None,
    help="Serve from this database (created if missing, loaded with the demo when empty).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.pass_context
def scim(
    ctx: click.Context,
    users: int,
    seed: int,
    calls: int,
    clients: int,
    workers: int,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Time GET by id, GET by userName filter, POST (joiner), PUT (mover), PATCH and DELETE (leaver) over SCIM.

    The server (`accessctl serve`) runs on 127.0.0.1 and is stopped at the end. Every call works on a user no
    other call touches; the operations are shuffled together. The calls change the database: joiners, movers
    and leavers stay, and the leavers count towards the mass-change guard's window (a second run on the same
    database within it may be stopped there), so use a fresh database.
    """
    from accessctl.bench import scim_bench
    from accessctl.bench.cli import settings_for
    from accessctl.bench.region import prepare_region
    from accessctl.bench.scim_calls import read_staff

    plan = scim_bench.ScimPlan(calls=calls, clients=clients, workers=workers)
    with tempfile.TemporaryDirectory(prefix="accessctl-bench-scim-") as tmp:
        settings = settings_for(ctx, database_url, Path(tmp))
        click.echo(f"preparing the demo region ({users} users) in {settings.database_url_redacted}", err=True)
        prepare_region(settings, users, seed)
        staff = read_staff(settings, plan.users_needed, seed)
        if len(staff.users) < plan.users_needed:
            raise click.BadParameter(
                f"{calls} calls need {plan.users_needed} active users and the region has {staff.active}; "
                "lower --calls or raise --users",
                param_hint="--calls",
            )
        click.echo(
            f"starting the server ({workers} workers); then {calls} calls of each of 6 operations "
            f"from {clients} clients",
            err=True,
        )
        try:
            result = scim_bench.run(staff, settings, plan, Path(tmp), seed=seed, tag=uuid.uuid4().hex[:8])
        except (RuntimeError, OSError, subprocess.SubprocessError, httpx.HTTPError) as exc:
            raise click.ClickException(
                f"the SCIM bench stopped (the server is stopped): {type(exc).__name__} {exc}"
            ) from exc
    result["misses"] = scim_bench.misses(result)
    result["database"] = settings.database_url_redacted.split(":", 1)[0]
    result["cpus"] = usable_cores()
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
        return
    load_before, load_after = result["load_average_1m"]
    notes = [
        f"{result['users']} active users; database {result['database']}; {clients} clients, "
        f"{workers} server workers, {result['seconds']:.1f} s for {result['scim_count']} timed calls",
        f"{result['cpus']} CPUs, shared by the clients and the server; 1-minute load average "
        f"{load_before:.1f} before the timed calls, {load_after:.1f} after",
        "each call is timed at the client, from sending the request to the last byte of the answer; writes "
        "answer only after the commit, the audit record and this worker's engine catching up",
        "PATCH alternates replacing name.familyName and adding an employment; PUT ends the current employments "
        "and adds one in another unit",
    ]
    click.echo(scim_bench.table(result, notes))
