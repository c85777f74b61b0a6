"""`accessctl demo load` end to end: rows in the migrated database, foreign keys whole, a second load refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl import migrate
from accessctl.cli import main
from accessctl.demo.load import DatabaseNotEmpty, load_population
from accessctl.demo.policy_inputs import read_policy_inputs
from accessctl.demo.population import Population, build_population
from accessctl.demo.region import load_region
from accessctl.models import Base

POLICIES = Path(__file__).resolve().parents[2] / "policies"

# Rows whose reference does not resolve: each query must return 0.
DANGLING = {
    "units without organisation": "SELECT count(*) FROM units u LEFT JOIN organisations o"
    " ON o.id = u.organisation_id WHERE o.id IS NULL",
    "employments without user or unit": "SELECT count(*) FROM employments e LEFT JOIN users s ON s.id = e.user_id"
    " LEFT JOIN units u ON u.id = e.unit_id WHERE s.id IS NULL OR u.id IS NULL",
    "assignments without an employment in the unit": "SELECT count(*) FROM role_assignments a WHERE NOT EXISTS"
    " (SELECT 1 FROM employments e WHERE e.user_id = a.user_id AND e.unit_id = a.unit_id)",
    "care relations to nobody": "SELECT count(*) FROM care_relations c LEFT JOIN users s ON s.id = c.user_id"
    " LEFT JOIN units u ON u.id = c.unit_id WHERE s.id IS NULL AND u.id IS NULL",
    "unit services outside the catalogue": "SELECT count(*) FROM unit_services us LEFT JOIN services s"
    " ON s.id = us.service_id WHERE s.id IS NULL",
}


@pytest.fixture(scope="module")
def small_population() -> Population:
    return build_population(load_region(), read_policy_inputs(POLICIES), users=500)


async def test_load_writes_every_row_with_whole_references(
    connection: AsyncConnection, small_population: Population
) -> None:
    counts = await load_population(connection, small_population)

    for name, expected in counts.items():
        table = Base.metadata.tables[name]
        assert (await connection.execute(select(func.count()).select_from(table))).scalar_one() == expected, name
    assert counts["users"] == 500 and counts["organisations"] == 721
    assert counts["roles"] > 0 and counts["role_assignments"] > 0 and counts["care_relations"] > 0
    for what, query in DANGLING.items():
        assert (await connection.execute(text(query))).scalar_one() == 0, what


async def test_loaded_timestamps_read_back_as_aware_utc(
    connection: AsyncConnection, small_population: Population
) -> None:
    await load_population(connection, small_population)
    employments = Base.metadata.tables["employments"]
    row = (await connection.execute(select(employments.c.valid_from).limit(1))).one()
    assert row.valid_from.utcoffset() is not None and row.valid_from.utcoffset().total_seconds() == 0


async def test_a_load_on_postgresql_leaves_the_planner_statistics_of_what_it_loaded(
    connection: AsyncConnection, small_population: Population
) -> None:
    if connection.dialect.name != "postgresql":
        pytest.skip("SQLite plans without ANALYZE")
    await load_population(connection, small_population)
    analyzed = text("SELECT reltuples FROM pg_class WHERE relname = 'users'")
    assert (await connection.execute(analyzed)).scalar_one() == 500


async def test_second_load_is_refused_before_writing(connection: AsyncConnection, small_population: Population) -> None:
    await load_population(connection, small_population)
    users = Base.metadata.tables["users"]
    with pytest.raises(DatabaseNotEmpty) as refused:
        await load_population(connection, small_population)
    assert "users" in refused.value.tables
    assert (await connection.execute(select(func.count()).select_from(users))).scalar_one() == 500


def test_command_loads_then_refuses_a_non_empty_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    migrate.upgrade(url, quiet=True)
    runner = CliRunner()
    env = {"ACCESSCTL_DATABASE_URL": url, "ACCESSCTL_DATA_DIR": str(tmp_path)}
    args = ["demo", "load", "--users", "200", "--policies", str(POLICIES)]

    loaded = runner.invoke(main, args, env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "users" in loaded.stdout and "200" in loaded.stdout and "loaded seed 42" in loaded.stdout

    refused = runner.invoke(main, args, env=env)
    assert refused.exit_code == 1
    assert "not empty" in refused.stderr and refused.stdout == ""


def test_help_explains_the_command() -> None:
    result = CliRunner().invoke(main, ["demo", "load", "--help"])
    assert result.exit_code == 0
    assert "--users" in result.output and "--seed" in result.output and "empty" in result.output
