"""`accessctl demo load`: a synthetic region (organisations, health workers, roles, patients) for demos."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import click

from accessctl.demo.population import DEFAULT_SEED, DEFAULT_USERS, DEMO_DATE, Population
from accessctl.errors import PreconditionFailed
from accessctl.settings import Settings

MIN_USERS = 50


@click.group()
def demo() -> None:
    """Demo data for the region: synthetic organisations, health workers, roles and patients."""


@demo.command("load")
@click.option("--users", type=click.IntRange(min=MIN_USERS), default=DEFAULT_USERS, show_default=True,
              help="Health workers to create; staff, patients and care relations scale with it.")  # fmt: skip
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="Random seed: the same seed (and size and date) always gives the same ids and rows.")  # fmt: skip
@click.option("--patients", type=click.IntRange(min=0), default=None,
              help="Patients to create.  [default: one per two users]")  # fmt: skip
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=DEMO_DATE.isoformat(),
              show_default=True, help="The demo's today: joiners start after it, leavers ended before it.")  # fmt: skip
@click.option("--policies", "policies_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("policies"), show_default=True,
              help="Policy directory: services.yaml, positions.yaml and the role documents.")  # fmt: skip
@click.option("--if-empty", "if_empty", is_flag=True,
              help="Do nothing (exit 0) when the database already holds data, instead of refusing.")  # fmt: skip
@click.pass_context
def load(
    ctx: click.Context,
    users: int,
    seed: int,
    patients: int | None,
    as_of: datetime,
    policies_dir: Path,
    if_empty: bool,
) -> None:
    """Load a synthetic region into an empty, migrated database.

    Creates the service catalogue, the region's 5 health trusts and 66 municipalities (go-live from the
    rollout waves, a few not live yet), 170 GP offices, 140 contract specialists and 340 physiotherapists and
    other practices with their unit trees; USERS health workers with employments; the roles and the role
    assignments the role documents derive from those employments; and patients with synthetic national ids
    (month + 80), care relations and a few patient blocks. Everything is in one transaction: a database that
    already holds rows is refused and nothing is written. Prints the rows per table and the seconds taken.
    """
    from accessctl.cli import settings_of
    from accessctl.demo.policy_inputs import read_policy_inputs
    from accessctl.demo.population import build_population
    from accessctl.demo.region import load_region

    settings = settings_of(ctx)
    if if_empty:
        occupied = asyncio.run(_tables_with_rows(settings))
        if occupied:
            click.echo(f"the database already holds data ({', '.join(occupied[:3])}, ...): demo not loaded", err=True)
            return
    started = time.perf_counter()
    inputs = read_policy_inputs(policies_dir)
    population = build_population(load_region(), inputs, users=users, seed=seed, as_of=as_of.date(), patients=patients)
    built = time.perf_counter()
    counts = asyncio.run(_load(settings, population))
    done = time.perf_counter()
    width = max(len(name) for name in counts)
    for name, count in counts.items():
        click.echo(f"{name:<{width}}  {count:>8}")
    if inputs.policy is None:
        click.echo(f"no role documents in {policies_dir}: no roles or role assignments loaded", err=True)
    click.echo(
        f"loaded seed {seed} as of {as_of.date()} into {settings.database_url_redacted} in {done - started:.1f} s "
        f"(build {built - started:.1f} s, insert {done - built:.1f} s)"
    )


async def _tables_with_rows(settings: Settings) -> list[str]:
    from accessctl.db import Database
    from accessctl.demo.load import tables_with_rows

    database = Database.from_settings(settings)
    try:
        async with database.engine.connect() as conn:
            return await tables_with_rows(conn)
    finally:
        await database.dispose()


async def _load(settings: Settings, population: Population) -> dict[str, int]:
    from accessctl import migrate
    from accessctl.db import Database
    from accessctl.demo.load import load_population

    database = Database.from_settings(settings)
    try:
        at, head = await migrate.current_revision(database.engine), migrate.head_revision()
        if at != head:
            raise PreconditionFailed(
                f"database at {at or 'no revision'}, migrations at {head}; run `accessctl db upgrade` first"
            )
        async with database.engine.begin() as conn:
            return await load_population(conn, population)
    finally:
        await database.dispose()
