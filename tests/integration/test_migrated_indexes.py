"""The real migrations create every index the models declare, expression indexes included, on this run's database kind.

`alembic check` cannot guard these: autogenerate does not compare expression indexes on SQLite, and a later migration
whose batch recreates `users` there drops lower(user_name) and lower(email) without a word. So the indexes are read
from the database's own catalog (sqlite_master, pg_indexes), which lists expression indexes as well.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from typing import NamedTuple

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from accessctl import migrate
from accessctl.db import make_engine
from accessctl.models import Base
from tests.databases import fresh_database


class Migrated(NamedTuple):
    table: str
    definition: str


@pytest.fixture(scope="module")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of this run's kind, taken to head by the real migrations alone."""
    server_url = os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None
    with fresh_database(server_url, tmp_path_factory.mktemp("indexes")) as url:
        migrate.upgrade(url, quiet=True)
        yield url


@pytest.fixture
async def migrated(migrated_url: str) -> AsyncIterator[AsyncConnection]:
    engine = make_engine(migrated_url)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def _indexes(conn: AsyncConnection) -> dict[str, Migrated]:
    """Every index in the database by name, with its table and its CREATE INDEX statement."""
    if conn.dialect.name == "postgresql":
        query = "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        # Autoindexes behind UNIQUE and PRIMARY KEY constraints have no statement; the models name none of them.
        query = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    rows = (await conn.exec_driver_sql(query)).all()
    return {name: Migrated(table, definition) for name, table, definition in rows}


def _key(definition: str) -> str:
    """The indexed expression of a CREATE INDEX statement, without quotes, spacing or PostgreSQL's casts to text."""
    key = definition[definition.index("(", definition.upper().index(" ON ")) :]
    return re.sub(r"::[a-z ]+|[\"\s]", "", key)


def _declared() -> list[tuple[str, str, bool]]:
    return sorted(
        (str(index.name), table.name, bool(index.unique))
        for table in Base.metadata.tables.values()
        for index in table.indexes
    )


async def test_migrations_create_every_index_the_models_declare(migrated: AsyncConnection) -> None:
    declared = _declared()
    assert {"ix_users_lower_user_name", "ix_users_lower_email"} <= {name for name, _, _ in declared}
    indexes = await _indexes(migrated)
    missing = [(name, table) for name, table, _ in declared if indexes.get(name, Migrated("", "")).table != table]
    assert not missing, f"declared by the models but not created by the migrations: {missing}"
    wrong_uniqueness = [
        name for name, _, unique in declared if ("UNIQUE" in indexes[name].definition.upper()) != unique
    ]
    assert not wrong_uniqueness, f"unique in one of models and migrations only: {wrong_uniqueness}"


@pytest.mark.parametrize(
    ("index", "column"), [("ix_users_lower_user_name", "user_name"), ("ix_users_lower_email", "email")]
)
async def test_the_lower_indexes_are_on_lower_of_their_column(
    migrated: AsyncConnection, index: str, column: str
) -> None:
    migrated_index = (await _indexes(migrated)).get(index)
    assert migrated_index is not None, f"{index} is missing"
    assert migrated_index.table == "users"
    # SQLite keeps the statement as written: (lower(user_name)); PostgreSQL's reads (lower((user_name)::text)).
    assert re.fullmatch(rf"\(lower\(\(?{column}\)?\)\)", _key(migrated_index.definition)), migrated_index.definition
